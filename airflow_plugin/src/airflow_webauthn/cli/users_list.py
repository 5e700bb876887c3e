"""``airflow users list``: the people who sign in through this auth manager, as Airflow's own list commands
show things (``--output table|json|yaml|plain`` through Airflow's ``AirflowConsole``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_webauthn.cli.commands import _admin

if TYPE_CHECKING:
    import argparse


def _row(person: dict[str, Any]) -> dict[str, Any]:
    from airflow_webauthn.services.access_review import passkey_summary

    keys = passkey_summary(person.get("passkeys") or [])
    return {
        "username": person["username"],
        "name": person.get("displayName"),
        "role": person["airflowRole"] or "no access",
        "teams": person["teams"],
        "dag_rules": person["dagRules"],
        "groups": person.get("groups") or [],
        "status": person["status"],
        "identity_provider": person.get("identityProvider") or "local",
        "passkeys": keys["count"],
        "passkey_models": keys["models"],
        "device_bound": keys["deviceBound"],
        "backed_up": keys["backedUp"],
        "compliant": person["compliance"]["status"].replace("_", " "),
        "last_sign_in": person.get("lastSignInAt") or "never",
        "last_sign_in_method": person.get("lastSignInMethod"),
        "created": person.get("createdAt"),
    }


def users_list(args: argparse.Namespace) -> None:
    from airflow.cli.simple_table import AirflowConsole

    from airflow_webauthn.cli.report import access_resolver

    resolver = access_resolver()
    people = _admin("GET", "/reports/people") or []
    rows = [_row({**person, **resolver.describe(person.get("groups") or [])}) for person in people]
    AirflowConsole().print_as(data=rows, output=args.output)
