"""``/auth/device/requests/{user_code}``: the approval page's routes (RFC 8628 §3.3, the person's side).

The service answers only the person's own token, so every call carries the step-up token: looking a
code up asks for the passkey confirmation first (the page's lookup is where it happens), and "Approve"
is allowed only while that user-verified confirmation is fresh (the service's StepUpPolicy decides).
A person without an Airflow role is refused before anything reaches the service: they could only hand
a command line the nothing they have.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from airflow_webauthn.datamodels.manage import EmptyBody
from airflow_webauthn.routes.csrf import SameOriginJson
from airflow_webauthn.routes.responses import NO_STORE, ApiRefusalError, relay
from airflow_webauthn.routes.session import SessionUser
from airflow_webauthn.routes.step_up_auth import AsPerson
from airflow_webauthn.services.roles import parse_role
from airflow_webauthn.user import WebAuthnUser

if TYPE_CHECKING:
    from airflow_webauthn.services.errors import ServiceReply

device_requests_router = APIRouter(prefix="/device/requests", tags=["WebAuthnSelfService"])

# What a person may type: letters, with dashes or spaces between groups (the service compares
# case-insensitively and ignores both). Anything else never reaches a service URL.
_USER_CODE = re.compile(r"^[A-Za-z]{4}[- ]?[A-Za-z]{4}$")

NO_ROLE_DETAIL = (
    "You have no role in Airflow, so you cannot approve a command line: it would act with your access. "
    "Ask an Airflow administrator."
)


def normalized_user_code(user_code: str) -> str:
    """``XXXX-XXXX`` in capitals, or a 404 that reads like an unknown code."""
    code = user_code.strip()
    if not _USER_CODE.fullmatch(code):
        raise ApiRefusalError(404, "unknown_code", "There is no such code. Check it against your terminal.")
    letters = re.sub(r"[- ]", "", code).upper()
    return f"{letters[:4]}-{letters[4:]}"


def role_holder(user: SessionUser) -> WebAuthnUser:
    if parse_role(user.role) is None:
        raise ApiRefusalError(403, "no_role", NO_ROLE_DETAIL)
    return user


ApproverUser = Annotated[WebAuthnUser, Depends(role_holder)]


def request_view(body: Any, user: WebAuthnUser) -> dict[str, Any]:
    """The service's view, plus what the command line would get, in words for the page."""
    view = dict(body) if isinstance(body, dict) else {}
    if view.get("kind") == "agent":
        scope = view.get("scope") or ""
        view["access"] = "Only: " + ", ".join(str(scope).split()) if scope else "Nothing beyond your approval"
    else:
        view["access"] = f"Your own Airflow role: {user.role}"
    return view


def _path(user_code: str, action: str = "") -> str:
    return f"/v1/me/device-requests/{normalized_user_code(user_code)}{action}"


@device_requests_router.get("/{user_code}")
async def device_request(user_code: str, user: ApproverUser, service: AsPerson) -> JSONResponse:
    """Which client asks, for what, from where and when, and whether it is still pending."""
    return _answer(await service.call("GET", _path(user_code)), user)


@device_requests_router.post("/{user_code}/approve", dependencies=[SameOriginJson])
async def approve_device_request(
    user_code: str, body: EmptyBody, user: ApproverUser, service: AsPerson
) -> JSONResponse:
    """Approve with the fresh passkey confirmation; a code already decided is a 409 (single use)."""
    return _answer(await service.call("POST", _path(user_code, "/approve"), json={}), user)


@device_requests_router.post("/{user_code}/deny", dependencies=[SameOriginJson])
async def deny_device_request(
    user_code: str, body: EmptyBody, user: SessionUser, service: AsPerson
) -> JSONResponse:
    """Deny (no role needed): the command line hears ``access_denied`` on its next poll."""
    return _answer(await service.call("POST", _path(user_code, "/deny"), json={}), user)


def _answer(reply: ServiceReply, user: WebAuthnUser) -> JSONResponse:
    """The service's refusal relayed as is, else the request as the page shows it (never cached)."""
    if reply.status_code >= 400:
        return relay(reply)
    return JSONResponse(request_view(reply.body, user), headers=NO_STORE)
