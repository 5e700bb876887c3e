"""``airflow webauthn report access-review``: the access review in one command (HTML, CSV or JSON)."""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow_webauthn.cli.commands import CommandError, _admin

if TYPE_CHECKING:
    import argparse

    from airflow_webauthn.services.access_review import AccessResolver


def access_resolver() -> AccessResolver:
    """The auth manager's own role resolution (role_mapping, teams, dag_access) on this deployment."""
    from airflow_webauthn.auth_manager import WebAuthnAuthManager
    from airflow_webauthn.services.access_review import AccessResolver

    manager = WebAuthnAuthManager()
    return AccessResolver(
        role_mapping=manager.settings.role_mapping,
        team_roles=manager.team_roles,
        dag_access=manager.dag_access,
    )


def _since(text: str | None) -> str | None:
    """A date (the start of that day, UTC) or a date-time with its offset; refused here with a clear line."""
    if text is None:
        return None
    try:
        if len(text) == 10:
            return date.fromisoformat(text).isoformat()
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as err:
        raise CommandError(f"--since {text!r} is not a date (2026-10-01) or an ISO 8601 date-time") from err
    if parsed.tzinfo is None:
        raise CommandError(f"--since {text!r} needs a time zone (e.g. 2026-10-01T00:00:00Z), or give a date")
    return parsed.isoformat()


def access_review(args: argparse.Namespace) -> None:
    from airflow_webauthn.services.access_review import build_review, review_csv

    params: dict[str, Any] = {"dormantDays": args.dormant_days}
    if since := _since(args.since):
        params["since"] = since
    report = _admin("GET", "/reports/access-review", params=params)
    review = build_review(report, access_resolver())
    if args.format == "json":
        text = json.dumps(review, indent=2, sort_keys=True) + "\n"
    elif args.format == "csv":
        text = review_csv(review)
    else:
        from airflow_webauthn.services.access_review_html import render_html

        text = render_html(review)
    if not args.out:
        sys.stdout.write(text)
        return
    try:
        Path(args.out).write_text(text, encoding="utf-8")
    except OSError as err:
        raise CommandError(f"cannot write {args.out}: {err.strerror}") from err
    head = review["auditChain"]
    state = "intact" if head["intact"] else "BROKEN"
    print(
        f"access review written to {args.out} ({args.format}): {len(review['people'])} people, "
        f"{len(review['serviceAccounts'])} service accounts; audit chain {state}"
    )
