"""Re-checking browser sessions against the auth service, cheaply.

Airflow calls ``refresh_user`` on every request that carries its session cookie, so the answer is
cached per (user, passkey) and the service is asked at most once per ``recheck_interval_seconds``.

When the service cannot be reached the previous decision is kept (fail open) and a warning is logged:
sessions already established keep working through a service outage, while new logins are impossible
anyway. A session still ends at ``session_ttl_seconds`` at the latest, and the next successful check
applies any disable/revocation that happened meanwhile.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_webauthn.services.roles import resolve_role
from airflow_webauthn.services.service_client import (
    AuthServiceError,
    AuthServiceNotConfiguredError,
    AuthServiceUnavailableError,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from airflow_webauthn.services.roles import Role
    from airflow_webauthn.services.service_client import AuthServiceClient
    from airflow_webauthn.user import WebAuthnUser

log = logging.getLogger(__name__)

MAX_CACHED_SESSIONS = 10_000


class SessionRejectedError(Exception):
    """The service says this session must end (user disabled or gone, passkey revoked, no role)."""


@dataclass(frozen=True)
class SessionDecision:
    checked_at: float
    rejected_reason: str | None = None
    role: str | None = None
    groups: tuple[str, ...] = ()


def decide(
    record: dict[str, Any] | None, *, user: WebAuthnUser, role_mapping: Mapping[str, Role], now: float
) -> SessionDecision:
    """Judge a session from the service's user record (None: the user no longer exists)."""
    if record is None:
        return SessionDecision(now, "the account no longer exists")
    if record.get("disabled"):
        return SessionDecision(now, "the account is disabled")
    passkeys = record.get("passkeys")
    if user.passkey_id is not None and isinstance(passkeys, list):
        used = next((p for p in passkeys if isinstance(p, dict) and p.get("id") == user.passkey_id), None)
        if used is None or used.get("revokedAt"):
            return SessionDecision(now, "the passkey used for this session was revoked")
    groups = record.get("groups") or []
    groups = tuple(str(group) for group in groups) if isinstance(groups, list) else ()
    role = resolve_role(groups, role_mapping)
    if role is None:
        return SessionDecision(now, "the account no longer has an Airflow role")
    return SessionDecision(now, None, role.name, groups)


class SessionChecker:
    def __init__(
        self,
        *,
        client: AuthServiceClient,
        role_mapping: Mapping[str, Role],
        interval_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._mapping = role_mapping
        self._interval = interval_seconds
        self._clock = clock
        self._decisions: dict[tuple[str, str | None], SessionDecision] = {}
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self._client.has_credentials

    def remember_login(self, user: WebAuthnUser) -> None:
        """A login just proved the user's state; no need to ask the service on the next request."""
        self._store(user, SessionDecision(self._clock(), None, user.role, user.groups))

    def rejected_reason(self, user: WebAuthnUser) -> str | None:
        """The cached reason this session was ended, if any (no network: safe on every request)."""
        decision = self._decisions.get(_key(user))
        return decision.rejected_reason if decision else None

    def refresh(self, user: WebAuthnUser) -> WebAuthnUser | None:
        """Return an updated user if the role changed, None if unchanged; raise if the session must end."""
        if user.is_service_account or not self.enabled:
            return None
        now = self._clock()
        decision = self._decisions.get(_key(user))
        if decision is None or now - decision.checked_at >= self._interval:
            decision = self._check(user, decision, now)
        if decision.rejected_reason:
            raise SessionRejectedError(decision.rejected_reason)
        if decision.role != user.role or decision.groups != user.groups:
            return user.with_role(role=decision.role, groups=decision.groups)
        return None

    def _check(self, user: WebAuthnUser, previous: SessionDecision | None, now: float) -> SessionDecision:
        try:
            record = self._client.get_user(user.user_id)
        except (AuthServiceUnavailableError, AuthServiceError, AuthServiceNotConfiguredError) as err:
            log.warning(
                "Could not re-check session of %s with the auth service (%s); keeping the last decision",
                user.username,
                err,
            )
            kept = previous or SessionDecision(now, None, user.role, user.groups)
            decision = SessionDecision(now, kept.rejected_reason, kept.role, kept.groups)
        else:
            decision = decide(record, user=user, role_mapping=self._mapping, now=now)
            if decision.rejected_reason:
                log.info("Ending session of %s: %s", user.username, decision.rejected_reason)
        self._store(user, decision)
        return decision

    def _store(self, user: WebAuthnUser, decision: SessionDecision) -> None:
        with self._lock:
            self._decisions.pop(_key(user), None)
            self._decisions[_key(user)] = decision
            while len(self._decisions) > MAX_CACHED_SESSIONS:
                self._decisions.pop(next(iter(self._decisions)))  # oldest first (insertion order)


def _key(user: WebAuthnUser) -> tuple[str, str | None]:
    return (user.user_id, user.passkey_id)
