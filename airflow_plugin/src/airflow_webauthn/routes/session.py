"""Who is signed in: the session user behind the self-service, step-up and administration routes."""

from __future__ import annotations

from typing import Annotated, Any

import jwt
from airflow.api_fastapi.auth.managers.base_auth_manager import COOKIE_NAME_JWT_TOKEN
from fastapi import Depends, Request

from airflow_webauthn.routes.deps import ComponentsDep
from airflow_webauthn.routes.responses import ApiRefusalError
from airflow_webauthn.services.roles import parse_role
from airflow_webauthn.services.session_end import SessionEndedError
from airflow_webauthn.user import WebAuthnUser, is_admin


async def session_user(request: Request, components: ComponentsDep) -> WebAuthnUser | None:
    """The person signed in to Airflow in this browser, from Airflow's own ``_token`` cookie.

    Validated exactly like Airflow validates it (``get_user_from_token``: signature, expiry, revocation,
    absolute session lifetime, session re-check). A user that Airflow's refresh middleware already built
    for this request (marked with Airflow's trust sentinel) is used as is, since it carries a changed
    role. Service accounts have no passkeys and no pages.

    Airflow 3.2 has no trust sentinel (``USER_INJECTED_BY_TRUSTED_MIDDLEWARE`` came in 3.3): there the
    cookie is always validated, which is never less strict.
    """
    from airflow.api_fastapi.core_api import security as airflow_security

    trusted = getattr(airflow_security, "USER_INJECTED_BY_TRUSTED_MIDDLEWARE", None)
    user: Any = getattr(request.state, "user", None)
    if not (
        trusted is not None
        and isinstance(user, WebAuthnUser)
        and getattr(request.state, "user_authenticated_via", None) is trusted
    ):
        token = request.cookies.get(COOKIE_NAME_JWT_TOKEN)
        if not token:
            return None
        try:
            user = await components.get_user_from_token(token)
        except (jwt.InvalidTokenError, SessionEndedError):
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


NO_ROLE_DETAIL = (
    "You have no role in Airflow, so you cannot let a command line or an agent act for you: it would act "
    "with your access. Ask an Airflow administrator."
)


def role_holder(user: SessionUser) -> WebAuthnUser:
    """A person with an Airflow role: only they may sign a command line in or let an agent act for them."""
    if parse_role(user.role) is None:
        raise ApiRefusalError(403, "no_role", NO_ROLE_DETAIL)
    return user


RoleHolder = Annotated[WebAuthnUser, Depends(role_holder)]
