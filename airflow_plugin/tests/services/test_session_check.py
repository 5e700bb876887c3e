"""Session re-checks: disabled users, revoked or flagged passkeys and role changes end or change sessions
quickly, cheaply (one background check per interval, never waiting on the request path), and FAIL CLOSED:
a session the service has not confirmed within recheck + grace is refused, whatever the reason."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from typing import TYPE_CHECKING

import pytest

from airflow_webauthn.services.confirmations import RETRY_SECONDS
from airflow_webauthn.services.session_check import (
    SessionChecker,
    SessionRejectedError,
    SessionUnconfirmedError,
)
from airflow_webauthn.user import WebAuthnUser

from support import FakeAuthService, gated_transport, make_gateway, make_policy, make_settings

if TYPE_CHECKING:
    import httpx

pytestmark = pytest.mark.anyio

USER = WebAuthnUser(user_id="u-1", username="ada", role="USER", groups=("users",), passkey_id="pk-1")
INTERVAL = 300.0
GRACE = 60.0
USER_PATH = "/v1/admin/users/u-1"


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def checker(
    service: FakeAuthService,
    clock: Clock,
    *,
    interval: float = INTERVAL,
    grace: float = GRACE,
    transport: httpx.AsyncBaseTransport | None = None,
) -> SessionChecker:
    return SessionChecker(
        gateway=make_gateway(service, clock=clock, transport=transport),
        role_mapping=make_settings().role_mapping,
        policy=make_policy(interval=interval, grace=grace, clock=clock),
    )


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def test_unchanged_user_is_checked_once_per_interval() -> None:
    """Within the interval the answer comes from memory: one status read, however many requests."""
    service, clock = FakeAuthService(), Clock()
    service.add_user("u-1")
    sessions = checker(service, clock)
    await sessions.check(USER)
    for _ in range(20):
        assert sessions.refresh(USER) is None
        await sessions.check(USER)
    assert service.count(USER_PATH) == 1
    clock.now += INTERVAL + 1
    for _ in range(20):
        sessions.refresh(USER)
    await settle()
    assert service.count(USER_PATH) == 2


async def test_login_seeds_the_cache() -> None:
    """Right after a passkey login no re-check is needed."""
    service, clock = FakeAuthService(), Clock()
    sessions = checker(service, clock)
    sessions.remember_login(USER)
    assert sessions.refresh(USER) is None
    await sessions.check(USER)
    assert service.attempts == 0


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"disabled": True}, "disabled"),
        ({"passkeys": [{"id": "pk-1", "revokedAt": "2025-06-01T00:00:00Z"}]}, "passkey"),
        ({"passkeys": [{"id": "other", "revokedAt": None}]}, "passkey"),
        ({"passkeys": [{"id": "pk-1", "revokedAt": None, "flaggedAt": "2025-06-01T00:00:00Z"}]}, "flagged"),
        ({"groups": ["unmapped"]}, "no longer has an Airflow role"),
    ],
)
async def test_session_ends_when_service_says_so(fields: dict[str, object], reason: str) -> None:
    """Disabled user, revoked (or deleted) or FLAGGED session passkey, or no mapped group: it ends."""
    service, clock = FakeAuthService(), Clock()
    service.add_user("u-1", **fields)
    sessions = checker(service, clock)
    with pytest.raises(SessionRejectedError, match=reason):
        await sessions.check(USER)
    with pytest.raises(SessionRejectedError, match=reason):
        sessions.refresh(USER)


async def test_a_session_from_before_an_ended_generation_stays_ended_after_enable(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Disable then enable (or unflag, or a provider sign-out) raises the account's generation: the
    session from before stays refused, saying why, while a session of the new generation is honoured.
    The log names the person by username."""
    service, clock = FakeAuthService(), Clock()
    service.add_user("u-1", username="ada", sessionGeneration=1, sessionsEndedReason="account_disabled")
    sessions = checker(service, clock)
    with (
        caplog.at_level(logging.INFO),
        pytest.raises(SessionRejectedError, match="account was disabled") as ended,
    ):
        await sessions.check(USER)
    assert ended.value.code == "ended_account_disabled"
    assert (
        "Ending sessions of ada (user id u-1): the account was disabled, which ended it for good"
        in caplog.text
    )
    renewed = replace(USER, session_generation=1)
    assert await sessions.check(renewed) == renewed


@pytest.mark.parametrize(
    ("reason", "words"),
    [
        ("passkey_flagged", "blocked after a security check"),
        ("idp_logout", "identity provider"),
        (None, "administrator"),
    ],
)
async def test_an_ended_session_says_why(reason: str | None, words: str) -> None:
    service, clock = FakeAuthService(), Clock()
    service.add_user("u-1", sessionGeneration=2, sessionsEndedReason=reason)
    with pytest.raises(SessionRejectedError, match=words):
        await checker(service, clock).check(replace(USER, session_generation=1))


@pytest.mark.parametrize("generation", [None, "1", True, 1.5])
async def test_an_unreadable_generation_ends_the_session(generation: object) -> None:
    """Fail closed: a status answer whose generation cannot be compared is no confirmation."""
    service, clock = FakeAuthService(), Clock()
    service.add_user("u-1", sessionGeneration=generation)
    with pytest.raises(SessionRejectedError):
        await checker(service, clock).check(USER)


async def test_a_command_line_lives_only_while_the_service_lists_it() -> None:
    """A command line's session (airflowctl, signed in with a one-time code) ends once the person
    signs it out: the record no longer lists it. The person's browser session is judged apart and
    lives on; a record without the list (an older service) ends the command line, never keeps it."""
    command_line = replace(USER, cli_sign_in_id="cli-1")
    service, clock = FakeAuthService(), Clock()
    service.add_user("u-1", commandLines=[{"id": "cli-1", "state": "signed_in"}])
    sessions = checker(service, clock)
    assert await sessions.check(command_line) == command_line
    # The re-check names the command line, so the service records its last use.
    assert service.last(USER_PATH).url.params["commandLine"] == "cli-1"
    service.users["u-1"]["commandLines"] = [{"id": "cli-2", "state": "signed_in"}]
    clock.now += INTERVAL + 1
    sessions.refresh(command_line)
    await settle()
    with pytest.raises(SessionRejectedError, match="command line was signed out"):
        await sessions.check(command_line)
    assert await sessions.check(USER) == USER
    del service.users["u-1"]["commandLines"]
    with pytest.raises(SessionRejectedError, match="command line was signed out"):
        await checker(service, clock).check(command_line)


async def test_deleted_user_loses_the_session() -> None:
    """A user the service no longer knows (404) is logged out."""
    service, clock = FakeAuthService(), Clock()
    with pytest.raises(SessionRejectedError, match="no longer exists"):
        await checker(service, clock).check(USER)


async def test_revocation_takes_effect_right_after_the_next_check() -> None:
    """Disabling a user applies within recheck_interval_seconds (+ the one request that starts the
    background check), not at the end of the session."""
    service, clock = FakeAuthService(), Clock()
    service.add_user("u-1")
    sessions = checker(service, clock, interval=60)
    await sessions.check(USER)
    service.users["u-1"]["disabled"] = True
    assert sessions.refresh(USER) is None  # cached within the interval
    clock.now += 60
    assert sessions.refresh(USER) is None  # starts the check, never waits for it
    await settle()
    with pytest.raises(SessionRejectedError, match="disabled"):
        sessions.refresh(USER)


async def test_role_change_returns_updated_user() -> None:
    """A new group mapping yields an updated user (Airflow re-mints the cookie with the new role)."""
    service, clock = FakeAuthService(), Clock()
    service.add_user("u-1", groups=["viewers"])
    sessions = checker(service, clock)
    await sessions.check(USER)
    updated = sessions.refresh(USER)
    assert updated is not None
    assert (updated.role, updated.groups, updated.passkey_id) == ("VIEWER", ("viewers",), "pk-1")


async def test_outage_is_tolerated_only_for_the_grace() -> None:
    """Service unreachable: the session continues on the last answer up to recheck + grace (one failed
    attempt, not one per request), then it is refused, and comes back once the service answers."""
    service, clock = FakeAuthService(), Clock()
    service.add_user("u-1")
    sessions = checker(service, clock)
    await sessions.check(USER)
    service.up = False
    clock.now += INTERVAL + 1
    assert sessions.refresh(USER) is None
    await settle()
    attempts = service.attempts
    for _ in range(10):
        assert sessions.refresh(USER) is None
        await sessions.check(USER)
    assert service.attempts == attempts  # not retried on every request during the outage
    clock.now += GRACE
    with pytest.raises(SessionUnconfirmedError, match="cannot reach its sign-in service"):
        sessions.refresh(USER)
    with pytest.raises(SessionUnconfirmedError):
        await sessions.check(USER)
    service.up = True
    clock.now += RETRY_SECONDS
    await sessions.check(USER)  # no usable answer: this request waits for the (async) check
    assert sessions.refresh(USER) is None


@pytest.mark.parametrize("status", [401, 403, 429, 500, 503])
async def test_airflow_being_refused_fails_closed(status: int, caplog: pytest.LogCaptureFixture) -> None:
    """A flood that rate-limits Airflow's credential (429), a rotated secret (401), a missing scope
    (403) or a failing service (5xx): after recheck + grace the session is refused, never kept on its
    last decision; the log says so once per interval, not once per request."""
    service, clock = FakeAuthService(), Clock()
    service.add_user("u-1")
    sessions = checker(service, clock)
    await sessions.check(USER)
    service.reply("GET", USER_PATH, status, {"statusCode": status, "error": "x", "message": "no"})
    clock.now += INTERVAL + GRACE
    with caplog.at_level(logging.WARNING):
        for _ in range(10):
            with pytest.raises(SessionUnconfirmedError):
                await sessions.check(USER)
            with pytest.raises(SessionRejectedError):
                sessions.refresh(USER)
    assert caplog.text.count("cannot reach its sign-in service to confirm sessions") == 1
    assert caplog.text.count("Refusing sessions") == 1


async def test_a_rejection_is_kept_while_the_service_is_unreachable() -> None:
    """A session already ended stays ended while the service is unreachable."""
    service, clock = FakeAuthService(), Clock()
    service.add_user("u-1", disabled=True)
    sessions = checker(service, clock)
    with pytest.raises(SessionRejectedError):
        await sessions.check(USER)
    service.up = False
    clock.now += INTERVAL + 1
    with pytest.raises(SessionRejectedError):
        sessions.refresh(USER)


async def test_sessions_are_tracked_per_passkey() -> None:
    """Revoking one passkey ends only the sessions opened with it."""
    service, clock = FakeAuthService(), Clock()
    service.add_user("u-1", passkeys=[{"id": "pk-1", "revokedAt": "x"}, {"id": "pk-2", "revokedAt": None}])
    sessions = checker(service, clock)
    with pytest.raises(SessionRejectedError):
        await sessions.check(USER)
    other = WebAuthnUser(user_id="u-1", username="ada", role="USER", groups=("users",), passkey_id="pk-2")
    await sessions.check(other)
    assert sessions.refresh(other) is None


async def test_concurrent_requests_of_one_session_cause_one_check() -> None:
    """Single flight: many requests of one session while its check runs share that one status read,
    and the event loop stays free meanwhile."""
    service, clock = FakeAuthService(), Clock()
    service.add_user("u-1", disabled=True)
    transport, fetching, release = gated_transport(service, USER_PATH)
    sessions = checker(service, clock, transport=transport)
    tasks = [asyncio.create_task(sessions.check(USER)) for _ in range(20)]
    await asyncio.wait_for(fetching.wait(), 10)
    await settle()
    assert not any(task.done() for task in tasks)
    release.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert all(isinstance(result, SessionRejectedError) for result in results)
    assert service.count(USER_PATH) == 1


async def test_refresh_never_does_network_io_on_the_request_path() -> None:
    """refresh_user is synchronous on Airflow's event loop: it reads memory and schedules, never waits."""
    service, clock = FakeAuthService(), Clock()
    service.add_user("u-1")
    sessions = checker(service, clock)
    with pytest.raises(SessionUnconfirmedError):
        sessions.refresh(USER)  # nothing known yet: refused now, the check runs in the background
    assert service.count(USER_PATH) == 0
    await settle()
    assert service.count(USER_PATH) == 1
    assert sessions.refresh(USER) is None
