"""Old command names (``airflow webauthn invites``, ``service-accounts``), kept working and out of --help.

Airflow hides only action commands (``ActionCommand.hide``), not groups, so each old group name is a hidden
action that takes the rest of the command line and runs it under the new name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse


def _run_as(new_name: str, rest: list[str]) -> None:
    from airflow.cli.cli_parser import get_parser

    args = get_parser().parse_args(["webauthn", new_name, *rest])
    args.func(args)


def invites(args: argparse.Namespace) -> None:
    _run_as("invite", args.rest)


def service_accounts(args: argparse.Namespace) -> None:
    _run_as("service-account", args.rest)
