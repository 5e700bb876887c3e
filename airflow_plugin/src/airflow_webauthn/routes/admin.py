"""``/auth/api/admin/*``: the administration page's calls, proxied to the service's admin API.

Only the operations listed here exist (no generic pass-through), every id is checked before it becomes
a path segment, the caller must hold Airflow's ADMIN role, and each call carries the person's own
step-up token: the service enforces its admin group and records the person as the actor.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from airflow_webauthn.datamodels.command_lines import command_line_view, command_line_views
from airflow_webauthn.datamodels.delegations import admin_delegation_view, admin_delegation_views
from airflow_webauthn.datamodels.manage import (
    CreateInviteBody,
    CreateServiceAccountBody,
    EmptyBody,
    SetGroupsBody,
)
from airflow_webauthn.paths import enroll_url
from airflow_webauthn.routes.csrf import SameOriginJson, request_origin
from airflow_webauthn.routes.path_ids import path_id
from airflow_webauthn.routes.responses import NO_STORE, relay, shown
from airflow_webauthn.routes.session import admin
from airflow_webauthn.routes.step_up_auth import AsPerson

admin_router = APIRouter(prefix="/api/admin", tags=["WebAuthnAdmin"], dependencies=[Depends(admin)])

ADMIN = "/v1/admin"


# ---- users and their passkeys ----


@admin_router.get("/users")
async def list_users(service: AsPerson) -> JSONResponse:
    return relay(await service.call("GET", f"{ADMIN}/users"))


@admin_router.get("/users/{user_id}/passkeys")
async def list_user_passkeys(user_id: str, service: AsPerson) -> JSONResponse:
    path = f"{ADMIN}/users/{path_id(user_id, 'user id')}/passkeys"
    return relay(await service.call("GET", path))


@admin_router.post("/users/{user_id}/{action}", dependencies=[SameOriginJson])
async def set_user_enabled(
    user_id: str,
    action: Literal["disable", "enable"],
    body: EmptyBody,
    service: AsPerson,
) -> JSONResponse:
    path = f"{ADMIN}/users/{path_id(user_id, 'user id')}/{action}"
    return relay(await service.call("POST", path))


@admin_router.patch("/users/{user_id}", dependencies=[SameOriginJson])
async def set_user_groups(user_id: str, body: SetGroupsBody, service: AsPerson) -> JSONResponse:
    """Replace a person's groups (Airflow maps them to roles at their next sign-in)."""
    path = f"{ADMIN}/users/{path_id(user_id, 'user id')}"
    return relay(await service.call("PATCH", path, json=body.forwarded()))


@admin_router.get("/users/{user_id}/command-lines")
async def list_user_command_lines(user_id: str, service: AsPerson) -> JSONResponse:
    """The command lines signed in as this person (airflowctl with a one-time code): page fields only."""
    path = f"{ADMIN}/users/{path_id(user_id, 'user id')}"
    reply = await service.call("GET", path)
    if reply.status_code >= 400:
        return relay(reply)
    record = reply.body if isinstance(reply.body, dict) else {}
    return JSONResponse(command_line_views(record.get("commandLines"), "signed_in"), headers=NO_STORE)


@admin_router.delete("/users/{user_id}/command-lines/{line_id}", dependencies=[SameOriginJson])
async def revoke_user_command_line(
    user_id: str, line_id: str, body: EmptyBody, service: AsPerson
) -> JSONResponse:
    """Sign a person's command line out: Airflow refuses it at its next re-check."""
    path = f"{ADMIN}/users/{path_id(user_id, 'user id')}/command-lines/{path_id(line_id, 'command line id')}"
    return shown(await service.call("DELETE", path), command_line_view)


@admin_router.post("/passkeys/{passkey_id}/unflag", dependencies=[SameOriginJson])
async def unflag_passkey(passkey_id: str, body: EmptyBody, service: AsPerson) -> JSONResponse:
    """Unblock a passkey a security check flagged, after the admin reviewed why."""
    path = f"{ADMIN}/passkeys/{path_id(passkey_id, 'passkey id')}/unflag"
    return relay(await service.call("POST", path))


@admin_router.delete("/passkeys/{passkey_id}", dependencies=[SameOriginJson])
async def revoke_passkey(passkey_id: str, body: EmptyBody, service: AsPerson) -> JSONResponse:
    path = f"{ADMIN}/passkeys/{path_id(passkey_id, 'passkey id')}"
    return relay(await service.call("DELETE", path))


# ---- invites ----


@admin_router.get("/invites")
async def list_invites(service: AsPerson) -> JSONResponse:
    return relay(await service.call("GET", f"{ADMIN}/invites"))


@admin_router.post("/invites", dependencies=[SameOriginJson])
async def create_invite(body: CreateInviteBody, request: Request, service: AsPerson) -> JSONResponse:
    """The service's answer plus ``link``: this Airflow's enrollment page for the invite token."""
    path = f"{ADMIN}/invites"
    reply = await service.call("POST", path, json=body.forwarded())
    response = relay(reply)
    if isinstance(reply.body, dict) and isinstance(reply.body.get("token"), str):
        invite = {
            "id": reply.body.get("id"),
            "username": reply.body.get("username"),
            "expiresAt": reply.body.get("expiresAt"),
            "link": enroll_url(reply.body["token"], fallback_origin=request_origin(request)),
        }
        return JSONResponse(status_code=201, content=invite, headers=NO_STORE)
    return response


@admin_router.delete("/invites/{invite_id}", dependencies=[SameOriginJson])
async def revoke_invite(invite_id: str, body: EmptyBody, service: AsPerson) -> JSONResponse:
    path = f"{ADMIN}/invites/{path_id(invite_id, 'invite id')}"
    return relay(await service.call("DELETE", path))


# ---- service accounts ----


@admin_router.get("/service-accounts")
async def list_service_accounts(service: AsPerson) -> JSONResponse:
    return relay(await service.call("GET", f"{ADMIN}/service-accounts"))


@admin_router.post("/service-accounts", dependencies=[SameOriginJson])
async def create_service_account(body: CreateServiceAccountBody, service: AsPerson) -> JSONResponse:
    """Answers the service's ``{..., clientId, clientSecret}``: the secret is shown this once."""
    path = f"{ADMIN}/service-accounts"
    return relay(await service.call("POST", path, json=body.forwarded()))


@admin_router.post("/service-accounts/{account_id}/{action}", dependencies=[SameOriginJson])
async def service_account_action(
    account_id: str,
    action: Literal["disable", "enable", "rotate-secret"],
    body: EmptyBody,
    service: AsPerson,
) -> JSONResponse:
    path = f"{ADMIN}/service-accounts/{path_id(account_id, 'service account')}/{action}"
    return relay(await service.call("POST", path))


# ---- agents acting for people ----


@admin_router.get("/delegations")
async def list_delegations(
    service: AsPerson,
    user: Annotated[str | None, Query(max_length=128)] = None,
    agent: Annotated[str | None, Query(max_length=128)] = None,
) -> JSONResponse:
    """One person's (``user``) or one agent's (``agent``) delegations, ended ones too; else the live ones."""
    params = {name: value for name, value in {"user": user, "agent": agent}.items() if value}
    path = f"{ADMIN}/delegations"
    return shown(await service.call("GET", path, params=params), admin_delegation_views)


@admin_router.delete("/delegations/{delegation_id}", dependencies=[SameOriginJson])
async def revoke_delegation(delegation_id: str, body: EmptyBody, service: AsPerson) -> JSONResponse:
    """Revoke an agent's delegation (and its sub-agents'): Airflow refuses its tokens at the next re-check."""
    path = f"{ADMIN}/delegations/{path_id(delegation_id, 'delegation id')}"
    return shown(await service.call("DELETE", path), admin_delegation_view)


# ---- signing keys ----


@admin_router.get("/keys")
async def list_keys(service: AsPerson) -> JSONResponse:
    return relay(await service.call("GET", f"{ADMIN}/keys"))


@admin_router.post("/keys/rotate", dependencies=[SameOriginJson])
async def rotate_keys(body: EmptyBody, service: AsPerson) -> JSONResponse:
    return relay(await service.call("POST", f"{ADMIN}/keys/rotate"))


# ---- audit trail ----


@admin_router.get("/audit")
async def query_audit(
    service: AsPerson,
    type: Annotated[str | None, Query(pattern=r"^[a-z0-9_.-]{1,64}$")] = None,
    outcome: Literal["success", "failure"] | None = None,
    actor: Annotated[str | None, Query(max_length=128)] = None,
    subject: Annotated[str | None, Query(max_length=128)] = None,
    since: Annotated[str | None, Query(max_length=64)] = None,
    until: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_-]{1,256}$")] = None,
) -> JSONResponse:
    """``{items: [event...], nextCursor}`` newest first; pass ``nextCursor`` back as ``cursor``."""
    filters = {
        "type": type,
        "outcome": outcome,
        "actor": actor,
        "subject": subject,
        "since": since,
        "until": until,
        "cursor": cursor,
    }
    params = {name: value for name, value in filters.items() if value}
    params["limit"] = str(limit)
    return relay(await service.call("GET", f"{ADMIN}/audit", params=params))
