"""``WebAuthnAuthManager``: Airflow 3 auth manager for passkey login through the airflow-webauthn service.

Enable with ``[core] auth_manager = airflow_webauthn.auth_manager.WebAuthnAuthManager``. Authentication
happens in the auth service; authorization happens here, with the VIEWER/USER/OP/ADMIN ladder
(see ``services.roles``). Heavy objects are built lazily so importing this module stays cheap.
"""

from __future__ import annotations

import inspect
import logging
import time
from functools import cached_property
from typing import TYPE_CHECKING, Any, Concatenate, Generic, ParamSpec, Self, TypeVar, overload

import jwt
from airflow.api_fastapi.auth.managers.base_auth_manager import BaseAuthManager
from airflow.api_fastapi.auth.managers.exceptions import AuthManagerRefreshTokenExpiredException

from airflow_webauthn.paths import ADMIN_PATH, LOGIN_PATH, PASSKEYS_PATH
from airflow_webauthn.services.authorization import RoleAuthorization
from airflow_webauthn.services.service_account_check import ServiceAccountRefusedError
from airflow_webauthn.services.session_check import SessionRejectedError
from airflow_webauthn.services.session_end import SessionEndedError
from airflow_webauthn.user import WebAuthnUser, is_admin

if TYPE_CHECKING:
    from collections.abc import Callable

    import httpx
    from airflow.api_fastapi.common.types import ExtraMenuItem
    from airflow.cli.cli_config import CLICommand
    from fastapi import FastAPI

    from airflow_webauthn.config import WebAuthnSettings
    from airflow_webauthn.services.confirmations import RecheckPolicy, ServiceHealth
    from airflow_webauthn.services.dag_access import DagAccess
    from airflow_webauthn.services.gateway import ServiceGateway
    from airflow_webauthn.services.service_account_check import ServiceAccountChecker
    from airflow_webauthn.services.session_check import SessionChecker
    from airflow_webauthn.services.step_up import StepUpSealer
    from airflow_webauthn.services.teams import TeamRoles
    from airflow_webauthn.services.token_verifier import ServiceTokenVerifier

log = logging.getLogger(__name__)

_P = ParamSpec("_P")
_R = TypeVar("_R")

__all__ = [
    "ADMIN_PATH",
    "LOGIN_PATH",
    "PASSKEYS_PATH",
    "SessionEndedError",
    "WebAuthnAuthManager",
    "is_admin",
]


def _browser_cookie_path() -> str:
    from airflow.api_fastapi.app import get_cookie_path

    return get_cookie_path()


def _ended(prefix: str, err: SessionRejectedError, *, browser: bool) -> SessionEndedError:
    """401 saying why (``SessionEndedError``); for a browser session also the login page's reason cookie."""
    return SessionEndedError(
        f"{prefix}: {err}. Sign in again.",
        code=err.code,
        cookie_path=_browser_cookie_path() if browser else None,
    )


class _Decided(Generic[_P, _R]):
    """A method of BaseAuthManager's authorization interface, answered by the manager's ``authorization``
    (the ``RoleAuthorization`` method of the same name and signature): the signature is written once,
    there, not again here as a forwarding method. Called on the class, it takes the manager first, like
    the method it stands for."""

    def __init__(self, decision: Callable[Concatenate[RoleAuthorization, _P], _R]) -> None:
        self._name = decision.__name__
        self.__doc__ = decision.__doc__
        self.__signature__ = inspect.signature(decision)

    @overload
    def __get__(self, manager: None, owner: type) -> Self: ...
    @overload
    def __get__(self, manager: WebAuthnAuthManager, owner: type) -> Callable[_P, _R]: ...
    def __get__(self, manager: WebAuthnAuthManager | None, owner: type) -> Self | Callable[_P, _R]:
        return self if manager is None else self._decision(manager)

    def __call__(self, manager: WebAuthnAuthManager, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        return self._decision(manager)(*args, **kwargs)

    def _decision(self, manager: WebAuthnAuthManager) -> Callable[_P, _R]:
        decision: Callable[_P, _R] = getattr(manager.authorization, self._name)
        return decision


class WebAuthnAuthManager(BaseAuthManager[WebAuthnUser]):
    """Auth manager whose users sign in with passkeys held by the airflow-webauthn auth service."""

    def __init__(
        self,
        *,
        settings: WebAuthnSettings | None = None,
        service_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        """Airflow calls this without arguments; tests inject settings and an HTTP transport."""
        super().__init__()  # type: ignore[no-untyped-call]  # LoggingMixin is untyped
        self._settings_override = settings
        self._service_transport = service_transport

    # ---- components (lazy: the CLI instantiates managers without needing any of this) ----

    @cached_property
    def settings(self) -> WebAuthnSettings:
        from airflow_webauthn.config import get_settings

        return self._settings_override or get_settings()

    @cached_property
    def gateway(self) -> ServiceGateway:
        """The one client of the auth service (pooled; closed with the manager's FastAPI app)."""
        from airflow_webauthn.services.gateway import ServiceGateway

        return ServiceGateway(
            base_url=self.settings.service_url,
            timeout_seconds=self.settings.http_timeout_seconds,
            credentials=self.settings.service_credentials,
            token_verifier=self.token_verifier,
            transport=self._service_transport,
        )

    @cached_property
    def token_verifier(self) -> ServiceTokenVerifier:
        from airflow_webauthn.services.token_verifier import JwksCache, ServiceTokenVerifier

        s = self.settings
        jwks = JwksCache(
            jwks_url=s.jwks_url,
            cache_ttl_seconds=s.jwks_cache_ttl_seconds,
            min_refetch_interval_seconds=s.jwks_min_refetch_interval_seconds,
            http=lambda: self.gateway.client,  # resolved at fetch time: no construction cycle
        )
        return ServiceTokenVerifier(
            jwks=jwks,
            issuer=s.issuer,
            audience=s.audience,
            allowed_algorithms=s.allowed_algorithms,
            leeway_seconds=s.leeway_seconds,
        )

    @cached_property
    def dag_access(self) -> DagAccess:
        """Per-DAG rules with their tag index (one per process: the tag cache is shared by requests)."""
        from airflow_webauthn.services.dag_access import DagAccess, DagTagIndex

        s = self.settings
        return DagAccess(rules=s.dag_access, tags=DagTagIndex(ttl_seconds=s.dag_tags_cache_seconds))

    @property
    def team_roles(self) -> TeamRoles:
        return self.settings.team_roles

    @cached_property
    def authorization(self) -> RoleAuthorization:
        """Every authorization decision (``services.authorization``); it reads the rules above live."""
        return RoleAuthorization(self)

    def _get_teams(self) -> set[str]:
        """Teams named in role_mapping; Airflow's init() refuses to start when one is not in its database."""
        return self.team_roles.all_teams()

    @cached_property
    def service_health(self) -> ServiceHealth:
        from airflow_webauthn.services.confirmations import ServiceHealth

        return ServiceHealth(interval_seconds=self.settings.recheck_interval_seconds)

    @cached_property
    def recheck_policy(self) -> RecheckPolicy:
        from airflow_webauthn.services.confirmations import RecheckPolicy

        return RecheckPolicy(
            interval_seconds=self.settings.recheck_interval_seconds,
            grace_seconds=self.settings.unverified_grace_seconds,
            health=self.service_health,
        )

    @cached_property
    def sessions(self) -> SessionChecker:
        from airflow_webauthn.services.session_check import SessionChecker

        return SessionChecker(
            gateway=self.gateway, role_mapping=self.settings.role_mapping, policy=self.recheck_policy
        )

    @cached_property
    def service_accounts(self) -> ServiceAccountChecker:
        from airflow_webauthn.services.service_account_check import ServiceAccountChecker

        return ServiceAccountChecker(
            gateway=self.gateway, policy=self.recheck_policy, leeway_seconds=self.settings.leeway_seconds
        )

    @cached_property
    def step_up(self) -> StepUpSealer:
        from airflow_webauthn.services.step_up import StepUpSealer, deployment_secret

        return StepUpSealer(secret=deployment_secret())

    def init(self) -> None:
        """Validate the configuration when the API server starts, so mistakes fail loudly and early."""
        from airflow.configuration import conf

        from airflow_webauthn.config import SECTION, WebAuthnConfigError

        if self.team_roles.grants and not conf.getboolean("core", "multi_team", fallback=False):
            raise WebAuthnConfigError(
                f"[{SECTION}] role_mapping gives roles in teams ({', '.join(sorted(self._get_teams()))}) "
                "but [core] multi_team is off: map those groups to a role name, or turn multi_team on"
            )
        super().init()
        if self.settings.service_credentials:
            self._check_own_credential()
            return
        if not self.settings.allow_unchecked_sessions:
            raise WebAuthnConfigError(
                f"[{SECTION}] service_credentials is required: without it Airflow cannot re-check "
                "sessions (disabled users and revoked passkeys would keep access). Create a service "
                "account with the scope sessions:read for Airflow, or set allow_unchecked_sessions = "
                "True to run without re-checks."
            )
        log.warning(
            "[%s] allow_unchecked_sessions = True and no service_credentials: SESSIONS AND "
            "SERVICE-ACCOUNT TOKENS ARE NOT RE-CHECKED. Disabled users, revoked passkeys and disabled "
            "service accounts keep access until their session or token ends.",
            SECTION,
        )

    def _check_own_credential(self) -> None:
        """sessions:read or no start; admin warned about (see ``services.credential_check``). A gateway of
        its own: the pooled one belongs to the app's event loop, which is not running yet."""
        from airflow_webauthn.services.credential_check import check_airflow_credential
        from airflow_webauthn.services.gateway import ServiceGateway

        credentials = self.settings.service_credentials
        assert credentials is not None
        gateway = ServiceGateway(
            base_url=self.settings.service_url,
            timeout_seconds=self.settings.http_timeout_seconds,
            credentials=credentials,
            transport=self._service_transport,
        )
        check_airflow_credential(gateway, client_id=credentials.client_id)

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

        Every session is re-checked with the service (fail closed, see ``services.session_check``).
        Raises ``jwt.InvalidTokenError`` subclasses, which Airflow maps to 401/403, and
        ``SessionEndedError`` (a 401 ``HTTPException`` saying why) for a session or token that ended.
        """
        # One read of the token routes it and, when it is the service's, verifies it (a token seen before
        # costs a hash and a lookup); the current-state checks below run for every request regardless.
        claims = await self.token_verifier.verify_if_ours(token)
        if claims is not None:
            return await self._user_from_service_token(claims)
        user = await super().get_user_from_token(token)
        if not isinstance(user, WebAuthnUser):
            raise jwt.InvalidTokenError("token does not describe a WebAuthn user")
        if user.session_expires_at is not None and time.time() >= user.session_expires_at:
            raise SessionEndedError(
                "Your session has reached its maximum length. Sign in again.",
                code="lifetime",
                cookie_path=_browser_cookie_path(),
            )
        if user.is_service_account:
            # A service account's command-line token (POST /auth/token/cli): refused once the account is
            # disabled or deleted, or its tokens were ended for good (disable, rotate-secret), like its
            # service tokens.
            try:
                await self.service_accounts.check(
                    {"sub": user.user_id, "session_gen": user.session_generation}
                )
            except ServiceAccountRefusedError as err:
                raise SessionEndedError(f"This token is refused: {err}.", code="service_account") from err
            return user
        try:
            # The cookie keeps the user as minted; refresh_user re-mints it when the role changed.
            await self.sessions.check(user)
        except SessionRejectedError as err:
            raise _ended("Your session ended", err, browser=True) from err
        return user

    async def _user_from_service_token(self, claims: dict[str, Any]) -> WebAuthnUser:
        from airflow.models.revoked_token import RevokedToken

        from airflow_webauthn.services.users import user_from_service_claims

        if RevokedToken.is_revoked(claims["jti"]):
            raise jwt.InvalidTokenError("token has been revoked")
        user = user_from_service_claims(claims, role_mapping=self.settings.role_mapping)
        if user.is_service_account:
            # Disabled, deleted, or its tokens ended for good on the service (disabled once, secret
            # rotated): refused within recheck_interval_seconds, not at exp, with the reason in the 401.
            try:
                await self.service_accounts.check(claims)
            except ServiceAccountRefusedError as err:
                raise SessionEndedError(f"This token is refused: {err}.", code="service_account") from err
            return user
        # A person's own service JWT used as Bearer: re-checked like their browser session, and the
        # service's current groups (not the token's) decide the role.
        try:
            return await self.sessions.check(user)
        except SessionRejectedError as err:
            raise _ended("This token's session ended", err, browser=False) from err

    def revoke_token(self, token: str) -> None:
        """Logout: revoke Airflow's own tokens as usual; a service token's jti is revoked locally too."""
        if not self.token_verifier.is_ours(token):
            super().revoke_token(token)
            return
        from datetime import datetime, timezone

        import anyio.from_thread
        from airflow.models.revoked_token import RevokedToken
        from asgiref.sync import async_to_sync

        try:
            try:
                # Airflow's logout route is synchronous (an anyio worker thread): verify on Airflow's
                # event loop, where the gateway's pooled client lives.
                claims = anyio.from_thread.run(self.token_verifier.verify, token)
            except RuntimeError:  # not called from such a thread (tests, CLI)
                claims = async_to_sync(self.token_verifier.verify)(token)
        except jwt.InvalidTokenError:
            self.log.info("Not revoking a service token that does not verify")
            return
        RevokedToken.revoke(claims["jti"], datetime.fromtimestamp(claims["exp"], tz=timezone.utc))

    def refresh_user(self, *, user: WebAuthnUser) -> WebAuthnUser | None:
        """Apply the service's latest answer about this session (never waits: runs on every request)."""
        try:
            return self.sessions.refresh(user)
        except SessionRejectedError as err:
            # Airflow's refresh middleware clears the cookie on this exception; get_user_from_token
            # refuses the same token for the same reason.
            raise AuthManagerRefreshTokenExpiredException(str(err)) from err

    # ---- authorization: BaseAuthManager's interface, each call answered by RoleAuthorization ----

    is_authorized_configuration = _Decided(RoleAuthorization.is_authorized_configuration)
    is_authorized_connection = _Decided(RoleAuthorization.is_authorized_connection)
    is_authorized_dag = _Decided(RoleAuthorization.is_authorized_dag)
    is_authorized_asset = _Decided(RoleAuthorization.is_authorized_asset)
    is_authorized_asset_alias = _Decided(RoleAuthorization.is_authorized_asset_alias)
    is_authorized_pool = _Decided(RoleAuthorization.is_authorized_pool)
    is_authorized_variable = _Decided(RoleAuthorization.is_authorized_variable)
    is_authorized_team = _Decided(RoleAuthorization.is_authorized_team)
    filter_authorized_teams = _Decided(RoleAuthorization.filter_authorized_teams)
    is_authorized_view = _Decided(RoleAuthorization.is_authorized_view)
    is_authorized_custom_view = _Decided(RoleAuthorization.is_authorized_custom_view)
    is_authorized_hitl_task = _Decided(RoleAuthorization.is_authorized_hitl_task)
    filter_authorized_menu_items = _Decided(RoleAuthorization.filter_authorized_menu_items)
    batch_is_authorized_connection = _Decided(RoleAuthorization.batch_is_authorized_connection)
    batch_is_authorized_dag = _Decided(RoleAuthorization.batch_is_authorized_dag)
    batch_is_authorized_pool = _Decided(RoleAuthorization.batch_is_authorized_pool)
    batch_is_authorized_variable = _Decided(RoleAuthorization.batch_is_authorized_variable)
    filter_authorized_dag_ids = _Decided(RoleAuthorization.filter_authorized_dag_ids)
    filter_authorized_connections = _Decided(RoleAuthorization.filter_authorized_connections)
    filter_authorized_pools = _Decided(RoleAuthorization.filter_authorized_pools)
    filter_authorized_variables = _Decided(RoleAuthorization.filter_authorized_variables)

    # ---- URLs, sub-application, CLI ----

    def get_url_login(self, **kwargs: Any) -> str:
        from airflow.api_fastapi.app import AUTH_MANAGER_FASTAPI_APP_PREFIX

        return f"{AUTH_MANAGER_FASTAPI_APP_PREFIX}{LOGIN_PATH}"

    def get_url_logout(self) -> str | None:
        # Airflow then deletes its cookie itself and sends the browser to get_url_login(), whose page
        # also deletes the step-up cookie (bound to the session that just ended).
        return None

    def get_extra_menu_items(self, *, user: WebAuthnUser) -> list[ExtraMenuItem]:
        """ "Users" (the administration page) in Airflow's Security menu, for ADMIN only.

        Airflow 3.2/3.3's UI labels these items with its own translation of ``security.<text lowercased>``
        and shows ``href`` in a same-origin iframe (only paths under ``<base>/auth/`` are allowed there), so
        the href is the mounted page's path, base path included, like ``get_url_login``. "Users" is
        translated there (where admins of Airflow 2 managed users). Everyone's "Passkeys" item is not one of
        these, since Airflow has no translation for it: it is a plugin view in the user menu
        (``menu_plugin.py``), labelled with its literal name.
        """
        from airflow.api_fastapi.app import AUTH_MANAGER_FASTAPI_APP_PREFIX
        from airflow.api_fastapi.common.types import ExtraMenuItem

        if not is_admin(user):
            return []  # service accounts have no browser to show pages to; non-admins have no admin page
        return [ExtraMenuItem(text="Users", href=f"{AUTH_MANAGER_FASTAPI_APP_PREFIX}{ADMIN_PATH}")]

    def get_fastapi_app(self) -> FastAPI | None:
        from airflow_webauthn.routes import create_app

        return create_app(self)

    @staticmethod
    def get_cli_commands() -> list[CLICommand]:
        from airflow_webauthn.cli.definition import get_webauthn_cli_commands

        return get_webauthn_cli_commands()
