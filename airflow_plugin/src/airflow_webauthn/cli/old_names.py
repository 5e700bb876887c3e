"""Old command names (``invites``, ``service-accounts``), kept working and out of --help.

Airflow hides only action commands (``ActionCommand.hide``), not groups, so each old group name is a hidden
action that takes the rest of the command line and runs it under the new name. The rest is parsed by the
commands' own parser (``cli/spec.py``), the same for ``airflow webauthn`` and ``airflow-webauthn``.
"""

from __future__ import annotations

import argparse


def _run_as(new_name: str, rest: list[str]) -> None:
    from airflow_webauthn.cli.definition import WEBAUTHN_COMMANDS
    from airflow_webauthn.cli.spec import add_commands

    parser = argparse.ArgumentParser(prog=f"webauthn {new_name}")
    add_commands(parser, WEBAUTHN_COMMANDS)
    args = parser.parse_args([new_name, *rest])
    args.func(args)


def invites(args: argparse.Namespace) -> None:
    _run_as("invite", args.rest)


def service_accounts(args: argparse.Namespace) -> None:
    _run_as("service-account", args.rest)
