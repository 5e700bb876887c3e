"""The one "a person signed in" step: the service's token for a finished sign-in becomes an Airflow user.

Every sign-in kind ends here (``SignInKind``): the route relays the ceremony to the service, hands the
service's answer to ``complete_sign_in``, then mints Airflow's own token from the returned user
(``components.generate_jwt``) and, for a browser, sets it with ``routes.cookies.set_session_cookie``.
The service JWT stays on the server: only Airflow's token reaches the browser or command line.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from airflow_webauthn.services.errors import ServiceRefusedError
from airflow_webauthn.services.users import NoRoleError, user_from_service_claims

if TYPE_CHECKING:
    from airflow_webauthn.config import WebAuthnSettings
    from airflow_webauthn.services.gateway import ServiceGateway
    from airflow_webauthn.services.session_check import SessionChecker
    from airflow_webauthn.user import WebAuthnUser

# How this person signed in. A new kind (device flow, agents) adds its name here and, if it opens a
# browser session, to BROWSER_SIGN_INS.
SignInKind = Literal["passkey", "provider", "provider+passkey", "cli"]

# Kinds that open a browser session: always a person (a provider's token names Airflow's client but no
# passkey, which alone would read as a service account), with its own session id and session lifetime.
BROWSER_SIGN_INS: frozenset[SignInKind] = frozenset({"passkey", "provider", "provider+passkey"})

_NO_ROLE = {
    "passkey": "Your passkey was accepted, but {username} has no Airflow role.",
    "provider": "You signed in, but {username} has no Airflow role.",
    "provider+passkey": "Your passkey was accepted, but {username} has no Airflow role.",
}
_NO_ROLE_ADVICE = " Ask an Airflow administrator to add you to a group that grants one."


@dataclass(frozen=True)
class SignedIn:
    """Who signed in, how, and how long Airflow's token for them may last."""

    user: WebAuthnUser
    kind: SignInKind
    lifetime_seconds: int


async def complete_sign_in(
    service_body: Any,
    *,
    kind: SignInKind,
    gateway: ServiceGateway,
    settings: WebAuthnSettings,
    sessions: SessionChecker,
    lifetime_seconds: int | None = None,
) -> SignedIn:
    """Verify the service JWT like any other and build the user it names.

    ``lifetime_seconds`` defaults to the browser session's (``session_ttl_seconds``). Raises
    ``ServiceUnavailableError`` / ``ServiceRefusedError`` (answered by the app's handlers).
    """
    verified = await gateway.verify_service_token(service_body)
    browser = kind in BROWSER_SIGN_INS
    ttl = settings.session_ttl_seconds if lifetime_seconds is None else lifetime_seconds
    try:
        user = user_from_service_claims(
            verified.claims,
            role_mapping=settings.role_mapping,
            session_expires_at=int(time.time()) + ttl,
            person=browser,
            session_id=secrets.token_urlsafe(16) if browser else None,
        )
    except NoRoleError as err:
        if kind in _NO_ROLE:
            message = _NO_ROLE[kind].format(username=err.username) + _NO_ROLE_ADVICE
        else:
            message = f"{err.username} is not in any group that grants an Airflow role."
        raise ServiceRefusedError(403, "no_role", message) from err
    if user.is_delegated:
        # An agent's delegated token is presented as Bearer, never turned into a session of the person.
        raise ServiceRefusedError(400, "invalid_grant", "An agent's delegated token does not sign anyone in.")
    if not user.is_service_account:
        # The sign-in just proved the person's state: no need to ask the service on the next request.
        sessions.remember_login(user)
    return SignedIn(user=user, kind=kind, lifetime_seconds=ttl)
