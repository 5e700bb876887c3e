"""Building the Airflow user from a verified service token's claims."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import jwt

from airflow_webauthn.services.delegation_scope import DelegatedScope
from airflow_webauthn.services.roles import resolve_role
from airflow_webauthn.user import WebAuthnUser, session_generation

if TYPE_CHECKING:
    from collections.abc import Mapping

    from airflow_webauthn.services.roles import Role


class NoRoleError(jwt.InvalidTokenError):
    """The token is genuine but none of its groups maps to an Airflow role: no access (403)."""

    def __init__(self, username: str) -> None:
        super().__init__(f"{username} is not in any group that grants an Airflow role")
        self.username = username


def user_from_service_claims(
    claims: Mapping[str, Any],
    *,
    role_mapping: Mapping[str, Role],
    session_expires_at: int | None = None,
    person: bool = False,
    session_id: str | None = None,
) -> WebAuthnUser:
    """Turn verified claims into a user; raise ``NoRoleError`` when no group is mapped.

    A passkey login carries ``passkey_id``; a client-credentials token carries ``client_id`` but no
    passkey (user tokens also name the Airflow client in ``client_id``, so that alone is not enough).
    ``person`` says the caller knows a person signed in (a browser sign-in, with or without a passkey).
    """
    delegation = delegation_from_claims(claims)
    groups = claims.get("groups", [])
    if not isinstance(groups, list) or not all(isinstance(group, str) for group in groups):
        raise jwt.InvalidTokenError("groups claim must be a list of strings")
    sub = str(claims["sub"])
    username = claims.get("preferred_username")
    username = username if isinstance(username, str) and username else sub
    role = resolve_role(groups, role_mapping)
    if role is None:
        raise NoRoleError(username)
    passkey_id = claims.get("passkey_id")
    passkey_id = passkey_id if isinstance(passkey_id, str) and passkey_id else None
    name = claims.get("name")
    try:
        generation = session_generation(claims)
    except ValueError as err:
        raise jwt.InvalidTokenError(str(err)) from err
    cli_sign_in = claims.get("cli_sign_in")
    return WebAuthnUser(
        user_id=sub,
        username=username,
        display_name=name if isinstance(name, str) and name else None,
        role=role.name,
        groups=tuple(groups),
        # A delegated token names the agent in ``client_id`` but is the person's (``sub``), narrowed.
        is_service_account=delegation is None and not person and passkey_id is None and "client_id" in claims,
        passkey_id=passkey_id,
        session_expires_at=session_expires_at,
        session_id=session_id,
        session_generation=generation,
        cli_sign_in_id=cli_sign_in if isinstance(cli_sign_in, str) and cli_sign_in else None,
        **(delegation.fields() if delegation is not None else {}),
    )


@dataclass(frozen=True)
class Delegation:
    """What a delegated token (RFC 8693 ``act``) says about the agent and the access it was given."""

    delegation_id: str
    agent_client_id: str
    agent_name: str
    scope: str

    def fields(self) -> dict[str, str]:
        return {
            "delegation_id": self.delegation_id,
            "agent_client_id": self.agent_client_id,
            "agent_name": self.agent_name,
            "delegated_scope": self.scope,
        }


def delegation_from_claims(claims: Mapping[str, Any]) -> Delegation | None:
    """None for a person's or service account's own token; raise ``InvalidTokenError`` for a delegated
    token missing any part the intersection needs (fail closed: never read it as the person's own)."""
    if "act" not in claims and "delegation_id" not in claims:
        return None
    act = claims.get("act")
    agent = act.get("sub") if isinstance(act, dict) else None
    delegation_id = claims.get("delegation_id")
    if not isinstance(agent, str) or not agent or not isinstance(delegation_id, str) or not delegation_id:
        raise jwt.InvalidTokenError("a delegated token must carry act.sub and delegation_id")
    try:
        DelegatedScope.parse(claims.get("scope"))
    except ValueError as err:
        raise jwt.InvalidTokenError(f"a delegated token's scope is refused: {err}") from err
    name = claims.get("agent_name")
    return Delegation(
        delegation_id=delegation_id,
        agent_client_id=agent,
        agent_name=name if isinstance(name, str) and name else agent,
        scope=str(claims["scope"]),
    )
