"""The HTML pages: login, enrollment, own passkeys and administration (scripts live in ``static/``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from airflow.api_fastapi.app import AUTH_MANAGER_FASTAPI_APP_PREFIX, get_cookie_path
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from airflow_webauthn.datamodels import PASSKEY_LABEL_MAX
from airflow_webauthn.paths import ADMIN_PATH, DEVICE_PATH, ENROLL_PATH, LOGIN_PATH, PASSKEYS_PATH
from airflow_webauthn.routes.command_lines import api_url
from airflow_webauthn.routes.deps import CallerDep, ComponentsDep
from airflow_webauthn.routes.session import SessionUserOrNone
from airflow_webauthn.routes.step_up_auth import clear_step_up_cookie
from airflow_webauthn.routes.templates import MANAGE_PAGE_HEADERS, PAGE_HEADERS, page
from airflow_webauthn.services.confirmations import UNREACHABLE_MESSAGE
from airflow_webauthn.services.errors import ServiceUnavailableError
from airflow_webauthn.services.group_hints import group_hints
from airflow_webauthn.services.oidc import login_error_message, provider_button
from airflow_webauthn.services.roles import parse_role
from airflow_webauthn.services.session_end import SESSION_ENDED_COOKIE, login_notice
from airflow_webauthn.services.step_up import STEP_UP_COOKIE
from airflow_webauthn.user import is_admin

if TYPE_CHECKING:
    from airflow_webauthn.routes.deps import WebAuthnComponents
    from airflow_webauthn.services.gateway import Caller

pages_router = APIRouter(include_in_schema=False)

# The service's invite lookup: names the account a link enrolls without using the link.
REGISTRATION_INVITE = "/v1/registration/invite"


def _to_login(page_path: str) -> RedirectResponse:
    """303 to the login page, which comes back here after a passkey sign-in (base path included)."""
    target = f"{AUTH_MANAGER_FASTAPI_APP_PREFIX}{page_path}"
    response = RedirectResponse(
        f"{AUTH_MANAGER_FASTAPI_APP_PREFIX}{LOGIN_PATH}?next={quote(target, safe='/')}", status_code=303
    )
    response.headers["Cache-Control"] = "no-store"
    return response


async def _identity_provider(components: ComponentsDep, caller: CallerDep) -> str | None:
    """The provider's display name when the service has sign-in through one configured, else None."""
    try:
        reply = await components.gateway.relay_get("/v1/oidc", caller=caller)
    except ServiceUnavailableError:
        return None
    return provider_button(reply.body) if reply.status_code == 200 else None


@pages_router.get(LOGIN_PATH, response_class=HTMLResponse)
async def loginpage(request: Request, components: ComponentsDep, caller: CallerDep) -> HTMLResponse:
    """The sign-in page, where Airflow's logout ends: it deletes any step-up cookie (a confirmation
    belongs to the session it was made in), and says so when Airflow cannot get sessions confirmed.

    The notice comes from Airflow's own view of the service (the latest status read failed), or says
    why Airflow just ended this browser's session (``SESSION_ENDED_COOKIE``, see
    ``services.session_end``); a request can only select one of a fixed set of sentences, never put
    text of its choosing on the page. The same holds for a failed provider sign-in: ``oidc_error``
    only selects one of a fixed set of messages.
    """
    unreachable = components.service_health.unreachable
    # Why the last session ended, when Airflow refused it just now (a fixed sentence chosen by code).
    ended = login_notice(request.cookies.get(SESSION_ENDED_COOKIE))
    notice = f"{UNREACHABLE_MESSAGE}. Sign-in may fail until it is back." if unreachable else ended
    provider = await _identity_provider(components, caller)
    context = {
        "notice": notice,
        "oidc_provider": provider,
        "oidc_error": login_error_message(request.query_params.get("oidc_error")),
    }
    response = page(request, "login.html", scripts=("login.js",), context=context)
    if STEP_UP_COOKIE in request.cookies:
        clear_step_up_cookie(response)
    if SESSION_ENDED_COOKIE in request.cookies:  # said once
        response.delete_cookie(SESSION_ENDED_COOKIE, path=get_cookie_path())
    return response


INVITE_MISSING = "This enrollment link is incomplete: it has no invite. Open the full link you were sent."
INVITE_UNUSABLE = (
    "This invite link can no longer be used: it has expired, was already used, or was revoked. "
    "Ask an administrator for a new invite."
)
INVITE_UNCHECKED = (
    "This link could not be checked because the sign-in service is unavailable. "
    "You can still try below, or come back in a few minutes."
)

INVITE_BUSY = (
    "This link could not be checked just now: too many attempts from your network. "
    "Wait a minute and reload the page."
)


async def _check_invite(components: WebAuthnComponents, invite: str | None, caller: Caller) -> dict[str, Any]:
    """What the page says about its link before anyone touches a passkey prompt.

    The service's lookup reads the invite without using it; every kind of unusable link reads the
    same (the service does not tell outsiders which), and the person's next step is the same too.
    """
    if not invite:
        return {"problem": INVITE_MISSING}
    try:
        reply = await components.gateway.relay(REGISTRATION_INVITE, {"inviteToken": invite}, caller=caller)
    except ServiceUnavailableError:
        return {"notice": INVITE_UNCHECKED}
    if (
        reply.status_code == 200
        and isinstance(reply.body, dict)
        and isinstance(reply.body.get("username"), str)
    ):
        return {"invite": reply.body}
    if reply.status_code == 429:
        return {"notice": INVITE_BUSY}
    return {"problem": INVITE_UNUSABLE}


@pages_router.get(ENROLL_PATH, response_class=HTMLResponse)
async def enrollpage(
    request: Request, components: ComponentsDep, caller: CallerDep, invite: str | None = None
) -> HTMLResponse:
    """The enrollment page, checked on opening: it names the account the link enrolls, or says the link
    cannot be used (no form then), without using the link up."""
    check = await _check_invite(components, invite, caller)
    return page(request, "enroll.html", scripts=("enroll.js",), context=check)


@pages_router.get(PASSKEYS_PATH, response_class=HTMLResponse)
async def passkeyspage(request: Request, user: SessionUserOrNone) -> Response:
    """The signed-in person's passkeys; without an Airflow session, sign in first."""
    if user is None:
        return _to_login(PASSKEYS_PATH)
    return page(
        request,
        "passkeys.html",
        scripts=("manage.js", "passkeys.js", "command-lines.js", "delegations.js", "delegation-grant.js"),
        context={
            "username": user.username,
            "is_admin": is_admin(user),
            "no_role": parse_role(user.role) is None,
            "api_url": api_url(request),
            "wide": True,
            "label_max": PASSKEY_LABEL_MAX,
        },
        headers=MANAGE_PAGE_HEADERS,
    )


@pages_router.get(DEVICE_PATH, response_class=HTMLResponse)
async def device_page(request: Request, user: SessionUserOrNone, user_code: str | None = None) -> Response:
    """Approve or deny a command line's sign-in (RFC 8628's ``verification_uri``); sign in first.

    ``user_code`` only pre-fills the field (``verification_uri_complete``): the person still sees the
    request and must press Approve, with a passkey confirmation.
    """
    if user is None:
        target = DEVICE_PATH + (f"?user_code={quote(user_code, safe='')}" if user_code else "")
        return _to_login(target)
    prefill = user_code.strip()[:9] if user_code else ""
    return page(
        request,
        "device.html",
        scripts=("manage.js", "device.js"),
        context={
            "username": user.username,
            "user_code": prefill,
            "no_role": parse_role(user.role) is None,
            "wide": True,
        },
        # Never framed, not even by Airflow: an approval is what a clickjacker would want.
        headers=PAGE_HEADERS,
    )


@pages_router.get(ADMIN_PATH, response_class=HTMLResponse)
async def adminpage(request: Request, user: SessionUserOrNone, components: ComponentsDep) -> Response:
    """Administration, for Airflow admins only (the service also checks its admin group on each call)."""
    if user is None:
        return _to_login(ADMIN_PATH)
    credentials = components.settings.service_credentials
    if not is_admin(user):
        return page(
            request,
            "forbidden.html",
            context={"username": user.username},
            headers=MANAGE_PAGE_HEADERS,
            status_code=403,
        )
    return page(
        request,
        "admin.html",
        # One script per panel (admin.js loads them all after the step-up); tables and command lines first,
        # since the users panel builds on them.
        scripts=(
            "manage.js",
            "admin-tables.js",
            "admin-system.js",
            "admin-command-lines.js",
            "admin-invites.js",
            "admin-users.js",
            "admin-service-accounts.js",
            "admin-delegations.js",
            "admin.js",
        ),
        # Airflow's own service account (service_credentials) is marked on the page: disabling it or
        # rotating its secret cuts this Airflow off from the service. Its client id is not a secret.
        context={
            "wide": True,
            "airflow_client_id": credentials.client_id if credentials else "",
            "group_hints": group_hints(components.settings),
        },
        headers=MANAGE_PAGE_HEADERS,
    )
