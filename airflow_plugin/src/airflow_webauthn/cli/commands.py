"""Implementations of ``airflow webauthn ...``; each is one admin API call (plus a lookup by name).

The command and option names are the service CLI's (``npm run -s cli -- ...``), so one habit serves
both. People get aligned tables, scripts get ``--json``; every failure is one line on stderr and exit
status 1, never a traceback.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from airflow_webauthn.paths import enroll_url
from airflow_webauthn.services.errors import ServiceRefusedError, ServiceUnavailableError
from airflow_webauthn.services.gateway import CredentialsMissingError, ServiceGateway

if TYPE_CHECKING:
    import argparse
    from collections.abc import Iterable, Sequence


class CommandError(SystemExit):
    """Ends the command with a one-line message on stderr and exit status 1 (refused or failed), or 2
    (configuration), as the service CLI does."""

    def __init__(self, message: str, *, status: int = 1) -> None:
        print(f"error: {' '.join(message.split())}", file=sys.stderr)
        super().__init__(status)


def make_gateway() -> ServiceGateway:
    """The CLI's own gateway, with ``cli_credentials`` (never the api-server's ``service_credentials``,
    which may only read session status); tests replace this function."""
    from airflow_webauthn.config import WebAuthnConfigError, get_settings

    try:
        settings = get_settings()
    except WebAuthnConfigError as err:
        # The message lists every problem on its own line; one line is what a terminal user reads.
        problems = "; ".join(line.strip() for line in str(err).splitlines()[1:] if line.strip())
        # Without AIRFLOW_HOME Airflow reads ~/airflow/airflow.cfg: usually not the one meant.
        home_hint = (
            "" if os.environ.get("AIRFLOW_HOME") else "; is AIRFLOW_HOME set? the demo's is data/airflow"
        )
        raise CommandError(
            f"{problems or err} (set it in airflow.cfg or as "
            f"AIRFLOW__WEBAUTHN_AUTH_MANAGER__<NAME>{home_hint})",
            status=2,
        ) from err
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


# ---- output ----

Cell = str | int | bool | None | list[str]


def _cell(value: Cell) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, list):
        return ",".join(value) or "-"
    return str(value)


def _table(headers: Sequence[str], rows: Iterable[Sequence[Cell]]) -> list[str]:
    """An aligned table (the service CLI's layout); ``(none)`` when there is nothing to show."""
    text = [[_cell(value) for value in row] for row in rows]
    if not text:
        return ["(none)"]
    widths = [max(len(header), *(len(row[i]) for row in text)) for i, header in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c if i == len(cells) - 1 else c.ljust(widths[i]) for i, c in enumerate(cells)
        ).rstrip()

    return [line(headers), *(line(row) for row in text)]


def _output(args: argparse.Namespace, data: Any, lines: Iterable[str]) -> None:
    if getattr(args, "json", False):
        print(json.dumps(data, indent=2, sort_keys=True))
    else:
        for line in lines:
            print(line)


def _list(text: str | None) -> list[str] | None:
    return [item.strip() for item in text.split(",") if item.strip()] if text else None


def _path(*parts: str) -> str:
    return "/" + "/".join(quote(part, safe="") for part in parts)


def _status(disabled: Any) -> str:
    return "disabled" if disabled else "enabled"


# ---- lookups (the service resolves usernames and client ids too; a lookup gives a clear "no such") ----


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


# ---- users ----


def users_list(args: argparse.Namespace) -> None:
    users = _admin("GET", "/users") or []
    rows = [
        (u.get("username"), u.get("displayName"), u.get("groups") or [], _status(u.get("disabled")),
         u.get("lastLoginAt") or "never", u.get("idp") or "local", u.get("lastIdpLoginAt") or "-",
         u.get("id"))
        for u in users
    ]  # fmt: skip
    headers = ("USERNAME", "DISPLAY_NAME", "GROUPS", "STATUS", "LAST_LOGIN", "IDP", "LAST_IDP_LOGIN", "ID")
    _output(args, users, _table(headers, rows))


def identity_provider_line(user: dict[str, Any]) -> str:
    """Where a person signs in: their identity provider (its issuer) and when they last did, or local."""
    if not user.get("idp"):
        return "identity provider: none (local person, passkey only)"
    return f"identity provider: {user['idp']}; last sign-in there: {user.get('lastIdpLoginAt') or 'never'}"


def passkey_status(passkey: dict[str, Any]) -> str:
    """One phrase for a passkey's state; a flagged one says why, so the admin can review it."""
    if passkey.get("revokedAt"):
        return "revoked"
    if passkey.get("flaggedAt"):
        return f"flagged ({passkey.get('flagReason') or 'no reason recorded'}, {passkey['flaggedAt']})"
    return "active"


def _passkey_table(passkeys: Iterable[dict[str, Any]]) -> list[str]:
    rows = [
        (p.get("id"), p.get("label"), p.get("authenticator"), p.get("createdAt"), p.get("lastUsedAt"),
         passkey_status(p))
        for p in passkeys
    ]  # fmt: skip
    return _table(("PASSKEY_ID", "LABEL", "AUTHENTICATOR", "CREATED", "LAST_USED", "STATUS"), rows)


def command_line_table(lines: Iterable[dict[str, Any]]) -> list[str]:
    """The command lines signed in as a person (airflowctl with a one-time code): where from, which client."""
    rows = [
        (c.get("id"), c.get("usedAt"), c.get("lastUsedAt") or c.get("usedAt"), c.get("usedFrom"),
         c.get("client"))
        for c in lines
    ]  # fmt: skip
    return _table(("COMMAND_LINE_ID", "SIGNED_IN", "LAST_USED", "FROM", "CLIENT"), rows)


def users_show(args: argparse.Namespace) -> None:
    user = _admin("GET", _path("users", _user_id(args.user)))
    summary = (
        f"{user.get('username')} ({user.get('displayName') or '-'}) {_status(user.get('disabled'))}; "
        f"groups: {_cell(user.get('groups') or [])}; last login: {user.get('lastLoginAt') or 'never'}"
    )
    lines = [summary, identity_provider_line(user), *_passkey_table(user.get("passkeys") or [])]
    lines += ["command lines signed in:", *command_line_table(user.get("commandLines") or [])]
    _output(args, user, lines)


def _set_user_state(args: argparse.Namespace, action: str) -> None:
    user = _admin("POST", _path("users", _user_id(args.user), action))
    _output(args, user, [f"user {args.user}: {action}d"])


def users_disable(args: argparse.Namespace) -> None:
    _set_user_state(args, "disable")


def users_enable(args: argparse.Namespace) -> None:
    _set_user_state(args, "enable")


def users_set_groups(args: argparse.Namespace) -> None:
    groups = _list(args.groups) or []
    user = _admin("PATCH", _path("users", _user_id(args.user)), json={"groups": groups})
    _output(args, user, [f"user {user.get('username')} groups: {_cell(user.get('groups') or [])}"])


# ---- passkeys ----


def passkeys_list(args: argparse.Namespace) -> None:
    passkeys = _admin("GET", _path("users", _user_id(args.user), "passkeys")) or []
    _output(args, passkeys, _passkey_table(passkeys))


def passkeys_revoke(args: argparse.Namespace) -> None:
    passkey = _admin("DELETE", _path("passkeys", args.id))
    _output(args, passkey, [f"passkey {args.id} ({passkey.get('label')}) revoked"])


def passkeys_unflag(args: argparse.Namespace) -> None:
    passkey = _admin("POST", _path("passkeys", args.id, "unflag"))
    _output(args, passkey, [f"passkey {args.id} ({passkey.get('label')}) unflagged: it signs in again"])


# ---- invites ----


def invite_create(args: argparse.Namespace) -> None:
    body: dict[str, Any] = {"username": args.username}
    if args.display_name:
        body["displayName"] = args.display_name
    if groups := _list(args.groups):
        body["groups"] = groups
    if args.ttl_seconds:
        body["ttlSeconds"] = args.ttl_seconds
    invite = dict(_admin("POST", "/invites", json=body))
    invite["enrollUrl"] = enroll_url(str(invite.get("token", "")))
    _output(
        args,
        invite,
        [
            f"Invite for {args.username}, valid until {invite.get('expiresAt')}. "
            "Send this link (it is shown only once):",
            invite.get("url") or invite["enrollUrl"],
        ],
    )


def invite_list(args: argparse.Namespace) -> None:
    invites = _admin("GET", "/invites") or []
    rows = [
        (i.get("id"), i.get("username"), i.get("state"), i.get("expiresAt"), i.get("groups") or [],
         i.get("createdByName") or i.get("createdBy"))
        for i in invites
    ]  # fmt: skip
    _output(args, invites, _table(("ID", "USERNAME", "STATE", "EXPIRES", "GROUPS", "CREATED_BY"), rows))


def invite_revoke(args: argparse.Namespace) -> None:
    invite = _admin("DELETE", _path("invites", args.id))
    _output(args, invite, [f"invite {args.id} revoked"])


# ---- service accounts ----


def _secret_lines(account: dict[str, Any]) -> list[str]:
    return [
        f"service account {account.get('name')} (groups: {_cell(account.get('groups') or [])}; "
        f"scopes: {_cell(account.get('scopes') or [])})",
        f"client_id:     {account.get('clientId')}",
        f"client_secret: {account.get('clientSecret')}",
        "The secret is shown only now: store it in a secret manager.",
    ]


def service_account_create(args: argparse.Namespace) -> None:
    body: dict[str, Any] = {"name": args.name}
    if groups := _list(args.groups):
        body["groups"] = groups
    if scopes := _list(args.scopes):
        body["scopes"] = scopes
    if args.agent:
        body["agent"] = True
    account = _admin("POST", "/service-accounts", json=body)
    _output(args, account, _secret_lines(account))


def service_account_list(args: argparse.Namespace) -> None:
    accounts = _admin("GET", "/service-accounts") or []
    rows = [
        (a.get("name"), a.get("clientId"), "agent" if a.get("agent") else "service", a.get("groups") or [],
         a.get("scopes") or [], _status(a.get("disabled")), a.get("secretRotatedAt"))
        for a in accounts
    ]  # fmt: skip
    headers = ("NAME", "CLIENT_ID", "KIND", "GROUPS", "SCOPES", "STATUS", "SECRET_ROTATED")
    _output(args, accounts, _table(headers, rows))


def _set_account_state(args: argparse.Namespace, action: str) -> None:
    account = _admin("POST", _path("service-accounts", _account_id(args.account), action))
    _output(args, account, [f"service account {args.account}: {action}d"])


def service_account_disable(args: argparse.Namespace) -> None:
    _set_account_state(args, "disable")


def service_account_enable(args: argparse.Namespace) -> None:
    _set_account_state(args, "enable")


def service_account_rotate_secret(args: argparse.Namespace) -> None:
    account = _admin("POST", _path("service-accounts", _account_id(args.account), "rotate-secret"))
    _output(args, account, _secret_lines(account))


# ---- keys and audit ----


def keys_list(args: argparse.Namespace) -> None:
    keys = _admin("GET", "/keys") or []
    rows = [
        (k.get("kid"), k.get("alg"), k.get("state"), k.get("createdAt"), k.get("activatedAt"),
         k.get("retiredAt"), k.get("publishUntil"))
        for k in keys
    ]  # fmt: skip
    headers = ("KID", "ALG", "STATE", "CREATED", "ACTIVATED", "RETIRED", "PUBLISH_UNTIL")
    _output(args, keys, _table(headers, rows))


def keys_rotate(args: argparse.Namespace) -> None:
    result = _admin("POST", "/keys/rotate") or {}
    lines = [
        f"active:  {result.get('activeKid')}",
        f"next:    {result.get('nextKid')}",
        f"retired: {result.get('retiredKid')} (published until its last token expires)",
        "running instances sign with the new active key within seconds",
    ]
    _output(args, result, lines)


def audit_export(args: argparse.Namespace) -> None:
    params = {
        key: value
        for key, value in (("since", args.since), ("until", args.until), ("type", args.event_type))
        if value
    }
    text = str(_admin("GET", "/audit/export", params=params or None) or "")
    sys.stdout.write(text if text.endswith("\n") or not text else text + "\n")


def audit_head(args: argparse.Namespace) -> None:
    """The chain head signed by the service's active key, to keep outside the database (``--json`` is
    what ``audit verify --head FILE`` reads)."""
    head = _admin("GET", "/audit/head") or {}
    lines = [
        f"audit head {head.get('seq')} {head.get('hash')} (written {head.get('occurredAt') or 'never'}, "
        f"signed {head.get('signedAt')})",
        "keep the JSON of --json; check it later with: airflow webauthn audit verify --head FILE",
    ]
    _output(args, head, lines)


def _read_head_file(path: str) -> str:
    """The head file's text, passed to the service as is: only the service's keys can judge its signature."""
    try:
        with open(path, encoding="utf-8") as file:
            return file.read().strip()
    except OSError as err:
        raise CommandError(f"cannot read the audit head {path}: {err.strerror or err}") from err


def audit_verify(args: argparse.Namespace) -> None:
    """The service checks its stored trail against the hash chain (and, with ``--head FILE``, that the
    trail still contains a signed head kept outside); exit 0 when intact, 1 naming the first bad event
    (the service CLI's ``audit verify`` wording, so one runbook serves both)."""
    head_file = getattr(args, "head", None)
    params = {"head": _read_head_file(head_file)} if head_file else None
    verdict = _admin("GET", "/audit/verify", params=params) or {}
    last = verdict.get("last") or {}
    head = f", head {last.get('seq')} {last.get('hash')}" if last else ""
    anchor = verdict.get("anchor") or {}
    contains = (
        [
            f"the signed head {anchor.get('seq')} lies in the prefix that retention pruned"
            if anchor.get("pruned")
            else f"contains the signed head {anchor.get('seq')} {anchor.get('hash')}"
        ]
        if anchor
        else []
    )
    _output(
        args,
        verdict,
        [f"audit trail intact: {verdict.get('events')} events{head}", *contains] if verdict.get("ok") else [],
    )
    if not verdict.get("ok"):
        broken = verdict.get("broken") or {}
        raise CommandError(
            f"audit trail broken: event {broken.get('eventId') or '(none)'} at position "
            f"{broken.get('seq') if broken.get('seq') is not None else '?'} {broken.get('problem') or ''}"
        )
