"""``POST /auth/token``: API tokens for scripts and service accounts (client credentials).

The body is JSON or the OAuth form (``curl -u id:secret -d grant_type=client_credentials``); see
``datamodels.token``. Refusals are RFC 6749 §5.2 ``{"error", "error_description"}``. The route reads no
cookie: the request's own credentials are the only thing that can earn a token.
"""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from airflow_webauthn.datamodels.token import (
    OAuthRequestError,
    TokenBody,
    TokenResponse,
    token_body_from_form,
    token_body_from_json,
)
from airflow_webauthn.routes.csrf import SameOriginJsonOrForm, content_type
from airflow_webauthn.routes.deps import CallerDep, GatewayDep, SettingsDep
from airflow_webauthn.routes.responses import NO_STORE
from airflow_webauthn.services.errors import (
    SERVICE_UNAVAILABLE_MESSAGE,
    ServiceRefusedError,
    ServiceUnavailableError,
)
from airflow_webauthn.services.users import NoRoleError, user_from_service_claims

token_router = APIRouter(tags=["WebAuthnToken"], dependencies=[SameOriginJsonOrForm])

_FORM_SCHEMA = {
    "type": "object",
    "required": ["grant_type"],
    "properties": {
        "grant_type": {"type": "string", "enum": ["client_credentials"]},
        "client_id": {"type": "string", "description": "unless the client uses HTTP Basic"},
        "client_secret": {"type": "string", "description": "unless the client uses HTTP Basic"},
    },
}


@token_router.post(
    "/token",
    status_code=201,
    response_model=TokenResponse,
    responses={400: {}, 401: {}, 403: {}, 503: {}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": TokenBody.model_json_schema()},
                "application/x-www-form-urlencoded": {"schema": _FORM_SCHEMA},
            },
        }
    },
)
async def create_token(
    request: Request, gateway: GatewayDep, settings: SettingsDep, caller: CallerDep
) -> JSONResponse:
    """Exchange client credentials for the service's access token, usable as ``Authorization: Bearer``.

    The caller's address is forwarded: a flood of wrong secrets is limited in the caller's bucket on the
    service, never in Airflow's own. The token is checked exactly as the API will check it, so a client
    without an Airflow role learns that here (403) rather than on its first API call.
    """
    authorization = request.headers.get("authorization")
    try:
        body = await _token_body(request, authorization)
    except OAuthRequestError as err:
        return oauth_error(400, err.error, err.description)
    try:
        reply = await gateway.client_credentials(
            client_id=body.client_id, client_secret=body.client_secret, caller=caller
        )
        verified = await gateway.verify_service_token(reply)
    except ServiceUnavailableError:
        return oauth_error(503, "temporarily_unavailable", SERVICE_UNAVAILABLE_MESSAGE)
    except ServiceRefusedError as err:
        if err.status_code == 401:
            # §5.2: a client that tried HTTP Basic is told which scheme to use again.
            used_basic = authorization is not None and content_type(request) != "application/json"
            challenge = {"WWW-Authenticate": 'Basic realm="airflow"'} if used_basic else {}
            return oauth_error(401, "invalid_client", err.message, challenge)
        return oauth_error(err.status_code, err.error, err.message)
    try:
        user_from_service_claims(verified.claims, role_mapping=settings.role_mapping)
    except NoRoleError as err:
        return oauth_error(
            403, "unauthorized_client", f"{err.username} is not in any group that grants an Airflow role."
        )
    return JSONResponse(status_code=201, content={"access_token": verified.token}, headers=NO_STORE)


async def _token_body(request: Request, authorization: str | None) -> TokenBody:
    raw = await request.body()
    if content_type(request) == "application/x-www-form-urlencoded":
        return token_body_from_form(raw, authorization)
    try:
        data = json.loads(raw)
    except ValueError as err:
        raise OAuthRequestError("invalid_request", "The body is not valid JSON.") from err
    return token_body_from_json(data)


def oauth_error(
    status_code: int, error: str, description: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        status_code=status_code,
        content={"error": error, "error_description": description},
        headers={**NO_STORE, **(headers or {})},
    )
