"""Session re-checks: disabled users, revoked passkeys and role changes end or change sessions quickly,
while staying cheap (cached) on every request and tolerant of a service outage."""

from __future__ import annotations

import pytest

from airflow_webauthn.services.service_client import AuthServiceClient
from airflow_webauthn.services.session_check import SessionChecker, SessionRejectedError
from airflow_webauthn.user import WebAuthnUser

from support import FakeAuthService, make_settings

USER = WebAuthnUser(user_id="u-1", username="ada", role="USER", groups=("users",), passkey_id="pk-1")


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def checker(service: FakeAuthService, clock: Clock, interval: float = 300) -> SessionChecker:
    settings = make_settings()
    client = AuthServiceClient(
        base_url=settings.service_url,
        timeout_seconds=1,
        credentials=settings.service_credentials,
        transport=service.transport(),
    )
    return SessionChecker(
        client=client, role_mapping=settings.role_mapping, interval_seconds=interval, clock=clock
    )


def test_unchanged_user_is_checked_once_per_interval() -> None:
    """Within the interval the answer comes from memory: one admin call, however many requests."""
    service, clock = FakeAuthService(), Clock()
    service.add_user("u-1")
    sessions = checker(service, clock)
    for _ in range(20):
        assert sessions.refresh(USER) is None
    assert service.count("/v1/admin/users/u-1") == 1
    clock.now += 301
    sessions.refresh(USER)
    assert service.count("/v1/admin/users/u-1") == 2


def test_login_seeds_the_cache() -> None:
    """Right after a passkey login no re-check is needed."""
    service, clock = FakeAuthService(), Clock()
    sessions = checker(service, clock)
    sessions.remember_login(USER)
    assert sessions.refresh(USER) is None
    assert service.attempts == 0


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"disabled": True}, "disabled"),
        ({"passkeys": [{"id": "pk-1", "revokedAt": "2025-06-01T00:00:00Z"}]}, "passkey"),
        ({"passkeys": [{"id": "other", "revokedAt": None}]}, "passkey"),
        ({"groups": ["unmapped"]}, "no longer has an Airflow role"),
    ],
)
def test_session_ends_when_service_says_so(fields: dict[str, object], reason: str) -> None:
    """Disabled user, revoked (or deleted) session passkey, or no mapped group: the session ends."""
    service, clock = FakeAuthService(), Clock()
    service.add_user("u-1", **fields)
    sessions = checker(service, clock)
    with pytest.raises(SessionRejectedError, match=reason):
        sessions.refresh(USER)
    assert reason.split()[0] in (sessions.rejected_reason(USER) or "")


def test_deleted_user_loses_the_session() -> None:
    """A user the service no longer knows (404) is logged out."""
    service, clock = FakeAuthService(), Clock()
    with pytest.raises(SessionRejectedError, match="no longer exists"):
        checker(service, clock).refresh(USER)


def test_revocation_takes_effect_at_the_next_check() -> None:
    """Disabling a user applies within recheck_interval_seconds, not at the end of the session."""
    service, clock = FakeAuthService(), Clock()
    service.add_user("u-1")
    sessions = checker(service, clock, interval=60)
    sessions.refresh(USER)
    service.users["u-1"]["disabled"] = True
    assert sessions.refresh(USER) is None  # cached within the interval
    clock.now += 60
    with pytest.raises(SessionRejectedError):
        sessions.refresh(USER)


def test_role_change_returns_updated_user() -> None:
    """A new group mapping yields an updated user (Airflow re-mints the cookie with the new role)."""
    service, clock = FakeAuthService(), Clock()
    service.add_user("u-1", groups=["viewers"])
    updated = checker(service, clock).refresh(USER)
    assert updated is not None
    assert (updated.role, updated.groups, updated.passkey_id) == ("VIEWER", ("viewers",), "pk-1")


def test_outage_keeps_the_last_decision() -> None:
    """Service unreachable: sessions continue on the cached decision (fail open, logged)."""
    service, clock = FakeAuthService(), Clock()
    service.add_user("u-1")
    sessions = checker(service, clock)
    sessions.refresh(USER)
    service.up = False
    clock.now += 301
    assert sessions.refresh(USER) is None
    attempts = service.attempts
    sessions.refresh(USER)
    assert service.attempts == attempts  # not retried on every request during the outage


def test_outage_keeps_a_rejection() -> None:
    """A session already ended stays ended while the service is unreachable."""
    service, clock = FakeAuthService(), Clock()
    service.add_user("u-1", disabled=True)
    sessions = checker(service, clock)
    with pytest.raises(SessionRejectedError):
        sessions.refresh(USER)
    service.up = False
    clock.now += 301
    with pytest.raises(SessionRejectedError):
        sessions.refresh(USER)


def test_sessions_are_tracked_per_passkey() -> None:
    """Revoking one passkey ends only the sessions opened with it."""
    service, clock = FakeAuthService(), Clock()
    service.add_user("u-1", passkeys=[{"id": "pk-1", "revokedAt": "x"}, {"id": "pk-2", "revokedAt": None}])
    sessions = checker(service, clock)
    with pytest.raises(SessionRejectedError):
        sessions.refresh(USER)
    other = WebAuthnUser(user_id="u-1", username="ada", role="USER", groups=("users",), passkey_id="pk-2")
    assert sessions.refresh(other) is None
