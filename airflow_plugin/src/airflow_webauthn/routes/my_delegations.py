"""``/auth/api/me/delegations``: the Passkeys page's "Agents acting for you" panel (list, grant, revoke).

Only the person's own token reads, grants or revokes their delegations (the service's
``/v1/me/delegations``), so all need the passkey confirmation (step-up); without one the list is ``null``
and the page asks for it. A grant is the person's user-verified approval, as on ``/auth/device``: only a
person with an Airflow role may make one, and its answer carries the agent's first refresh token, shown
this once. Revoking ends the agent's (and its sub-agents') access on Airflow's next re-check of the token.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from airflow_webauthn.datamodels.delegations import (
    agent_choices,
    delegation_view,
    delegation_views,
    granted_view,
)
from airflow_webauthn.datamodels.manage import EmptyBody, GrantDelegationBody
from airflow_webauthn.routes.csrf import SameOriginJson
from airflow_webauthn.routes.deps import CallerDep, GatewayDep
from airflow_webauthn.routes.path_ids import path_id
from airflow_webauthn.routes.responses import NO_STORE, shown
from airflow_webauthn.routes.session import RoleHolder, SessionUser
from airflow_webauthn.routes.step_up_auth import AsPerson, SealerDep, open_step_up

my_delegations_router = APIRouter(prefix="/api/me/delegations", tags=["WebAuthnSelfService"])


@my_delegations_router.get("")
async def my_delegations(
    request: Request, gateway: GatewayDep, sealer: SealerDep, caller: CallerDep, user: SessionUser
) -> JSONResponse:
    """``{delegations: [...] | null}``: null until the person confirms with their passkey."""
    token = open_step_up(request, sealer, user)
    if token is None:
        return JSONResponse({"delegations": None}, headers=NO_STORE)
    reply = await gateway.call_as_person("GET", "/v1/me/delegations", token=token, caller=caller)
    return shown(reply, lambda body: {"delegations": delegation_views(body)})


@my_delegations_router.get("/agents")
async def agents_to_choose(service: AsPerson) -> JSONResponse:
    """The enabled agents the grant form offers (names and client ids)."""
    return shown(await service.call("GET", "/v1/me/agents"), agent_choices)


@my_delegations_router.post("", dependencies=[SameOriginJson])
async def grant_delegation(body: GrantDelegationBody, user: RoleHolder, service: AsPerson) -> JSONResponse:
    """Let an agent act for me within a ``dag:`` scope for some days (the service needs a fresh passkey)."""
    reply = await service.call("POST", "/v1/me/delegations", json=body.forwarded())
    return shown(reply, granted_view, status_code=201)


@my_delegations_router.delete("/{delegation_id}", dependencies=[SameOriginJson])
async def revoke_my_delegation(delegation_id: str, body: EmptyBody, service: AsPerson) -> JSONResponse:
    """Revoke an agent's delegation (and its sub-agents'), as the person."""
    path = f"/v1/me/delegations/{path_id(delegation_id, 'delegation id')}"
    return shown(await service.call("DELETE", path), delegation_view)
