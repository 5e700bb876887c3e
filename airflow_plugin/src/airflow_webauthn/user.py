"""The user object Airflow keeps for a request (built from a service token or from Airflow's cookie)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from airflow.api_fastapi.auth.managers.models.base_user import BaseUser

from airflow_webauthn.services.roles import Role, parse_role

if TYPE_CHECKING:
    from collections.abc import Mapping


@dataclass(frozen=True, kw_only=True)
class WebAuthnUser(BaseUser):
    """A person who signed in with a passkey, or a service account presenting a service token.

    :param user_id: the service's stable subject (UUID), never the username
    :param username: ``preferred_username`` (the account name for service accounts)
    :param role: VIEWER, USER, OP or ADMIN; None means no access at all
    :param is_service_account: True for client-credentials tokens (they carry ``client_id``)
    :param passkey_id: the passkey used for this browser session; a revoked passkey ends the session
    :param session_id: random id of one passkey sign-in (binds the step-up cookie to it)
    :param session_expires_at: epoch seconds after which the browser session ends, whatever Airflow's
        own token lifetime is (Airflow re-mints its cookie when the user changes)
    :param session_generation: the account's session generation when this session or token began
        (``session_gen``); once the service's is higher, the session has ended for good
    :param cli_sign_in_id: the command line this token signs in (a one-time CLI code's row on the
        service); revoking it there ends the token on its next re-check
    :param delegation_id: set when an agent acts for this person (a delegated token, RFC 8693 ``act``):
        the grant the service re-checks; the person's access is then narrowed to ``delegated_scope``
    :param agent_client_id: the acting agent's client id (the token's outermost ``act.sub``)
    :param agent_name: the acting agent's name, shown in Airflow's records
    :param delegated_scope: the approved ``dag:`` items (``services.delegation_scope``)
    """

    user_id: str
    username: str
    display_name: str | None = None
    role: str | None = None
    groups: tuple[str, ...] = field(default_factory=tuple)
    is_service_account: bool = False
    passkey_id: str | None = None
    session_expires_at: int | None = None
    session_id: str | None = None
    session_generation: int = 0
    cli_sign_in_id: str | None = None
    delegation_id: str | None = None
    agent_client_id: str | None = None
    agent_name: str | None = None
    delegated_scope: str | None = None

    @property
    def is_delegated(self) -> bool:
        return self.delegation_id is not None

    def get_id(self) -> str:
        return self.user_id

    def get_name(self) -> str:
        # The username, not the display name: Airflow shows it in the user menu (as "<name> (id: <get_id()>)",
        # fixed in its UI) and records it as who triggered a run and in the event log, where a unique name
        # that admins can search for is what is wanted. The display name stays in the service.
        # An agent names both itself and the person it acts for (DAG run's triggering_user_name, event log).
        if self.is_delegated:
            return f"{self.agent_name or self.agent_client_id} (for {self.username})"
        return self.username

    def with_role(self, *, role: str | None, groups: tuple[str, ...]) -> WebAuthnUser:
        return replace(self, role=role, groups=groups)

    def to_claims(self) -> dict[str, Any]:
        """Claims stored in Airflow's own JWT (see ``WebAuthnAuthManager.serialize_user``)."""
        return {
            "sub": self.user_id,
            "username": self.username,
            "name": self.display_name,
            "role": self.role,
            "groups": list(self.groups),
            "service_account": self.is_service_account,
            "passkey_id": self.passkey_id,
            "session_expires_at": self.session_expires_at,
            "sid": self.session_id,
            "session_gen": self.session_generation,
            "cli_sign_in": self.cli_sign_in_id,
            "delegation_id": self.delegation_id,
            "agent_client_id": self.agent_client_id,
            "agent_name": self.agent_name,
            "delegated_scope": self.delegated_scope,
        }

    @classmethod
    def from_claims(cls, claims: dict[str, Any]) -> WebAuthnUser:
        """Inverse of ``to_claims``; raises KeyError/ValueError on a malformed payload."""
        user_id = claims["sub"]
        if not isinstance(user_id, str) or not user_id:
            raise ValueError("sub must be a non-empty string")
        groups = claims.get("groups") or []
        expires = claims.get("session_expires_at")
        return cls(
            user_id=user_id,
            username=str(claims.get("username") or user_id),
            display_name=claims.get("name") or None,
            role=claims.get("role") or None,
            groups=tuple(str(group) for group in groups),
            is_service_account=bool(claims.get("service_account", False)),
            passkey_id=claims.get("passkey_id") or None,
            session_expires_at=int(expires) if expires is not None else None,
            session_id=str(claims["sid"]) if claims.get("sid") else None,
            session_generation=session_generation(claims),
            cli_sign_in_id=str(claims["cli_sign_in"]) if claims.get("cli_sign_in") else None,
            delegation_id=_optional(claims, "delegation_id"),
            agent_client_id=_optional(claims, "agent_client_id"),
            agent_name=_optional(claims, "agent_name"),
            delegated_scope=_optional(claims, "delegated_scope"),
        )


def _optional(claims: Mapping[str, Any], name: str) -> str | None:
    value = claims.get(name)
    return str(value) if value else None


def session_generation(claims: Mapping[str, Any]) -> int:
    """The ``session_gen`` claim: 0 when absent (tokens and cookies from before the claim existed)."""
    if "session_gen" not in claims:
        return 0
    value = claims["session_gen"]
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError("session_gen must be a non-negative integer")
    return value


def is_admin(user: WebAuthnUser) -> bool:
    """The Airflow role that may use the passkey administration page (the service checks its own group)."""
    return not user.is_service_account and not user.is_delegated and parse_role(user.role) is Role.ADMIN
