"""Thin relay of the four WebAuthn ceremony calls from the browser to the auth service.

The browser only ever talks to Airflow's origin; Airflow calls the service server to server,
forwarding the browser's address so the service limits and audits the browser, not Airflow.
"""

from __future__ import annotations

from airflow.configuration import conf
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from airflow_webauthn.datamodels.ceremony import (
    AuthenticationOptionsBody,
    AuthenticationVerifyBody,
    CeremonyBody,
    RegistrationOptionsBody,
    RegistrationVerifyBody,
)
from airflow_webauthn.routes.browser_session import open_browser_session
from airflow_webauthn.routes.csrf import SameOriginJson
from airflow_webauthn.routes.deps import CallerDep, ComponentsDep, GatewayDep
from airflow_webauthn.routes.responses import NO_STORE, relay
from airflow_webauthn.services.gateway import Caller, ServiceGateway
from airflow_webauthn.services.safe_redirect import safe_next_url

ceremony_router = APIRouter(prefix="/webauthn", tags=["WebAuthnCeremony"], dependencies=[SameOriginJson])


async def _pass_through(
    path: str, body: CeremonyBody, gateway: ServiceGateway, caller: Caller
) -> JSONResponse:
    """A ceremony step with nothing to do on Airflow's side: the service's answer goes back as it is."""
    return relay(await gateway.relay(path, body.forwarded(), caller=caller), as_person=False)


@ceremony_router.post("/registration/options")
async def registration_options(
    body: RegistrationOptionsBody, gateway: GatewayDep, caller: CallerDep
) -> JSONResponse:
    return await _pass_through("/v1/registration/options", body, gateway, caller)


@ceremony_router.post("/registration/verify")
async def registration_verify(
    body: RegistrationVerifyBody, gateway: GatewayDep, caller: CallerDep
) -> JSONResponse:
    return await _pass_through("/v1/registration/verify", body, gateway, caller)


@ceremony_router.post("/authentication/options")
async def authentication_options(
    body: AuthenticationOptionsBody, gateway: GatewayDep, caller: CallerDep
) -> JSONResponse:
    return await _pass_through("/v1/authentication/options", body, gateway, caller)


@ceremony_router.post("/authentication/verify")
async def authentication_verify(
    body: AuthenticationVerifyBody, request: Request, components: ComponentsDep, caller: CallerDep
) -> JSONResponse:
    """Finish the login: on success set Airflow's session cookie and answer ``{"redirect": next}``."""
    reply = await components.gateway.relay("/v1/authentication/verify", body.forwarded(), caller=caller)
    if reply.status_code >= 400:
        return relay(reply, as_person=False)
    fallback = conf.get("api", "base_url", fallback="") or "/"
    origin = f"{request.url.scheme}://{request.url.netloc}"
    answer: dict[str, str] = {"redirect": safe_next_url(body.next, request_origin=origin, fallback=fallback)}
    # A passkey in its authenticator-policy grace period: the login page shows why and until when.
    policy = reply.body.get("authenticator_policy") if isinstance(reply.body, dict) else None
    if isinstance(policy, dict) and isinstance(policy.get("message"), str):
        answer["notice"] = policy["message"][:300]
    response = JSONResponse(answer, headers=NO_STORE)
    await open_browser_session(response, request, components, reply.body, "passkey")
    return response
