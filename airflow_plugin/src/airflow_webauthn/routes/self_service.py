"""``/auth/api/me/*``: the signed-in person's own passkeys (list, rename, remove, add).

Listing uses Airflow's service credentials (so just opening the page needs no passkey prompt); every
change is made with the person's own step-up token, so the service checks ownership and its audit
trail names the person.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from airflow_webauthn.datamodels.manage import AddPasskeyVerifyBody, EmptyBody, RenamePasskeyBody
from airflow_webauthn.routes.deps import NO_STORE, ManagerDep
from airflow_webauthn.routes.guards import (
    STEP_UP_DETAIL,
    ApiRefusalError,
    SameOriginJson,
    ServiceDownError,
    SessionUser,
    StepUpToken,
    call_service,
    path_id,
    relay,
    step_up_sealer,
)
from airflow_webauthn.services.service_client import (
    AuthServiceError,
    AuthServiceNotConfiguredError,
    AuthServiceUnavailableError,
)
from airflow_webauthn.services.step_up import STEP_UP_COOKIE
from airflow_webauthn.user import WebAuthnUser

self_service_router = APIRouter(prefix="/api/me", tags=["WebAuthnSelfService"])

# Only these fields of a passkey reach the page.
_PASSKEY_FIELDS = (
    "id",
    "label",
    "createdAt",
    "lastUsedAt",
    "revokedAt",
    "flaggedAt",
    "flagReason",
    "backedUp",
    "deviceType",
    "authenticator",
)


def _profile(record: dict[str, Any], user: WebAuthnUser) -> dict[str, Any]:
    passkeys = record.get("passkeys") if isinstance(record.get("passkeys"), list) else []
    return {
        "username": record.get("username", user.username),
        "displayName": record.get("displayName"),
        "passkeys": [
            {
                **{name: passkey.get(name) for name in _PASSKEY_FIELDS},
                "current": passkey.get("id") == user.passkey_id,
            }
            for passkey in passkeys or []
            if isinstance(passkey, dict)
        ],
    }


@self_service_router.get("/passkeys")
async def my_passkeys(request: Request, manager: ManagerDep, user: SessionUser) -> JSONResponse:
    """``{username, displayName, passkeys: [{id, label, createdAt, lastUsedAt, revokedAt, flaggedAt,
    flagReason, backedUp, deviceType, authenticator, current}]}``."""
    try:
        record = await run_in_threadpool(manager.service_client.get_user, user.user_id)
    except AuthServiceNotConfiguredError:
        record = await _profile_as_person(request, manager, user)
    except AuthServiceUnavailableError as err:
        raise ServiceDownError from err
    except AuthServiceError as err:
        raise ApiRefusalError(502, "service_refused", err.message) from err
    if record is None:
        raise ApiRefusalError(404, "not_found", "Your account no longer exists in the sign-in service.")
    return JSONResponse(_profile(record, user), headers=NO_STORE)


async def _profile_as_person(request: Request, manager: ManagerDep, user: WebAuthnUser) -> dict[str, Any]:
    """Without service credentials the person's own token reads their profile (needs a step-up)."""
    token = step_up_sealer(manager).open(request.cookies.get(STEP_UP_COOKIE), user_id=user.user_id)
    if token is None:
        raise ApiRefusalError(401, "step_up_required", STEP_UP_DETAIL)
    reply = await call_service(manager, request, "GET", "/v1/me", token=token)
    relay(reply)
    return reply.body if isinstance(reply.body, dict) else {}


@self_service_router.patch("/passkeys/{passkey_id}", dependencies=[SameOriginJson])
async def rename_my_passkey(
    passkey_id: str, body: RenamePasskeyBody, request: Request, manager: ManagerDep, token: StepUpToken
) -> JSONResponse:
    path = f"/v1/me/passkeys/{path_id(passkey_id, 'passkey id')}"
    return relay(await call_service(manager, request, "PATCH", path, token=token, json=body.forwarded()))


@self_service_router.delete("/passkeys/{passkey_id}", dependencies=[SameOriginJson])
async def remove_my_passkey(
    passkey_id: str, body: EmptyBody, request: Request, manager: ManagerDep, token: StepUpToken
) -> JSONResponse:
    path = f"/v1/me/passkeys/{path_id(passkey_id, 'passkey id')}"
    return relay(await call_service(manager, request, "DELETE", path, token=token))


@self_service_router.post("/passkeys/registration/options", dependencies=[SameOriginJson])
async def add_passkey_options(
    body: EmptyBody, request: Request, manager: ManagerDep, token: StepUpToken
) -> JSONResponse:
    """Creation options for one more passkey on the person's own account."""
    reply = await call_service(manager, request, "POST", "/v1/registration/options", token=token, json={})
    return relay(reply)


@self_service_router.post("/passkeys/registration/verify", dependencies=[SameOriginJson])
async def add_passkey_verify(
    body: AddPasskeyVerifyBody, request: Request, manager: ManagerDep, token: StepUpToken
) -> JSONResponse:
    """Store the new passkey; without a label the service names it after the authenticator model."""
    reply = await call_service(
        manager, request, "POST", "/v1/registration/verify", token=token, json=body.forwarded()
    )
    return relay(reply)
