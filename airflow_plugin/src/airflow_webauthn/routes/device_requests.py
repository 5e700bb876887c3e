"""``/auth/device/requests/{user_code}``: the approval page's routes (RFC 8628 §3.3, the person's side).

The service answers only the person's own token, so every call carries the step-up token: looking a
code up asks for the passkey confirmation first (the page's lookup is where it happens), and "Approve"
is allowed only while that user-verified confirmation is fresh (the service's StepUpPolicy decides).
A person without an Airflow role is refused before anything reaches the service: they could only hand
a command line the nothing they have.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from airflow_webauthn.datamodels.manage import ApproveDeviceRequestBody, EmptyBody
from airflow_webauthn.routes.csrf import SameOriginJson
from airflow_webauthn.routes.responses import ApiRefusalError, shown
from airflow_webauthn.routes.session import RoleHolder, SessionUser
from airflow_webauthn.routes.step_up_auth import AsPerson
from airflow_webauthn.user import WebAuthnUser

if TYPE_CHECKING:
    from airflow_webauthn.services.errors import ServiceReply

device_requests_router = APIRouter(prefix="/device/requests", tags=["WebAuthnSelfService"])

# What a person may type: letters, with dashes or spaces between groups (the service compares
# case-insensitively and ignores both). Anything else never reaches a service URL.
_USER_CODE = re.compile(r"^[A-Za-z]{4}[- ]?[A-Za-z]{4}$")


def normalized_user_code(user_code: str) -> str:
    """``XXXX-XXXX`` in capitals, or a 404 that reads like an unknown code."""
    code = user_code.strip()
    if not _USER_CODE.fullmatch(code):
        raise ApiRefusalError(404, "unknown_code", "There is no such code. Check it against your terminal.")
    letters = re.sub(r"[- ]", "", code).upper()
    return f"{letters[:4]}-{letters[4:]}"


def request_view(body: Any, user: WebAuthnUser) -> dict[str, Any]:
    """The service's view (an agent's with ``maxDays``, ``days``), plus what the client gets, in words."""
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
async def device_request(user_code: str, user: RoleHolder, service: AsPerson) -> JSONResponse:
    """Which client asks, for what, from where and when, and whether it is still pending."""
    return _answer(await service.call("GET", _path(user_code)), user)


@device_requests_router.post("/{user_code}/approve", dependencies=[SameOriginJson])
async def approve_device_request(
    user_code: str, body: ApproveDeviceRequestBody, user: RoleHolder, service: AsPerson
) -> JSONResponse:
    """Approve with the fresh passkey confirmation (an agent: for ``days``); a decided code is a 409."""
    return _answer(await service.call("POST", _path(user_code, "/approve"), json=body.forwarded()), user)


@device_requests_router.post("/{user_code}/deny", dependencies=[SameOriginJson])
async def deny_device_request(
    user_code: str, body: EmptyBody, user: SessionUser, service: AsPerson
) -> JSONResponse:
    """Deny (no role needed): the command line hears ``access_denied`` on its next poll."""
    return _answer(await service.call("POST", _path(user_code, "/deny"), json={}), user)


def _answer(reply: ServiceReply, user: WebAuthnUser) -> JSONResponse:
    """The service's refusal relayed as is, else the request as the page shows it (never cached)."""
    return shown(reply, lambda body: request_view(body, user))
