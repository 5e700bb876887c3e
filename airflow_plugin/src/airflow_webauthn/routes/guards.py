"""Who is asking, from where, and with which step-up: the checks in front of the self-service and admin API.

Every refusal is an ``ApiRefusalError``, answered as ``{"detail", "error"}`` JSON by the handler that
``create_app`` registers, so routes stay thin and never answer 500 for a client's mistake.
"""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

import jwt
from airflow.api_fastapi.app import AUTH_MANAGER_FASTAPI_APP_PREFIX
from airflow.api_fastapi.auth.managers.base_auth_manager import COOKIE_NAME_JWT_TOKEN
from airflow.configuration import conf
from fastapi import Depends, Request
from fastapi.responses import JSONResponse, Response

from airflow_webauthn.auth_manager import is_admin
from airflow_webauthn.routes.deps import NO_STORE, ManagerDep, client_ip, error_response, service_unavailable
from airflow_webauthn.services.service_client import AuthServiceUnavailableError, ServiceReply
from airflow_webauthn.services.step_up import STEP_UP_COOKIE, StepUpKeyError, StepUpSealer
from airflow_webauthn.user import WebAuthnUser

# Ids that may appear in a service URL: user ids (UUIDs), usernames, service-account names and client
# ids, passkey and invite ids. Starting with a letter or digit rules out "." and "..".
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$")

STEP_UP_DETAIL = "Confirm it's you with your passkey to continue."

# Service refusals become these codes (the service's own ``error`` is an HTTP reason phrase).
_ERROR_CODES = {
    400: "invalid_request",
    401: "step_up_required",
    403: "forbidden",
    404: "not_found",
    409: "conflict",
    422: "invalid_request",
    429: "rate_limited",
}


class ApiRefusalError(Exception):
    def __init__(self, status_code: int, error: str, detail: str, *, clear_step_up: bool = False) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.error = error
        self.detail = detail
        self.clear_step_up = clear_step_up


def refusal_response(refusal: ApiRefusalError) -> JSONResponse:
    response = error_response(refusal.status_code, refusal.error, refusal.detail)
    if refusal.clear_step_up:
        clear_step_up_cookie(response)
    return response


def step_up_cookie_path() -> str:
    return AUTH_MANAGER_FASTAPI_APP_PREFIX or "/auth"


def clear_step_up_cookie(response: Response) -> None:
    response.delete_cookie(STEP_UP_COOKIE, path=step_up_cookie_path(), httponly=True, samesite="strict")


# ---- the signed-in person ----


async def session_user(request: Request, manager: ManagerDep) -> WebAuthnUser | None:
    """The person signed in to Airflow in this browser, from Airflow's own ``_token`` cookie.

    Validated exactly like Airflow validates it (``get_user_from_token``: signature, expiry, revocation,
    absolute session lifetime, session re-check). A user that Airflow's refresh middleware already built
    for this request (marked with Airflow's trust sentinel) is used as is, since it carries a changed
    role. Service accounts have no passkeys and no pages.
    """
    from airflow.api_fastapi.core_api.security import USER_INJECTED_BY_TRUSTED_MIDDLEWARE

    user: Any = getattr(request.state, "user", None)
    if not (
        isinstance(user, WebAuthnUser)
        and getattr(request.state, "user_authenticated_via", None) is USER_INJECTED_BY_TRUSTED_MIDDLEWARE
    ):
        token = request.cookies.get(COOKIE_NAME_JWT_TOKEN)
        if not token:
            return None
        try:
            user = await manager.get_user_from_token(token)
        except jwt.InvalidTokenError:
            return None
    if not isinstance(user, WebAuthnUser) or user.is_service_account:
        return None
    return user


SessionUserOrNone = Annotated[WebAuthnUser | None, Depends(session_user)]


def signed_in(user: SessionUserOrNone) -> WebAuthnUser:
    if user is None:
        raise ApiRefusalError(401, "not_signed_in", "Your Airflow session has ended. Sign in again.")
    return user


SessionUser = Annotated[WebAuthnUser, Depends(signed_in)]


def admin(user: SessionUser) -> WebAuthnUser:
    if not is_admin(user):
        raise ApiRefusalError(403, "admin_role_required", "This needs the Admin role in Airflow.")
    return user


AdminUser = Annotated[WebAuthnUser, Depends(admin)]


# ---- cross-site request forgery ----


def request_origin(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}".lower()


def _allowed_origins(request: Request) -> set[str]:
    allowed = {request_origin(request)}
    base_url = conf.get("api", "base_url", fallback="") or ""
    parts = urlsplit(base_url)
    if parts.scheme in {"http", "https"} and parts.netloc:
        allowed.add(f"{parts.scheme}://{parts.netloc}".lower())
    return allowed


def same_origin_json(request: Request) -> None:
    """Mutations accept only JSON bodies from this origin.

    A cross-site form can send neither a JSON content type (without a CORS preflight Airflow does not
    grant) nor a matching ``Origin``; SameSite cookies are a second layer, not the only one.
    """
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type != "application/json":
        raise ApiRefusalError(403, "csrf_rejected", "This request must be sent as application/json.")
    origin = request.headers.get("origin")
    if origin is not None and origin.lower().rstrip("/") not in _allowed_origins(request):
        raise ApiRefusalError(403, "csrf_rejected", "This request came from another site.")
    if request.headers.get("sec-fetch-site", "").lower() == "cross-site":
        raise ApiRefusalError(403, "csrf_rejected", "This request came from another site.")


SameOriginJson = Depends(same_origin_json)


# ---- ids in service URLs ----


def path_id(value: str, what: str = "id") -> str:
    """``value`` as one URL path segment, or a 400: nothing a caller sends can change the service path."""
    if not _ID.fullmatch(value):
        raise ApiRefusalError(400, "invalid_id", f"That is not a valid {what}.")
    return quote(value, safe="")


# ---- step-up ----


def step_up_sealer(manager: ManagerDep) -> StepUpSealer:
    """The manager's sealer; a deployment without a usable signing secret gets a clear 503, not a 500."""
    try:
        return manager.step_up
    except StepUpKeyError as err:
        manager.log.error("Passkey confirmation (step-up) is unavailable: %s", err)
        raise ApiRefusalError(
            503,
            "step_up_unavailable",
            "Airflow cannot keep a passkey confirmation right now (its JWT signing key is not usable). "
            "Ask an Airflow administrator.",
        ) from err


async def step_up_token(request: Request, manager: ManagerDep, user: SessionUser) -> str:
    """The person's fresh service token from the step-up cookie, or 401 ``step_up_required``."""
    blob = request.cookies.get(STEP_UP_COOKIE)
    token = step_up_sealer(manager).open(blob, user_id=user.user_id)
    if token is None:
        # A cookie that no longer opens (expired, tampered, another user's) is removed.
        raise ApiRefusalError(401, "step_up_required", STEP_UP_DETAIL, clear_step_up=blob is not None)
    return token


StepUpToken = Annotated[str, Depends(step_up_token)]


# ---- calling the service as the person ----


def relay(reply: ServiceReply, *, as_person: bool = True) -> JSONResponse:
    """A service answer for the page: success as is, refusals raised as ``{detail, error}`` with a 4xx.

    ``as_person``: the call carried the person's step-up token, so a 401 means that token no longer
    works (expired, not fresh enough, account disabled) and another passkey confirmation is needed.
    """
    if reply.status_code < 400:
        body = reply.body if reply.body is not None else {}
        return JSONResponse(status_code=reply.status_code, content=body, headers=NO_STORE)
    raise refusal_from(reply, as_person=as_person)


def refusal_from(reply: ServiceReply, *, as_person: bool) -> ApiRefusalError:
    body = reply.body if isinstance(reply.body, dict) else {}
    message = body.get("message") or body.get("error_description") or "The request was refused."
    if isinstance(message, list):
        message = "; ".join(str(item) for item in message)
    service_error = str(body.get("error") or "")
    error = (
        service_error
        if re.fullmatch(r"[a-z][a-z0-9_]{0,63}", service_error)
        else _ERROR_CODES.get(reply.status_code, "request_refused")
    )
    status = reply.status_code if 400 <= reply.status_code < 500 else 502
    if status == 401:
        if as_person:
            return ApiRefusalError(401, "step_up_required", str(message), clear_step_up=True)
        return ApiRefusalError(401, "authentication_failed", str(message))
    return ApiRefusalError(status, error, str(message))


async def call_service(
    manager: ManagerDep,
    request: Request,
    method: str,
    path: str,
    *,
    token: str,
    json: Any = None,
    params: dict[str, str] | None = None,
) -> ServiceReply:
    """Call the service as the person (their step-up token as Bearer)."""
    try:
        return await manager.service_client.call_as_person(
            method,
            path,
            token=token,
            json=json,
            params=params,
            client_ip=client_ip(request),
            user_agent=request.headers.get("user-agent"),
        )
    except AuthServiceUnavailableError as err:
        raise ServiceDownError from err


async def call_service_public(
    manager: ManagerDep, request: Request, path: str, body: dict[str, Any]
) -> ServiceReply:
    """POST to one of the service's public ceremony endpoints (no token)."""
    try:
        return await manager.service_client.forward(
            path, body, client_ip=client_ip(request), user_agent=request.headers.get("user-agent")
        )
    except AuthServiceUnavailableError as err:
        raise ServiceDownError from err


class ServiceDownError(Exception):
    """The service could not be reached: answered with the existing 503 ``service_unavailable`` message."""


def service_down_response() -> JSONResponse:
    return service_unavailable()
