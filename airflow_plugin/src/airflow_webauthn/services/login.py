"""Turning the service's answer to a successful passkey assertion into an Airflow session."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import jwt

from airflow_webauthn.services.service_client import AuthServiceUnavailableError
from airflow_webauthn.services.token_verifier import JwksUnavailableError
from airflow_webauthn.services.users import NoRoleError, user_from_service_claims

if TYPE_CHECKING:
    from airflow_webauthn.auth_manager import WebAuthnAuthManager
    from airflow_webauthn.user import WebAuthnUser


class LoginRefusedError(Exception):
    """The assertion was fine but Airflow will not open a session; carries the HTTP answer."""

    def __init__(self, *, status_code: int, error: str, detail: str) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.error = error
        self.detail = detail


@dataclass(frozen=True)
class LoginOutcome:
    user: WebAuthnUser
    airflow_token: str


async def complete_passkey_login(manager: WebAuthnAuthManager, service_body: Any) -> LoginOutcome:
    """Verify the service JWT like any other, build the user, and mint Airflow's own session token.

    The service JWT stays on the server: only Airflow's token (as an httponly cookie) reaches the browser.
    """
    token = service_body.get("access_token") if isinstance(service_body, dict) else None
    if not isinstance(token, str):
        raise AuthServiceUnavailableError("the sign-in service answered without an access token")
    try:
        claims = await manager.token_verifier.verify(token)
    except JwksUnavailableError as err:
        raise AuthServiceUnavailableError(str(err)) from err
    except jwt.InvalidTokenError as err:
        manager.log.error("Auth service returned a token that does not verify: %s", err)
        raise LoginRefusedError(
            status_code=502,
            error="invalid_service_token",
            detail="The sign-in service returned a token Airflow could not verify. Check the "
            "issuer, audience and algorithms configured on both sides.",
        ) from err
    ttl = manager.settings.session_ttl_seconds
    try:
        user = user_from_service_claims(
            claims,
            role_mapping=manager.settings.role_mapping,
            session_expires_at=int(time.time()) + ttl,
            passkey_login=True,
        )
    except NoRoleError as err:
        raise LoginRefusedError(
            status_code=403,
            error="no_role",
            detail=f"Your passkey was accepted, but {err.username} has no Airflow role. Ask an "
            "Airflow administrator to add you to a group that grants one.",
        ) from err
    manager.sessions.remember_login(user)
    return LoginOutcome(user=user, airflow_token=manager.generate_jwt(user, expiration_time_in_seconds=ttl))
