"""Re-checking a person's session against the auth service: browser sessions and their own service JWT.

Airflow asks on every request (``get_user_from_token``, then ``refresh_user`` for cookies), so the
service's answer is kept per (user, passkey) and refreshed in the background at most once per
``recheck_interval_seconds`` (see ``services.confirmations``). Fail closed: a session the service has
not confirmed within ``recheck_interval_seconds + unverified_grace_seconds`` is refused, whatever kept
the service from answering. A rejection (disabled, deleted, passkey revoked or flagged, no role) is a
confirmed answer too: it ends the session on the next request.

An agent's delegated token is the person's session narrowed: it is judged like the person's, and its
delegation must also still be ``live`` on the service (``GET /v1/admin/delegations/{id}``: not revoked,
not expired, person and agent enabled, approving passkey valid), asked in the same re-check.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_webauthn.services.confirmations import Confirmations, UnconfirmedError
from airflow_webauthn.services.roles import resolve_role

if TYPE_CHECKING:
    from collections.abc import Mapping

    from airflow_webauthn.services.confirmations import RecheckPolicy
    from airflow_webauthn.services.gateway import ServiceGateway
    from airflow_webauthn.services.roles import Role
    from airflow_webauthn.user import WebAuthnUser

log = logging.getLogger(__name__)


class SessionRejectedError(Exception):
    """This session must end (user disabled or gone, passkey revoked or flagged, no role, ended for good).

    ``code`` names the reason for the login page (``ENDED_CODES`` of ``auth_manager``).
    """

    def __init__(self, message: str, code: str = "unconfirmed") -> None:
        super().__init__(message)
        self.code = code


class SessionUnconfirmedError(SessionRejectedError):
    """The service has not confirmed this session within recheck + grace (down, refusing Airflow...)."""


# Why an account's sessions were ended for good (the service's ``sessionsEndedReason``), in words.
ENDED_FOR_GOOD: dict[str, str] = {
    "account_disabled": "the account was disabled",
    "passkey_flagged": "a passkey of this account was blocked after a security check",
    "idp_logout": "you signed out at your identity provider",
    "secret_rotated": "the client secret was rotated",
}
# When the service gives no reason (a service older than the reason, or a new one).
ENDED_UNKNOWN = "an administrator ended it"


@dataclass(frozen=True)
class SessionDecision:
    """The service's verdict on one session: ``rejected_reason`` (words) and ``code`` (for the login
    page, one of ``ENDED_CODES``) when it must end; otherwise the role and groups it has now."""

    rejected_reason: str | None = None
    role: str | None = None
    groups: tuple[str, ...] = ()
    code: str | None = None


def _rejected(code: str, reason: str) -> SessionDecision:
    return SessionDecision(rejected_reason=reason, code=code)


def decide_delegation(
    delegation: dict[str, Any] | None, *, user_id: str, delegation_id: str
) -> SessionDecision | None:
    """A rejection unless the service says this delegation of this person is live (None: it is)."""
    if delegation is None:
        return _rejected("delegation_ended", "the agent's delegation no longer exists")
    if delegation.get("id") != delegation_id or delegation.get("userId") != user_id:
        return _rejected("delegation_ended", "the service described another delegation")
    state = delegation.get("state")
    if state == "live":
        return None
    because = delegation.get("endedBecause")
    detail = f" ({str(because).replace('_', ' ')})" if because else ""
    return _rejected("delegation_ended", f"the agent's delegation is {state}{detail}")


def decide(
    record: dict[str, Any] | None,
    *,
    passkey_id: str | None,
    role_mapping: Mapping[str, Role],
    generation: int = 0,
    cli_sign_in_id: str | None = None,
) -> SessionDecision:
    """Judge a session from the service's user record (None: the user no longer exists).

    ``generation`` is the session's ``session_gen``: a session from before the account's current
    generation ended for good (disable, flagged passkey, provider sign-out) whatever the account's
    state is now. A command line's session (``cli_sign_in_id``) lives only while the record lists it
    among the person's ``commandLines``: revoked, or a record without the list, ends it.
    """
    if record is None:
        return _rejected("account_unknown", "the account no longer exists")
    if record.get("disabled"):
        return _rejected("account_disabled", "the account is disabled")
    current = record.get("sessionGeneration", 0)
    if not isinstance(current, int) or isinstance(current, bool) or current != generation:
        ended_reason = record.get("sessionsEndedReason")
        why = ENDED_FOR_GOOD.get(str(ended_reason), ENDED_UNKNOWN)
        return _rejected(f"ended_{ended_reason or 'unknown'}", f"{why}, which ended it for good")
    passkeys = record.get("passkeys")
    if passkey_id is not None:
        used = None
        if isinstance(passkeys, list):
            used = next((p for p in passkeys if isinstance(p, dict) and p.get("id") == passkey_id), None)
        if used is None or used.get("revokedAt"):
            return _rejected("passkey_revoked", "the passkey used for this session was revoked")
        if used.get("flaggedAt"):
            return _rejected(
                "passkey_flagged", "the passkey used for this session was flagged as possibly cloned"
            )
    if cli_sign_in_id is not None:
        lines = record.get("commandLines")
        listed = isinstance(lines, list) and any(
            isinstance(line, dict) and line.get("id") == cli_sign_in_id for line in lines
        )
        if not listed:
            return _rejected("cli_signed_out", "this command line was signed out (its sign-in was revoked)")
    groups = record.get("groups") or []
    groups = tuple(str(group) for group in groups) if isinstance(groups, list) else ()
    role = resolve_role(groups, role_mapping)
    if role is None:
        return _rejected("no_role", "the account no longer has an Airflow role")
    return SessionDecision(None, role.name, groups)


# (user id, passkey id, command line id, session generation, delegation id): sessions that differ in
# any of them are judged apart.
_Key = tuple[str, str | None, str | None, int, str | None]


class SessionChecker:
    def __init__(
        self,
        *,
        gateway: ServiceGateway,
        role_mapping: Mapping[str, Role],
        policy: RecheckPolicy,
    ) -> None:
        self._gateway = gateway
        self._mapping = role_mapping
        self._answers: Confirmations[_Key, SessionDecision] = Confirmations(
            what="sessions", fetch=self._fetch, policy=policy
        )

    @property
    def enabled(self) -> bool:
        """Off only with ``allow_unchecked_sessions`` and no ``service_credentials``."""
        return self._gateway.has_credentials

    def remember_login(self, user: WebAuthnUser) -> None:
        """A login just proved the user's state; no need to ask the service on the next request."""
        self._answers.seed(_key(user), SessionDecision(None, user.role, user.groups))

    def refresh(self, user: WebAuthnUser) -> WebAuthnUser | None:
        """For ``refresh_user`` (synchronous, never waits): an updated user if the role changed, None if
        unchanged; raises ``SessionRejectedError`` if the session must end."""
        if user.is_service_account or not self.enabled:
            return None
        return _apply(user, self._decision(user, self._answers.current))

    async def check(self, user: WebAuthnUser) -> WebAuthnUser:
        """For ``get_user_from_token``: the user as the service last confirmed it, or raise."""
        if user.is_service_account or not self.enabled:
            return user
        try:
            decision = await self._answers.confirmed(_key(user))
        except UnconfirmedError as err:
            self._answers.refused()
            raise SessionUnconfirmedError(str(err), "unconfirmed") from err
        return _apply(user, decision) or user

    def _decision(self, user: WebAuthnUser, read: Any) -> SessionDecision:
        try:
            decision: SessionDecision = read(_key(user))
        except UnconfirmedError as err:
            self._answers.refused()
            raise SessionUnconfirmedError(str(err), "unconfirmed") from err
        return decision

    async def _fetch(self, key: _Key) -> SessionDecision:
        user_id, passkey_id, cli_sign_in_id, generation, delegation_id = key
        record = await self._gateway.user_status(user_id, command_line=cli_sign_in_id)
        decision = decide(
            record,
            passkey_id=passkey_id,
            role_mapping=self._mapping,
            generation=generation,
            cli_sign_in_id=cli_sign_in_id,
        )
        if delegation_id is not None and not decision.rejected_reason:
            delegation = await self._gateway.delegation_status(delegation_id)
            decision = decide_delegation(delegation, user_id=user_id, delegation_id=delegation_id) or decision
        if decision.rejected_reason:
            # Admins read these logs: name the person as they know them (the id stays for correlation).
            username = record.get("username") if record else None
            log.info(
                "Ending sessions of %s (user id %s): %s",
                username if isinstance(username, str) and username else "a deleted user",
                user_id,
                decision.rejected_reason,
            )
        return decision


def _apply(user: WebAuthnUser, decision: SessionDecision) -> WebAuthnUser | None:
    if decision.rejected_reason:
        raise SessionRejectedError(decision.rejected_reason, decision.code or "ended")
    if decision.role != user.role or decision.groups != user.groups:
        return user.with_role(role=decision.role, groups=decision.groups)
    return None


def _key(user: WebAuthnUser) -> _Key:
    return (
        user.user_id,
        user.passkey_id,
        user.cli_sign_in_id,
        user.session_generation,
        user.delegation_id,
    )
