"""Turning the service's answer to a successful passkey assertion into an Airflow session."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_webauthn.services.errors import ServiceRefusedError
from airflow_webauthn.services.users import NoRoleError, user_from_service_claims

if TYPE_CHECKING:
    from collections.abc import Callable

    from airflow_webauthn.config import WebAuthnSettings
    from airflow_webauthn.services.gateway import ServiceGateway
    from airflow_webauthn.services.session_check import SessionChecker
    from airflow_webauthn.user import WebAuthnUser


@dataclass(frozen=True)
class LoginOutcome:
    user: WebAuthnUser
    airflow_token: str


async def complete_passkey_login(
    service_body: Any,
    *,
    gateway: ServiceGateway,
    settings: WebAuthnSettings,
    sessions: SessionChecker,
    mint: Callable[[WebAuthnUser, int], str],
) -> LoginOutcome:
    """Verify the service JWT like any other, build the user, and mint Airflow's own session token.

    The service JWT stays on the server: only Airflow's token (as an httponly cookie) reaches the browser.
    Raises ``ServiceUnavailableError`` / ``ServiceRefusedError`` (answered by the app's handlers).
    """
    verified = await gateway.verify_service_token(service_body)
    ttl = settings.session_ttl_seconds
    try:
        user = user_from_service_claims(
            verified.claims,
            role_mapping=settings.role_mapping,
            session_expires_at=int(time.time()) + ttl,
            passkey_login=True,
            session_id=secrets.token_urlsafe(16),
        )
    except NoRoleError as err:
        raise ServiceRefusedError(
            403,
            "no_role",
            f"Your passkey was accepted, but {err.username} has no Airflow role. Ask an "
            "Airflow administrator to add you to a group that grants one.",
        ) from err
    sessions.remember_login(user)
    return LoginOutcome(user=user, airflow_token=mint(user, ttl))
