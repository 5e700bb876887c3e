"""``WebAuthnAuthManager``: Airflow 3 auth manager for passkey login through the airflow-webauthn service.

Enable with ``[core] auth_manager = airflow_webauthn.auth_manager.WebAuthnAuthManager``. Authentication
happens in the auth service; authorization happens here, with the VIEWER/USER/OP/ADMIN ladder
(see ``services.roles``). Heavy objects are built lazily so importing this module stays cheap.
"""

from __future__ import annotations

import time
from functools import cached_property
from typing import TYPE_CHECKING, Any

import jwt
from airflow.api_fastapi.auth.managers.base_auth_manager import BaseAuthManager
from airflow.api_fastapi.auth.managers.exceptions import AuthManagerRefreshTokenExpiredException

from airflow_webauthn.services.authorization import AuthorizationMixin
from airflow_webauthn.services.roles import Role, parse_role
from airflow_webauthn.services.session_check import SessionRejectedError
from airflow_webauthn.user import WebAuthnUser

if TYPE_CHECKING:
    import httpx
    from airflow.api_fastapi.common.types import ExtraMenuItem
    from airflow.cli.cli_config import CLICommand
    from fastapi import FastAPI

    from airflow_webauthn.config import WebAuthnSettings
    from airflow_webauthn.services.service_account_check import ServiceAccountChecker
    from airflow_webauthn.services.service_client import AuthServiceClient
    from airflow_webauthn.services.session_check import SessionChecker
    from airflow_webauthn.services.step_up import StepUpSealer
    from airflow_webauthn.services.token_verifier import ServiceTokenVerifier

LOGIN_PATH = "/login"
PASSKEYS_PATH = "/passkeys"
ADMIN_PATH = "/admin"


def is_admin(user: WebAuthnUser) -> bool:
    """The Airflow role that may use the passkey administration page (the service checks its own group)."""
    return not user.is_service_account and parse_role(user.role) is Role.ADMIN


class SessionEndedError(jwt.ExpiredSignatureError):
    """The browser session was ended (absolute lifetime reached, or ended by the auth service).

    An ``ExpiredSignatureError`` so Airflow answers 401 and its UI sends the user back to the login page.
    """


class WebAuthnAuthManager(AuthorizationMixin, BaseAuthManager[WebAuthnUser]):
    """Auth manager whose users sign in with passkeys held by the airflow-webauthn auth service."""

    def __init__(
        self,
        *,
        settings: WebAuthnSettings | None = None,
        jwks_transport: httpx.AsyncBaseTransport | None = None,
        service_transport: httpx.BaseTransport | None = None,
        service_async_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        """Airflow calls this without arguments; tests inject settings and HTTP transports."""
        super().__init__()  # type: ignore[no-untyped-call]  # LoggingMixin is untyped
        self._settings_override = settings
        self._jwks_transport = jwks_transport
        self._service_transport = service_transport
        self._service_async_transport = service_async_transport

    # ---- components (lazy: the CLI instantiates managers without needing any of this) ----

    @cached_property
    def settings(self) -> WebAuthnSettings:
        from airflow_webauthn.config import get_settings

        return self._settings_override or get_settings()

    @cached_property
    def token_verifier(self) -> ServiceTokenVerifier:
        from airflow_webauthn.services.token_verifier import JwksCache, ServiceTokenVerifier

        s = self.settings
        jwks = JwksCache(
            jwks_url=s.jwks_url,
            cache_ttl_seconds=s.jwks_cache_ttl_seconds,
            min_refetch_interval_seconds=s.jwks_min_refetch_interval_seconds,
            timeout_seconds=s.http_timeout_seconds,
            transport=self._jwks_transport,
        )
        return ServiceTokenVerifier(
            jwks=jwks,
            issuer=s.issuer,
            audience=s.audience,
            allowed_algorithms=s.allowed_algorithms,
            leeway_seconds=s.leeway_seconds,
        )

    @cached_property
    def service_client(self) -> AuthServiceClient:
        from airflow_webauthn.services.service_client import AuthServiceClient

        return AuthServiceClient(
            base_url=self.settings.service_url,
            timeout_seconds=self.settings.http_timeout_seconds,
            credentials=self.settings.service_credentials,
            transport=self._service_transport,
            async_transport=self._service_async_transport,
        )

    @cached_property
    def sessions(self) -> SessionChecker:
        from airflow_webauthn.services.session_check import SessionChecker

        return SessionChecker(
            client=self.service_client,
            role_mapping=self.settings.role_mapping,
            interval_seconds=self.settings.recheck_interval_seconds,
        )

    @cached_property
    def service_accounts(self) -> ServiceAccountChecker:
        from airflow_webauthn.services.service_account_check import ServiceAccountChecker

        return ServiceAccountChecker(
            client=self.service_client,
            interval_seconds=self.settings.recheck_interval_seconds,
            leeway_seconds=self.settings.leeway_seconds,
        )

    @cached_property
    def step_up(self) -> StepUpSealer:
        from airflow_webauthn.services.step_up import StepUpSealer, deployment_secret

        return StepUpSealer(secret=deployment_secret())

    def init(self) -> None:
        """Validate the configuration when the API server starts, so mistakes fail loudly and early."""
        super().init()
        if not self.settings.service_credentials:
            self.log.warning(
                "[webauthn_auth_manager] service_credentials is not set: sessions and service-account "
                "tokens are not re-checked against the auth service (disabled users, revoked passkeys "
                "and disabled service accounts keep access until their session or token ends) and "
                "`airflow webauthn` commands cannot run."
            )

    # ---- users and tokens ----

    def deserialize_user(self, token: dict[str, Any]) -> WebAuthnUser:
        try:
            return WebAuthnUser.from_claims(token)
        except TypeError as err:  # Airflow turns ValueError/KeyError (not TypeError) into a 403
            raise ValueError(f"malformed user claims: {err}") from err

    def serialize_user(self, user: WebAuthnUser) -> dict[str, Any]:
        return user.to_claims()

    async def get_user_from_token(self, token: str) -> WebAuthnUser:
        """Service tokens (recognised by issuer) are checked against the service JWKS; others by Airflow.

        Raises only ``jwt.InvalidTokenError`` subclasses, which Airflow maps to 401/403.
        """
        if self.token_verifier.is_ours(token):
            return await self._user_from_service_token(token)
        user = await super().get_user_from_token(token)
        if not isinstance(user, WebAuthnUser):
            raise jwt.InvalidTokenError("token does not describe a WebAuthn user")
        if user.session_expires_at is not None and time.time() >= user.session_expires_at:
            raise SessionEndedError("the session has reached its maximum lifetime; sign in again")
        if reason := self.sessions.rejected_reason(user):
            raise SessionEndedError(f"the session was ended: {reason}")
        return user

    async def _user_from_service_token(self, token: str) -> WebAuthnUser:
        from airflow.models.revoked_token import RevokedToken

        from airflow_webauthn.services.users import user_from_service_claims

        claims = await self.token_verifier.verify(token)
        if RevokedToken.is_revoked(claims["jti"]):
            raise jwt.InvalidTokenError("token has been revoked")
        user = user_from_service_claims(claims, role_mapping=self.settings.role_mapping)
        if user.is_service_account:
            # Disabled or deleted on the service: refused within recheck_interval_seconds, not at exp.
            await self.service_accounts.check(claims)
        return user

    def revoke_token(self, token: str) -> None:
        """Logout: revoke Airflow's own tokens as usual; a service token's jti is revoked locally too."""
        if not self.token_verifier.is_ours(token):
            super().revoke_token(token)
            return
        from datetime import datetime, timezone

        from airflow.models.revoked_token import RevokedToken
        from asgiref.sync import async_to_sync

        try:
            claims = async_to_sync(self.token_verifier.verify)(token)
        except jwt.InvalidTokenError:
            self.log.info("Not revoking a service token that does not verify")
            return
        RevokedToken.revoke(claims["jti"], datetime.fromtimestamp(claims["exp"], tz=timezone.utc))

    def refresh_user(self, *, user: WebAuthnUser) -> WebAuthnUser | None:
        """Re-check a browser session with the service (cached; see ``services.session_check``)."""
        try:
            return self.sessions.refresh(user)
        except SessionRejectedError as err:
            # Airflow's refresh middleware clears the cookie on this exception; get_user_from_token
            # then refuses the same token because the rejection is cached.
            raise AuthManagerRefreshTokenExpiredException(str(err)) from err

    # ---- URLs, sub-application, CLI ----

    def get_url_login(self, **kwargs: Any) -> str:
        from airflow.api_fastapi.app import AUTH_MANAGER_FASTAPI_APP_PREFIX

        return f"{AUTH_MANAGER_FASTAPI_APP_PREFIX}{LOGIN_PATH}"

    def get_url_logout(self) -> str | None:
        # Airflow then deletes its cookie itself and sends the browser to get_url_login().
        return None

    def get_extra_menu_items(self, *, user: WebAuthnUser) -> list[ExtraMenuItem]:
        """ "Passkeys" for every signed-in person; "Users" (the administration page) for ADMIN only.

        Airflow 3.3's UI lists these under its Security menu and shows ``href`` in a same-origin iframe
        (only paths under ``<base>/auth/`` are allowed there), so the href is the mounted page's path,
        base path included, like ``get_url_login``. The UI labels each item with its own translation of
        ``security.<text lowercased>``: "Users" is translated there (it is where admins of Airflow 2 managed
        users), "Passkeys" is not yet, so its label shows the key until Airflow's UI falls back to the text.
        """
        from airflow.api_fastapi.app import AUTH_MANAGER_FASTAPI_APP_PREFIX
        from airflow.api_fastapi.common.types import ExtraMenuItem

        if user.is_service_account:
            return []  # no passkeys, and no browser to show pages to
        items = [ExtraMenuItem(text="Passkeys", href=f"{AUTH_MANAGER_FASTAPI_APP_PREFIX}{PASSKEYS_PATH}")]
        if is_admin(user):
            items.append(ExtraMenuItem(text="Users", href=f"{AUTH_MANAGER_FASTAPI_APP_PREFIX}{ADMIN_PATH}"))
        return items

    def get_fastapi_app(self) -> FastAPI | None:
        from airflow_webauthn.routes import create_app

        return create_app(self)

    @staticmethod
    def get_cli_commands() -> list[CLICommand]:
        from airflow_webauthn.cli.definition import get_webauthn_cli_commands

        return get_webauthn_cli_commands()
