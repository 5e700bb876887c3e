"""``/auth/api/me/cli-codes``: the Passkeys page's "Sign in a command line" panel.

Creating a code needs the person's passkey confirmation (the step-up token: the service requires a fresh,
user-verified sign-in and records the confirming passkey with the code). The code comes back once, with
the airflowctl command to paste it into. Listing the command lines signed in needs no confirmation
(Airflow's status read); pending codes are listed while the confirmation lasts, as only the person's own
token reads them. Revoking a code or signing a command line out is a change made as the person.
"""

from __future__ import annotations

from typing import Any

from airflow.configuration import conf
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from airflow_webauthn.datamodels.command_lines import command_line_view, command_line_views
from airflow_webauthn.datamodels.manage import EmptyBody
from airflow_webauthn.routes.csrf import SameOriginJson, request_origin
from airflow_webauthn.routes.deps import CallerDep, GatewayDep
from airflow_webauthn.routes.path_ids import path_id
from airflow_webauthn.routes.responses import NO_STORE, ApiRefusalError, relay, shown
from airflow_webauthn.routes.session import SessionUser
from airflow_webauthn.routes.step_up_auth import STEP_UP_DETAIL, AsPerson, SealerDep, open_step_up
from airflow_webauthn.services.gateway import CredentialsMissingError

command_lines_router = APIRouter(prefix="/api/me/cli-codes", tags=["WebAuthnSelfService"])


def api_url(request: Request) -> str:
    """Airflow's URL as people type it (``[api] base_url``), else the origin this page was served from."""
    base_url = (conf.get("api", "base_url", fallback="") or "").rstrip("/")
    return base_url or request_origin(request)


@command_lines_router.get("")
async def my_command_lines(
    request: Request, gateway: GatewayDep, sealer: SealerDep, caller: CallerDep, user: SessionUser
) -> JSONResponse:
    """``{commandLines: [...], pending: [...] | null}``; ``pending`` is null without a confirmation."""
    token = open_step_up(request, sealer, user)
    own: Any = None
    if token is not None:
        reply = await gateway.call_as_person("GET", "/v1/me/cli-codes", token=token, caller=caller)
        own = reply.body if reply.status_code < 400 else None
    if own is not None:
        lines = command_line_views(own, "signed_in")
    else:
        try:
            record = await gateway.user_status(user.user_id)
        except CredentialsMissingError as err:
            raise ApiRefusalError(401, "step_up_required", STEP_UP_DETAIL) from err
        lines = command_line_views((record or {}).get("commandLines"), "signed_in")
    pending = command_line_views(own, "pending") if own is not None else None
    return JSONResponse({"commandLines": lines, "pending": pending}, headers=NO_STORE)


@command_lines_router.post("", dependencies=[SameOriginJson])
async def create_cli_code(
    request: Request, body: EmptyBody, service: AsPerson, user: SessionUser
) -> JSONResponse:
    """A one-time code, shown once, and the airflowctl command to paste it into."""
    reply = await service.call("POST", "/v1/me/cli-codes", json={})
    if reply.status_code >= 400:
        return relay(reply)
    created = reply.body if isinstance(reply.body, dict) else {}
    command = f"airflowctl auth login --api-url {api_url(request)} --username {user.username}"
    return JSONResponse(
        status_code=201,
        content={
            "id": created.get("id"),
            "code": created.get("code"),
            "expiresAt": created.get("expiresAt"),
            "command": command,
        },
        headers=NO_STORE,
    )


@command_lines_router.delete("/{sign_in_id}", dependencies=[SameOriginJson])
async def revoke_cli_sign_in(sign_in_id: str, body: EmptyBody, service: AsPerson) -> JSONResponse:
    """Revoke an unused code, or sign a command line out (refused on its next re-check)."""
    path = f"/v1/me/cli-codes/{path_id(sign_in_id, 'command line id')}"
    return shown(await service.call("DELETE", path), command_line_view)
