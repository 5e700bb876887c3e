"""Opening a browser session: the end of every browser sign-in (passkey, provider, provider + passkey)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_webauthn.routes.cookies import set_session_cookie
from airflow_webauthn.services.login import complete_sign_in

if TYPE_CHECKING:
    from fastapi import Request
    from fastapi.responses import Response

    from airflow_webauthn.routes.deps import WebAuthnComponents
    from airflow_webauthn.services.login import SignInKind


async def open_browser_session(
    response: Response, request: Request, components: WebAuthnComponents, service_body: Any, kind: SignInKind
) -> None:
    """The service signed the person in (``service_body`` holds its token): Airflow mints its own
    session token for the user and sets it as its session cookie on ``response``.

    Refusals raise (``ServiceRefusedError``, answered by the app's handlers or the route)."""
    signed_in = await complete_sign_in(
        service_body,
        kind=kind,
        gateway=components.gateway,
        settings=components.settings,
        sessions=components.sessions,
    )
    token = components.generate_jwt(signed_in.user, expiration_time_in_seconds=signed_in.lifetime_seconds)
    set_session_cookie(response, request, token)
