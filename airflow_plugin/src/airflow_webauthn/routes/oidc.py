"""Sign-in through the organisation's OpenID provider, on Airflow's origin, relayed to the service.

``GET /oidc/login`` starts (303 to the provider), ``GET /oidc/callback`` is where the provider sends
the browser back. A person whose sign-in needs a passkey too lands on ``/oidc/passkey``, whose two JSON
routes run the passkey step. No Airflow session exists until the service issues a token; every
failure goes back to the login page with a fixed message and clears the flow's cookies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar
from urllib.parse import parse_qs, urlencode

from airflow.api_fastapi.app import AUTH_MANAGER_FASTAPI_APP_PREFIX, get_cookie_path
from airflow.configuration import conf
from fastapi import APIRouter, Cookie, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict

from airflow_webauthn.paths import LOGIN_PATH
from airflow_webauthn.routes.browser_session import open_browser_session
from airflow_webauthn.routes.cookies import secure_cookie
from airflow_webauthn.routes.csrf import SameOriginJson
from airflow_webauthn.routes.deps import CallerDep, ComponentsDep, GatewayDep
from airflow_webauthn.routes.responses import NO_STORE, ApiRefusalError, relay
from airflow_webauthn.routes.templates import page
from airflow_webauthn.services.errors import ServiceRefusedError, ServiceUnavailableError, refusal_from
from airflow_webauthn.services.oidc import (
    FLOW_COOKIE,
    FLOW_COOKIE_SECONDS,
    NEXT_COOKIE,
    PENDING_COOKIE,
    login_error_code,
)
from airflow_webauthn.services.safe_redirect import safe_next_url

if TYPE_CHECKING:
    from airflow_webauthn.routes.deps import WebAuthnComponents
    from airflow_webauthn.services.login import SignInKind

oidc_router = APIRouter(prefix="/oidc", tags=["OpenIDConnect"], include_in_schema=False)

_FLOW_COOKIES = (FLOW_COOKIE, NEXT_COOKIE, PENDING_COOKIE)

_AnswerT = TypeVar("_AnswerT", bound=Response)


def _origin(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


def _fallback() -> str:
    return conf.get("api", "base_url", fallback="") or "/"


def _set(response: Response, request: Request, name: str, value: str) -> None:
    response.set_cookie(
        name,
        value,
        max_age=FLOW_COOKIE_SECONDS,
        path=get_cookie_path(),
        secure=secure_cookie(request),
        httponly=True,
        samesite="lax",
    )


def _clear_flow(response: Response) -> None:
    for name in _FLOW_COOKIES:
        response.delete_cookie(name, path=get_cookie_path())


def _to_login(request: Request, code: str, next_url: str | None) -> RedirectResponse:
    """Back to the login page with a fixed error code; the flow's cookies go."""
    query = {"oidc_error": code}
    safe = safe_next_url(next_url, request_origin=_origin(request), fallback="")
    if safe:
        query["next"] = safe
    response = RedirectResponse(
        f"{AUTH_MANAGER_FASTAPI_APP_PREFIX}{LOGIN_PATH}?{urlencode(query)}", status_code=303, headers=NO_STORE
    )
    _clear_flow(response)
    return response


async def _signed_in(
    response: _AnswerT, request: Request, components: WebAuthnComponents, body: Any, kind: SignInKind
) -> _AnswerT:
    """The service signed the person in: Airflow's session cookie on ``response``; the flow's cookies go."""
    await open_browser_session(response, request, components, body, kind)
    _clear_flow(response)
    return response


@oidc_router.get("/login")
async def oidc_login(
    request: Request, gateway: GatewayDep, caller: CallerDep, next: str | None = None
) -> Response:
    """Start: the service stores the flow and names the provider's URL; the browser keeps the binding."""
    try:
        reply = await gateway.relay("/v1/oidc/start", {}, caller=caller)
    except ServiceUnavailableError:
        return _to_login(request, "idp_unavailable", next)
    if reply.status_code >= 400:  # e.g. not configured (404) or rate limited (429): say which
        return _to_login(request, login_error_code(refusal_from(reply.status_code, reply.body).error), next)
    body = reply.body if isinstance(reply.body, dict) else {}
    url, binding = body.get("authorizationUrl"), body.get("binding")
    if not isinstance(url, str) or not isinstance(binding, str):
        return _to_login(request, "failed", next)
    response = RedirectResponse(url, status_code=303, headers=NO_STORE)
    _set(response, request, FLOW_COOKIE, binding)
    _set(
        response,
        request,
        NEXT_COOKIE,
        safe_next_url(next, request_origin=_origin(request), fallback=_fallback()),
    )
    return response


@oidc_router.get("/callback")
async def oidc_callback(
    request: Request,
    components: ComponentsDep,
    caller: CallerDep,
    flow: Annotated[str | None, Cookie(alias=FLOW_COOKIE)] = None,
    next_cookie: Annotated[str | None, Cookie(alias=NEXT_COOKIE)] = None,
) -> Response:
    """The provider sent the browser back: the service checks everything; a session or the passkey step."""
    if not flow:
        return _to_login(request, "state_invalid", next_cookie)
    query = request.url.query[:4096]
    try:
        # The groups that grant anything here: the service refuses a person in none of them before any
        # account or passkey step exists, comparing exactly as resolve_role does with the token's groups.
        role_groups = sorted(components.settings.role_mapping)
        reply = await components.gateway.relay(
            "/v1/oidc/callback",
            {"query": query, "binding": flow, "roleGroups": role_groups},
            caller=caller,
        )
        if reply.status_code >= 400:
            return _to_login(
                request, login_error_code(refusal_from(reply.status_code, reply.body).error), next_cookie
            )
        body = reply.body if isinstance(reply.body, dict) else {}
        if body.get("status") == "passkey_required" and isinstance(body.get("pending"), str):
            response = RedirectResponse(
                f"{AUTH_MANAGER_FASTAPI_APP_PREFIX}/oidc/passkey", status_code=303, headers=NO_STORE
            )
            response.delete_cookie(FLOW_COOKIE, path=get_cookie_path())
            _set(response, request, PENDING_COOKIE, body["pending"])
            return response
        if body.get("status") != "signed_in":
            return _to_login(request, "failed", next_cookie)
        target = safe_next_url(next_cookie, request_origin=_origin(request), fallback=_fallback())
        response = RedirectResponse(target, status_code=303, headers=NO_STORE)
        return await _signed_in(response, request, components, body, "provider")
    except ServiceUnavailableError:
        return _to_login(request, "idp_unavailable", next_cookie)
    except ServiceRefusedError as err:
        return _to_login(request, login_error_code(err.error), next_cookie)


@oidc_router.get("/passkey", response_class=HTMLResponse)
def oidc_passkey_page(
    request: Request, pending: Annotated[str | None, Cookie(alias=PENDING_COOKIE)] = None
) -> Response:
    """The passkey step after the provider: "Continue with passkey" or, the first time, "Set up a passkey"."""
    if not pending:
        return _to_login(request, "state_invalid", None)
    return page(request, "oidc_passkey.html", scripts=("oidc-passkey.js",), depth=1)


@oidc_router.get("/cancel")
def oidc_cancel(
    request: Request, next_cookie: Annotated[str | None, Cookie(alias=NEXT_COOKIE)] = None
) -> Response:
    """Cancelling the passkey step: no session, the flow's cookies go, back to the login page."""
    return _to_login(request, "passkey_failed", next_cookie)


class PasskeyStepBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: Literal["confirm", "enroll"]
    response: dict[str, Any]


def _pending_or_refuse(pending: str | None) -> str:
    if not pending:
        raise ApiRefusalError(
            400, "invalid_challenge", "This sign-in expired or was already finished. Sign in again."
        )
    return pending


@oidc_router.post("/passkey/options", dependencies=[SameOriginJson])
async def oidc_passkey_options(
    gateway: GatewayDep,
    caller: CallerDep,
    pending: Annotated[str | None, Cookie(alias=PENDING_COOKIE)] = None,
) -> JSONResponse:
    reply = await gateway.relay(
        "/v1/oidc/passkey/options", {"pending": _pending_or_refuse(pending)}, caller=caller
    )
    return relay(reply, as_person=False)


@oidc_router.post("/passkey/verify", dependencies=[SameOriginJson])
async def oidc_passkey_verify(
    body: PasskeyStepBody,
    request: Request,
    components: ComponentsDep,
    caller: CallerDep,
    pending: Annotated[str | None, Cookie(alias=PENDING_COOKIE)] = None,
    next_cookie: Annotated[str | None, Cookie(alias=NEXT_COOKIE)] = None,
) -> JSONResponse:
    """Finish with the passkey; the waiting sign-in is spent either way (the service takes it)."""
    forwarded: dict[str, Any] = {"pending": _pending_or_refuse(pending), "response": body.response}
    reply = await components.gateway.relay(f"/v1/oidc/passkey/{body.action}", forwarded, caller=caller)
    if reply.status_code >= 400:
        refusal = refusal_from(reply.status_code, reply.body)
        raise ApiRefusalError(refusal.status_code, refusal.error, refusal.message)
    target = safe_next_url(next_cookie, request_origin=_origin(request), fallback=_fallback())
    response = JSONResponse({"redirect": target}, headers=NO_STORE)
    return await _signed_in(response, request, components, reply.body, "provider+passkey")


@oidc_router.post("/backchannel-logout")
async def oidc_backchannel_logout(request: Request, gateway: GatewayDep, caller: CallerDep) -> Response:
    """OpenID Connect Back-Channel Logout: the provider posts ``logout_token`` (form-encoded).

    No CSRF check: the provider calls this server to server, and the token's signature is what the
    service trusts. The person's Airflow sessions end at their next confirmation (the service empties
    their groups). Answers 200, or 400 for a token the service refused (as the specification asks).
    """
    form = parse_qs((await request.body()).decode("utf-8", errors="replace"))
    tokens = form.get("logout_token", [])
    if len(tokens) != 1 or not tokens[0]:
        return JSONResponse({"error": "invalid_request"}, status_code=400, headers=NO_STORE)
    reply = await gateway.relay("/v1/oidc/backchannel-logout", {"logout_token": tokens[0]}, caller=caller)
    if reply.status_code >= 400:
        return JSONResponse({"error": "invalid_request"}, status_code=400, headers=NO_STORE)
    return Response(status_code=200, headers=NO_STORE)
