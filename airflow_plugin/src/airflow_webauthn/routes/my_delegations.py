"""``/auth/api/me/delegations``: the Passkeys page's "Agents acting for you" panel (list and revoke).

Only the person's own token reads or revokes their delegations (the service's ``/v1/me/delegations``),
so both need the passkey confirmation (step-up); without one the list is ``null`` and the page asks for
it. Revoking ends the agent's (and its sub-agents') access on Airflow's next re-check of the token.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from airflow_webauthn.datamodels.manage import EmptyBody
from airflow_webauthn.routes.csrf import SameOriginJson
from airflow_webauthn.routes.deps import CallerDep, GatewayDep
from airflow_webauthn.routes.path_ids import path_id
from airflow_webauthn.routes.responses import NO_STORE, relay
from airflow_webauthn.routes.session import SessionUser
from airflow_webauthn.routes.step_up_auth import SealerDep, StepUpToken, open_step_up

my_delegations_router = APIRouter(prefix="/api/me/delegations", tags=["WebAuthnSelfService"])

# Only these fields of the service's DelegationView reach the page.
_FIELDS = (
    "id",
    "state",
    "endedBecause",
    "agentName",
    "agentClientId",
    "scope",
    "depth",
    "createdAt",
    "expiresAt",
    "revokedAt",
)


def delegation_view(item: Any) -> dict[str, Any] | None:
    return {name: item.get(name) for name in _FIELDS} if isinstance(item, dict) else None


@my_delegations_router.get("")
async def my_delegations(
    request: Request, gateway: GatewayDep, sealer: SealerDep, caller: CallerDep, user: SessionUser
) -> JSONResponse:
    """``{delegations: [...] | null}``: null until the person confirms with their passkey."""
    token = open_step_up(request, sealer, user)
    if token is None:
        return JSONResponse({"delegations": None}, headers=NO_STORE)
    reply = await gateway.call_as_person("GET", "/v1/me/delegations", token=token, caller=caller)
    if reply.status_code >= 400:
        return relay(reply)
    items = reply.body if isinstance(reply.body, list) else []
    views = [view for view in map(delegation_view, items) if view is not None]
    return JSONResponse({"delegations": views}, headers=NO_STORE)


@my_delegations_router.delete("/{delegation_id}", dependencies=[SameOriginJson])
async def revoke_my_delegation(
    delegation_id: str, body: EmptyBody, gateway: GatewayDep, caller: CallerDep, token: StepUpToken
) -> JSONResponse:
    """Revoke an agent's delegation (and its sub-agents'), as the person."""
    path = f"/v1/me/delegations/{path_id(delegation_id, 'delegation id')}"
    reply = await gateway.call_as_person("DELETE", path, token=token, caller=caller)
    if reply.status_code >= 400:
        return relay(reply)
    return JSONResponse(delegation_view(reply.body) or {}, headers=NO_STORE)
