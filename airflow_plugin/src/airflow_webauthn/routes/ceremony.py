"""Thin proxy of the four WebAuthn ceremony calls from the browser to the auth service.

The browser only ever talks to Airflow's origin; Airflow calls the service server to server.
"""

from __future__ import annotations

from typing import Any

from airflow.api_fastapi.app import get_cookie_path
from airflow.api_fastapi.auth.managers.base_auth_manager import COOKIE_NAME_JWT_TOKEN
from airflow.configuration import conf
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from airflow_webauthn.datamodels.ceremony import (
    AuthenticationOptionsBody,
    AuthenticationVerifyBody,
    RegistrationOptionsBody,
    RegistrationVerifyBody,
)
from airflow_webauthn.routes.deps import (
    NO_STORE,
    ManagerDep,
    client_ip,
    error_response,
    service_unavailable,
)
from airflow_webauthn.services.login import LoginRefusedError, complete_passkey_login
from airflow_webauthn.services.safe_redirect import safe_next_url
from airflow_webauthn.services.service_client import AuthServiceUnavailableError, ServiceReply

ceremony_router = APIRouter(prefix="/webauthn", tags=["WebAuthnCeremony"])


async def _forward(manager: ManagerDep, request: Request, path: str, body: dict[str, Any]) -> ServiceReply:
    return await manager.service_client.forward(
        path, body, client_ip=client_ip(request), user_agent=request.headers.get("user-agent")
    )


def _relay(reply: ServiceReply) -> JSONResponse:
    """Pass a service answer through: success bodies as they are, refusals as ``{detail, error}``."""
    if reply.status_code < 400:
        return JSONResponse(status_code=reply.status_code, content=reply.body, headers=NO_STORE)
    body = reply.body if isinstance(reply.body, dict) else {}
    message = body.get("message") or body.get("error_description") or "The request was refused."
    if isinstance(message, list):
        message = "; ".join(str(item) for item in message)
    return error_response(reply.status_code, str(body.get("error") or "request_refused"), str(message))


@ceremony_router.post("/registration/options")
async def registration_options(
    body: RegistrationOptionsBody, request: Request, manager: ManagerDep
) -> JSONResponse:
    try:
        return _relay(await _forward(manager, request, "/v1/registration/options", body.forwarded()))
    except AuthServiceUnavailableError:
        return service_unavailable()


@ceremony_router.post("/registration/verify")
async def registration_verify(
    body: RegistrationVerifyBody, request: Request, manager: ManagerDep
) -> JSONResponse:
    try:
        return _relay(await _forward(manager, request, "/v1/registration/verify", body.forwarded()))
    except AuthServiceUnavailableError:
        return service_unavailable()


@ceremony_router.post("/authentication/options")
async def authentication_options(
    body: AuthenticationOptionsBody, request: Request, manager: ManagerDep
) -> JSONResponse:
    try:
        return _relay(await _forward(manager, request, "/v1/authentication/options", body.forwarded()))
    except AuthServiceUnavailableError:
        return service_unavailable()


@ceremony_router.post("/authentication/verify")
async def authentication_verify(
    body: AuthenticationVerifyBody, request: Request, manager: ManagerDep
) -> JSONResponse:
    """Finish the login: on success set Airflow's session cookie and answer ``{"redirect": next}``."""
    try:
        reply = await _forward(manager, request, "/v1/authentication/verify", body.forwarded())
        if reply.status_code >= 400:
            return _relay(reply)
        outcome = await complete_passkey_login(manager, reply.body)
    except AuthServiceUnavailableError:
        return service_unavailable()
    except LoginRefusedError as refused:
        return error_response(refused.status_code, refused.error, refused.detail)

    fallback = conf.get("api", "base_url", fallback="") or "/"
    origin = f"{request.url.scheme}://{request.url.netloc}"
    response = JSONResponse(
        {"redirect": safe_next_url(body.next, request_origin=origin, fallback=fallback)}, headers=NO_STORE
    )
    response.set_cookie(
        COOKIE_NAME_JWT_TOKEN,
        outcome.airflow_token,
        path=get_cookie_path(),
        # Same rule as Airflow's own login routes (behind a TLS proxy, run the api-server with
        # --proxy-headers so the scheme is seen as https).
        secure=request.url.scheme == "https" or bool(conf.get("api", "ssl_cert", fallback="")),
        httponly=True,
        samesite="lax",
    )
    return response
