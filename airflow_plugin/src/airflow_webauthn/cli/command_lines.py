"""``airflow webauthn command-lines``: the command lines (airflowctl) signed in as a person with a
one-time code, and signing one out. Signed out, a command line's Airflow session is refused at its next
re-check (within ``recheck_interval_seconds`` + ``unverified_grace_seconds``), as when the person does it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_webauthn.cli.commands import _admin, _output, _path, _user_id, command_line_table

if TYPE_CHECKING:
    import argparse


def command_lines_list(args: argparse.Namespace) -> None:
    user = _admin("GET", _path("users", _user_id(args.user)))
    lines = user.get("commandLines") or []
    _output(args, lines, command_line_table(lines))


def command_lines_revoke(args: argparse.Namespace) -> None:
    user_id = _user_id(args.user)
    line = _admin("DELETE", _path("users", user_id, "command-lines", args.id))
    where = f"from {line.get('usedFrom') or 'an unknown address'}, {line.get('client') or 'unknown client'}"
    done = (
        f"command line {args.id} of {args.user} signed out ({where}); Airflow refuses it at its next re-check"
    )
    _output(args, line, [done])
