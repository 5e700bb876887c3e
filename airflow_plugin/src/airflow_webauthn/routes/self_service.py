"""``/auth/api/me/*``: the signed-in person's own passkeys (list, rename, remove, add).

Listing uses Airflow's service credentials (so just opening the page needs no passkey prompt); every
change is made with the person's own step-up token, so the service checks ownership and its audit
trail names the person.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from airflow_webauthn.datamodels.manage import AddPasskeyVerifyBody, EmptyBody, RenamePasskeyBody
from airflow_webauthn.routes.csrf import SameOriginJson
from airflow_webauthn.routes.deps import CallerDep, GatewayDep
from airflow_webauthn.routes.path_ids import path_id
from airflow_webauthn.routes.responses import NO_STORE, ApiRefusalError, relay
from airflow_webauthn.routes.session import SessionUser
from airflow_webauthn.routes.step_up_auth import STEP_UP_DETAIL, AsPerson, SealerDep, open_step_up
from airflow_webauthn.services.gateway import CredentialsMissingError

if TYPE_CHECKING:
    from airflow_webauthn.services.gateway import Caller, ServiceGateway
    from airflow_webauthn.services.step_up import StepUpSealer
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
    # The authenticator policy: why this passkey is no longer allowed for the role, and until when.
    "policyReason",
    "notAllowedAfter",
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
async def my_passkeys(
    request: Request, gateway: GatewayDep, sealer: SealerDep, caller: CallerDep, user: SessionUser
) -> JSONResponse:
    """``{username, displayName, passkeys: [{id, label, createdAt, lastUsedAt, revokedAt, flaggedAt,
    flagReason, backedUp, deviceType, authenticator, current}]}``."""
    try:
        record = await gateway.user_status(user.user_id)
    except CredentialsMissingError:
        record = await _profile_as_person(request, gateway, sealer, caller, user)
    if record is None:
        raise ApiRefusalError(404, "not_found", "Your account no longer exists in the sign-in service.")
    return JSONResponse(_profile(record, user), headers=NO_STORE)


async def _profile_as_person(
    request: Request, gateway: ServiceGateway, sealer: StepUpSealer, caller: Caller, user: WebAuthnUser
) -> dict[str, Any]:
    """Without service credentials the person's own token reads their profile (needs a step-up)."""
    token = open_step_up(request, sealer, user)
    if token is None:
        raise ApiRefusalError(401, "step_up_required", STEP_UP_DETAIL)
    reply = await gateway.call_as_person("GET", "/v1/me", token=token, caller=caller)
    relay(reply)
    return reply.body if isinstance(reply.body, dict) else {}


@self_service_router.patch("/passkeys/{passkey_id}", dependencies=[SameOriginJson])
async def rename_my_passkey(passkey_id: str, body: RenamePasskeyBody, service: AsPerson) -> JSONResponse:
    path = f"/v1/me/passkeys/{path_id(passkey_id, 'passkey id')}"
    return relay(await service.call("PATCH", path, json=body.forwarded()))


@self_service_router.delete("/passkeys/{passkey_id}", dependencies=[SameOriginJson])
async def remove_my_passkey(passkey_id: str, body: EmptyBody, service: AsPerson) -> JSONResponse:
    path = f"/v1/me/passkeys/{path_id(passkey_id, 'passkey id')}"
    return relay(await service.call("DELETE", path))


@self_service_router.post("/passkeys/registration/options", dependencies=[SameOriginJson])
async def add_passkey_options(body: EmptyBody, service: AsPerson) -> JSONResponse:
    """Creation options for one more passkey on the person's own account."""
    return relay(await service.call("POST", "/v1/registration/options", json={}))


@self_service_router.post("/passkeys/registration/verify", dependencies=[SameOriginJson])
async def add_passkey_verify(body: AddPasskeyVerifyBody, service: AsPerson) -> JSONResponse:
    """Store the new passkey; without a label the service names it after the authenticator model."""
    reply = await service.call("POST", "/v1/registration/verify", json=body.forwarded())
    return relay(reply)
