"""``POST /auth/device/code`` and ``POST /auth/device/token``: RFC 8628 device authorization on
Airflow's origin, so a command line needs nothing but Airflow's URL.

Both relay an OAuth form to the service (a confidential client's HTTP Basic credentials pass through
untouched; the caller's address and User-Agent are forwarded, so the service limits and records the
caller). The token endpoint turns the service's token into AIRFLOW's own, exactly like airflowctl's
one-time-code sign-in (``services.cli_sign_in.command_line_sign_in``): the CLI's lifetime, re-checked like
a browser session. An AGENT's approved code is different: the service answers with a delegated token
(``act``, ``scope``, ``delegation_id``) and a refresh token bound to the agent's client authentication;
that answer is relayed as it is. The agent presents the service's short-lived token to Airflow's REST API
(honoured at the intersection of the person's current access and the scope, re-checked with the
delegation) and refreshes it at the service. Minting Airflow's own JWT for it instead would outlive the
service's token and could not be refreshed under the delegation. Neither route reads a cookie, so a
cross-site form gains nothing: no same-origin rule, like ``/auth/token``. Answers are RFC 8628 / RFC
6749 JSON, never cached.
"""

from __future__ import annotations

from typing import Any

import jwt
from airflow.configuration import conf
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from airflow_webauthn.datamodels.token import OAuthRequestError, basic_credentials, read_form
from airflow_webauthn.routes.csrf import content_type
from airflow_webauthn.routes.deps import CallerDep, ComponentsDep
from airflow_webauthn.routes.token import oauth_error
from airflow_webauthn.services.cli_sign_in import command_line_sign_in
from airflow_webauthn.services.errors import (
    SERVICE_UNAVAILABLE_MESSAGE,
    ServiceRefusedError,
    ServiceReply,
    ServiceUnavailableError,
)
from airflow_webauthn.services.users import delegation_from_claims

DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
SERVICE_DEVICE_AUTHORIZATION = "/v1/oauth/device_authorization"
SERVICE_GRANT_ENDPOINT = "/v1/oauth/token"

# RFC 6749 §5.1: token answers are never cached (Pragma for old HTTP/1.0 caches).
TOKEN_HEADERS = {"Cache-Control": "no-store", "Pragma": "no-cache"}

device_router = APIRouter(prefix="/device", tags=["WebAuthnDevice"])

_FORM = "application/x-www-form-urlencoded"

# Client authentication in the body: a secret, or a private-key JWT (RFC 7523 §2.2), relayed unchanged for the
# service to verify (its ``aud`` is the service's issuer or token endpoint, which Airflow does not rewrite).
_CLIENT_AUTH_FIELDS = ("client_id", "client_secret", "client_assertion_type", "client_assertion")
_CLIENT_AUTH_SCHEMA: dict[str, Any] = {
    "client_id": {"type": "string", "description": "airflow-cli for a person's command line"},
    "client_secret": {"type": "string", "description": "a confidential client, unless HTTP Basic"},
    "client_assertion_type": {
        "type": "string",
        "enum": ["urn:ietf:params:oauth:client-assertion-type:jwt-bearer"],
        "description": "private_key_jwt client authentication (RFC 7523), instead of a secret",
    },
    "client_assertion": {"type": "string", "description": "the client's signed JWT (RFC 7523 §3)"},
}


def _form_schema(required: list[str], properties: dict[str, Any]) -> dict[str, Any]:
    schema = {"type": "object", "required": required, "properties": properties}
    return {"requestBody": {"required": True, "content": {_FORM: {"schema": schema}}}}


class _OAuthForm:
    """The request's form and client authentication, checked before anything is sent on."""

    def __init__(self, fields: dict[str, str], authorization: str | None) -> None:
        self.fields = fields
        self.authorization = authorization

    def forwarded(self, *names: str) -> dict[str, str]:
        return {name: self.fields[name] for name in names if name in self.fields}


async def _read(request: Request) -> _OAuthForm:
    if content_type(request) != _FORM:
        raise OAuthRequestError("invalid_request", f"Send the parameters as {_FORM}.")
    authorization = request.headers.get("authorization")
    basic_credentials(authorization)  # only well-formed HTTP Basic is passed on
    fields = read_form(await request.body())
    # A client assertion (RFC 7523 §2.2) names its client in its ``sub``; the service checks it.
    if not fields.get("client_id") and authorization is None and not fields.get("client_assertion"):
        raise OAuthRequestError("invalid_request", "client_id is required (airflow-cli for a command line).")
    return _OAuthForm(fields, authorization)


def relayed_oauth_error(reply: ServiceReply, *, used_basic: bool) -> JSONResponse:
    """The service's refusal as RFC 6749 §5.2 JSON: its ``error`` kept (authorization_pending,
    slow_down, expired_token, access_denied, invalid_grant, invalid_client, ...)."""
    body = reply.body if isinstance(reply.body, dict) else {}
    error = body.get("error") if isinstance(body.get("error"), str) and "error_description" in body else None
    description = body.get("error_description") or body.get("message") or "The request was refused."
    if not isinstance(description, str):
        description = "The request was refused."
    if error is None:
        error = "slow_down" if reply.status_code == 429 else "invalid_request"
    status = reply.status_code
    if error == "invalid_client":
        challenge = {"WWW-Authenticate": 'Basic realm="airflow"'} if used_basic else {}
        return oauth_error(401, error, description, challenge)
    return oauth_error(status if status in {401, 403, 429} else 400, error, description)


@device_router.post(
    "/code",
    responses={400: {}, 401: {}, 429: {}, 503: {}},
    openapi_extra=_form_schema([], {**_CLIENT_AUTH_SCHEMA, "scope": {"type": "string"}}),
)
async def device_code(request: Request, components: ComponentsDep, caller: CallerDep) -> JSONResponse:
    """RFC 8628 §3.2: ``device_code``, ``user_code``, ``verification_uri`` (Airflow's ``/auth/device``),
    ``verification_uri_complete``, ``expires_in``, ``interval``."""
    try:
        form = await _read(request)
    except OAuthRequestError as err:
        return oauth_error(400, err.error, err.description)
    try:
        reply = await components.gateway.relay_form(
            SERVICE_DEVICE_AUTHORIZATION,
            form.forwarded("scope", *_CLIENT_AUTH_FIELDS),
            caller=caller,
            authorization=form.authorization,
        )
    except ServiceUnavailableError:
        return oauth_error(503, "temporarily_unavailable", SERVICE_UNAVAILABLE_MESSAGE)
    if reply.status_code >= 400:
        return relayed_oauth_error(reply, used_basic=form.authorization is not None)
    return JSONResponse(reply.body if isinstance(reply.body, dict) else {}, headers=TOKEN_HEADERS)


@device_router.post(
    "/token",
    responses={400: {}, 401: {}, 403: {}, 503: {}},
    openapi_extra=_form_schema(
        ["grant_type", "device_code"],
        {
            "grant_type": {"type": "string", "enum": [DEVICE_CODE_GRANT]},
            "device_code": {"type": "string"},
            **_CLIENT_AUTH_SCHEMA,
        },
    ),
)
async def device_token(request: Request, components: ComponentsDep, caller: CallerDep) -> JSONResponse:
    """Poll for the token (RFC 8628 §3.4). Until the person decides: 400 ``authorization_pending`` (or
    ``slow_down``); then an Airflow token the REST API accepts as ``Authorization: Bearer``, once."""
    try:
        form = await _read(request)
        if form.fields.get("grant_type") != DEVICE_CODE_GRANT:
            raise OAuthRequestError(
                "unsupported_grant_type", f"Only grant_type={DEVICE_CODE_GRANT} is served here."
            )
        if not form.fields.get("device_code"):
            raise OAuthRequestError("invalid_request", "device_code is required.")
    except OAuthRequestError as err:
        return oauth_error(400, err.error, err.description)
    lifetime = conf.getint("api_auth", "jwt_cli_expiration_time")
    try:
        reply = await components.gateway.relay_form(
            SERVICE_GRANT_ENDPOINT,
            form.forwarded("grant_type", "device_code", *_CLIENT_AUTH_FIELDS),
            caller=caller,
            authorization=form.authorization,
        )
        if reply.status_code >= 400:
            return relayed_oauth_error(reply, used_basic=form.authorization is not None)
        verified = await components.gateway.verify_service_token(reply.body)
        if delegation_from_claims(verified.claims) is not None:
            return _delegated_answer(reply.body)
        signed_in = await command_line_sign_in(
            reply.body,
            gateway=components.gateway,
            settings=components.settings,
            sessions=components.sessions,
            lifetime_seconds=lifetime,
            names_command_line=True,
        )
        token = components.generate_jwt(signed_in.user, expiration_time_in_seconds=lifetime)
    except ServiceUnavailableError:
        return oauth_error(503, "temporarily_unavailable", SERVICE_UNAVAILABLE_MESSAGE)
    except jwt.InvalidTokenError as err:
        # A delegated token missing its agent, delegation or a valid scope: never the person's own token.
        return oauth_error(400, "invalid_grant", f"The delegated token is refused: {err}")
    except ServiceRefusedError as err:
        if err.error == "no_role":
            return oauth_error(403, "access_denied", err.message)
        return oauth_error(err.status_code, "server_error", err.message)
    return JSONResponse(
        {"access_token": token, "token_type": "Bearer", "expires_in": lifetime}, headers=TOKEN_HEADERS
    )


def _delegated_answer(body: Any) -> JSONResponse:
    """The service's answer to an agent (verified, delegated), passed on with only the OAuth fields."""
    fields = ("access_token", "expires_in", "scope", "refresh_token")
    answer = {name: body[name] for name in fields if name in body} | {"token_type": "Bearer"}
    return JSONResponse(answer, headers=TOKEN_HEADERS)
