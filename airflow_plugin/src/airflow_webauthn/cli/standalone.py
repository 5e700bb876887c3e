"""``airflow-webauthn ...``: the ``airflow webauthn ...`` commands without importing Airflow.

Airflow's CLI imports most of Airflow before it runs a command (5-7 s); these commands only call the auth
service's admin API. Same commands, options and output (one definition: ``cli/definition.py``), and the
same configuration: ``[webauthn_auth_manager]`` from ``AIRFLOW__WEBAUTHN_AUTH_MANAGER__*`` and airflow.cfg,
read as Airflow reads them (``airflow_webauthn.airflow_cfg``) and validated by the same code
(``airflow_webauthn.config``).
``report access-review`` resolves Airflow roles, so it still loads Airflow when it runs.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

from airflow_webauthn.airflow_cfg import AirflowCfg
from airflow_webauthn.cli.definition import WEBAUTHN_COMMANDS, WEBAUTHN_HELP
from airflow_webauthn.cli.spec import add_commands
from airflow_webauthn.config import WebAuthnConfigError, read_options_from

if TYPE_CHECKING:
    from collections.abc import Sequence

PROG = "airflow-webauthn"


def build_parser() -> argparse.ArgumentParser:
    description = f"{WEBAUTHN_HELP}. The commands of `airflow webauthn`, started without Airflow."
    parser = argparse.ArgumentParser(prog=PROG, description=description)
    add_commands(parser, WEBAUTHN_COMMANDS)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    from airflow_webauthn.cli.commands import CommandError

    args = build_parser().parse_args(argv)
    try:
        read_options_from(AirflowCfg.of_this_process().get)
    except WebAuthnConfigError as err:
        raise CommandError(str(err), status=2) from err
    try:
        args.func(args)
    except BrokenPipeError:
        # The reader went away (`airflow-webauthn audit export | head`): stop quietly, as a shell tool does.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise SystemExit(1) from None
