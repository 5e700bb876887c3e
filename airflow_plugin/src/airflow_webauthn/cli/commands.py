"""Implementations of ``airflow webauthn ...``; each is one admin API call (plus a lookup by name)."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from airflow_webauthn.paths import enroll_url
from airflow_webauthn.services.errors import ServiceRefusedError, ServiceUnavailableError
from airflow_webauthn.services.gateway import CredentialsMissingError, ServiceGateway

if TYPE_CHECKING:
    import argparse
    from collections.abc import Iterable


class CommandError(SystemExit):
    """Ends the command with a one-line message on stderr and exit status 1."""

    def __init__(self, message: str) -> None:
        print(f"error: {message}", file=sys.stderr)
        super().__init__(1)


def make_gateway() -> ServiceGateway:
    """The CLI's own gateway, with ``cli_credentials`` (never the api-server's ``service_credentials``,
    which may only read session status); tests replace this function."""
    from airflow_webauthn.config import get_settings

    settings = get_settings()
    return ServiceGateway(
        base_url=settings.service_url,
        timeout_seconds=settings.http_timeout_seconds,
        credentials=settings.cli_credentials,
        credentials_setting="cli_credentials",
    )


def _admin(method: str, path: str, **kwargs: Any) -> Any:
    gateway = make_gateway()

    async def call() -> Any:
        try:
            return await gateway.admin(method, path, **kwargs)
        finally:
            await gateway.aclose()

    try:
        return asyncio.run(call())
    except CredentialsMissingError as err:
        raise CommandError(
            f"{err}; set it (or AIRFLOW__WEBAUTHN_AUTH_MANAGER__CLI_CREDENTIALS) to an admin "
            "service account of the auth service"
        ) from err
    except ServiceUnavailableError as err:
        raise CommandError(f"the auth service is unavailable ({err})") from err
    except ServiceRefusedError as err:
        raise CommandError(
            f"the auth service refused: {err.message} ({err.status_code} {err.error})"
        ) from err


def _output(args: argparse.Namespace, data: Any, lines: Iterable[str]) -> None:
    if getattr(args, "json", False):
        print(json.dumps(data, indent=2, sort_keys=True))
    else:
        for line in lines:
            print(line)


def _groups(text: str | None) -> list[str] | None:
    return [group.strip() for group in text.split(",") if group.strip()] if text else None


def _find(items: Any, wanted: str, keys: tuple[str, ...], what: str) -> dict[str, Any]:
    matches = [item for item in items or [] if any(item.get(key) == wanted for key in keys)]
    if not matches:
        raise CommandError(f"no {what} matches {wanted!r}")
    return dict(matches[0])


def _user_id(wanted: str) -> str:
    return str(_find(_admin("GET", "/users"), wanted, ("username", "id"), "user")["id"])


def _account_id(wanted: str) -> str:
    accounts = _admin("GET", "/service-accounts")
    return str(_find(accounts, wanted, ("id", "clientId", "name"), "service account")["id"])


def users_list(args: argparse.Namespace) -> None:
    users = _admin("GET", "/users") or []
    lines = [
        f"{u.get('username')}\t{u.get('id')}\t{','.join(u.get('groups') or [])}\t"
        f"{'disabled' if u.get('disabled') else 'active'}\tlast login: {u.get('lastLoginAt') or 'never'}"
        for u in users
    ]
    _output(args, users, lines or ["(no users)"])


def _set_user_state(args: argparse.Namespace, action: str) -> None:
    user_id = _user_id(args.user)
    result = _admin("POST", f"/users/{quote(user_id, safe='')}/{action}")
    _output(
        args, result if result is not None else {"id": user_id, "action": action}, [f"{args.user}: {action}d"]
    )


def users_disable(args: argparse.Namespace) -> None:
    _set_user_state(args, "disable")


def users_enable(args: argparse.Namespace) -> None:
    _set_user_state(args, "enable")


def invites_create(args: argparse.Namespace) -> None:
    body: dict[str, Any] = {"username": args.username}
    if args.display_name:
        body["displayName"] = args.display_name
    if groups := _groups(args.groups):
        body["groups"] = groups
    if args.ttl_seconds:
        body["ttlSeconds"] = args.ttl_seconds
    invite = dict(_admin("POST", "/invites", json=body))
    invite["enrollUrl"] = enroll_url(str(invite.get("token", "")))
    _output(
        args,
        invite,
        [
            f"Invite for {args.username} (expires {invite.get('expiresAt')}):",
            invite.get("url") or invite["enrollUrl"],
        ],
    )


def service_accounts_create(args: argparse.Namespace) -> None:
    body: dict[str, Any] = {"name": args.name}
    if groups := _groups(args.groups):
        body["groups"] = groups
    account = _admin("POST", "/service-accounts", json=body)
    _output(
        args,
        account,
        [
            f"Service account {account.get('name')} ({account.get('id')})",
            f"client_id:     {account.get('clientId')}",
            f"client_secret: {account.get('clientSecret')}",
            "The secret is shown once; store it now.",
        ],
    )


def service_accounts_list(args: argparse.Namespace) -> None:
    accounts = _admin("GET", "/service-accounts") or []
    lines = [
        f"{a.get('name')}\t{a.get('id')}\t{a.get('clientId')}\t{','.join(a.get('groups') or [])}\t"
        f"{'disabled' if a.get('disabled') else 'active'}"
        for a in accounts
    ]
    _output(args, accounts, lines or ["(no service accounts)"])


def service_accounts_disable(args: argparse.Namespace) -> None:
    account_id = _account_id(args.account)
    result = _admin("POST", f"/service-accounts/{quote(account_id, safe='')}/disable")
    _output(
        args,
        result if result is not None else {"id": account_id, "disabled": True},
        [f"{args.account}: disabled"],
    )


def service_accounts_rotate(args: argparse.Namespace) -> None:
    account_id = _account_id(args.account)
    secret = _admin("POST", f"/service-accounts/{quote(account_id, safe='')}/rotate-secret")
    _output(
        args,
        secret,
        [f"client_id:     {secret.get('clientId')}", f"client_secret: {secret.get('clientSecret')}"],
    )


def keys_rotate(args: argparse.Namespace) -> None:
    result = _admin("POST", "/keys/rotate")
    _output(args, result, [f"Signing key rotated: {json.dumps(result)}"])


def audit_export(args: argparse.Namespace) -> None:
    params = {
        key: value
        for key, value in (("since", args.since), ("until", args.until), ("type", args.event_type))
        if value
    }
    text = str(_admin("GET", "/audit/export", params=params or None) or "")
    sys.stdout.write(text if text.endswith("\n") or not text else text + "\n")
