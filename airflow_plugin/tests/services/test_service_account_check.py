"""Service-account tokens: a disabled or deleted account loses access within the re-check interval,
from one cached list of service accounts that is fetched off the event loop and shared by all requests."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import jwt
import pytest

from airflow_webauthn.services.confirmations import RETRY_SECONDS
from airflow_webauthn.services.service_account_check import (
    ServiceAccountChecker,
    ServiceAccountRefusedError,
)

from support import (
    SERVICE_ACCOUNT_ID,
    FakeAuthService,
    gated_transport,
    make_gateway,
    make_policy,
    service_account_claims,
)

if TYPE_CHECKING:
    import httpx

pytestmark = pytest.mark.anyio

LIST_PATH = "/v1/admin/service-accounts"
INTERVAL = 60.0
GRACE = 30.0
LEEWAY = 30.0
MISS_GAP = 5.0
START = 1_800_000_000.0  # wall-clock seconds: compared with the tokens' iat


class Clock:
    """Wall clock under test control; ``sleep`` advances it instead of waiting."""

    def __init__(self) -> None:
        self.now = START
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def checker(
    service: FakeAuthService,
    clock: Clock,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    credentials: bool = True,
    interval: float = INTERVAL,
    grace: float = GRACE,
) -> ServiceAccountChecker:
    return ServiceAccountChecker(
        gateway=make_gateway(service, clock=clock, credentials=credentials, transport=transport),
        policy=make_policy(interval=interval, grace=grace, clock=clock, sleep=clock.sleep),
        leeway_seconds=LEEWAY,
        miss_refresh_min_seconds=MISS_GAP,
        wall_clock=clock,
    )


def gated(service: FakeAuthService) -> tuple[httpx.MockTransport, Any, Any]:
    """A transport whose service-account list waits for ``release``; ``fetching`` is set once it waits."""
    return gated_transport(service, LIST_PATH)


def token(clock: Clock, **overrides: Any) -> dict[str, Any]:
    """Claims of a client-credentials token issued just now (by the test clock)."""
    return service_account_claims(iat=int(clock.now), **overrides)


async def settle() -> None:
    """Let background refreshes (tasks on this loop) run to completion."""
    for _ in range(20):
        await asyncio.sleep(0)


async def test_one_fetch_serves_every_request_within_the_interval() -> None:
    """Cheap: however many requests, the service is asked once per interval, and again after it."""
    service, clock = FakeAuthService(), Clock()
    accounts = checker(service, clock)
    for _ in range(50):
        await accounts.check(token(clock))
        clock.now += 1
    assert service.count(LIST_PATH) == 1
    clock.now += INTERVAL
    for _ in range(10):
        await accounts.check(token(clock))
    await settle()
    assert service.count(LIST_PATH) == 2


async def test_disabled_account_is_refused_with_an_invalid_token_error() -> None:
    """A disabled account's token is refused with a jwt.InvalidTokenError (Airflow answers 403, not 500)."""
    service, clock = FakeAuthService(), Clock()
    service.service_accounts[SERVICE_ACCOUNT_ID]["disabled"] = True
    with pytest.raises(ServiceAccountRefusedError, match="disabled") as refused:
        await checker(service, clock).check(token(clock))
    assert isinstance(refused.value, jwt.InvalidTokenError)


async def test_disable_takes_effect_at_the_next_fetch_and_enable_too() -> None:
    """Disabling applies within recheck_interval_seconds (not at the token's exp); enabling restores it."""
    service, clock = FakeAuthService(), Clock()
    accounts = checker(service, clock)
    claims = token(clock)
    await accounts.check(claims)
    service.service_accounts[SERVICE_ACCOUNT_ID]["disabled"] = True
    clock.now += INTERVAL - 1
    await accounts.check(claims)  # still the cached list
    clock.now += 1
    await accounts.check(claims)  # stale: this request starts the refresh, off its own path
    await settle()
    with pytest.raises(ServiceAccountRefusedError, match="disabled"):
        await accounts.check(claims)
    service.service_accounts[SERVICE_ACCOUNT_ID]["disabled"] = False
    clock.now += INTERVAL
    with pytest.raises(ServiceAccountRefusedError, match="disabled"):
        await accounts.check(claims)  # starts the refresh
    await settle()
    await accounts.check(claims)
    assert service.count(LIST_PATH) == 3


@pytest.mark.parametrize(
    ("reason", "words"),
    [("account_disabled", "account was disabled"), ("secret_rotated", "secret was rotated")],
)
async def test_a_token_from_before_a_disable_or_rotation_stays_refused(reason: str, words: str) -> None:
    """Disable-then-enable or rotate-secret raise the account's generation: its older tokens stay
    refused, saying why, while a token issued since (carrying the new generation) is accepted."""
    service, clock = FakeAuthService(), Clock()
    service.service_accounts[SERVICE_ACCOUNT_ID].update(sessionGeneration=1, sessionsEndedReason=reason)
    accounts = checker(service, clock)
    with pytest.raises(
        ServiceAccountRefusedError, match=f"{words}, which ended the tokens issued before; get a new token"
    ):
        await accounts.check(token(clock))  # issued before the claim existed: generation 0
    with pytest.raises(ServiceAccountRefusedError, match=words):
        await accounts.check(token(clock, session_gen=0))
    await accounts.check(token(clock, session_gen=1))


@pytest.mark.parametrize("claim", ["1", -1, True, None])
async def test_a_malformed_generation_claim_is_refused(claim: object) -> None:
    service, clock = FakeAuthService(), Clock()
    with pytest.raises(ServiceAccountRefusedError):
        await checker(service, clock).check(token(clock, session_gen=claim))


async def test_unknown_account_gets_one_more_fetch_then_is_refused() -> None:
    """An account missing from the list may be newer than it: one fetch, then refused if still missing."""
    service, clock = FakeAuthService(), Clock()
    accounts = checker(service, clock)
    await accounts.check(token(clock))
    clock.now += 10
    with pytest.raises(ServiceAccountRefusedError, match="no longer exists"):
        await accounts.check(token(clock, sub="gone-account"))
    assert service.count(LIST_PATH) == 2


async def test_account_created_after_the_snapshot_is_accepted() -> None:
    """A service account created after the list was fetched is not refused: the miss fetches it."""
    service, clock = FakeAuthService(), Clock()
    accounts = checker(service, clock)
    await accounts.check(token(clock))
    clock.now += 1
    service.add_service_account("new-account", name="etl", groups=["ops"])
    await accounts.check(token(clock, sub="new-account", client_id="etl"))
    assert service.count(LIST_PATH) == 2


async def test_token_older_than_the_snapshot_for_a_missing_account_is_refused_without_a_fetch() -> None:
    """A list fetched after the token was issued (beyond the clock leeway) already proves the account is gone."""
    service, clock = FakeAuthService(), Clock()
    accounts = checker(service, clock)
    old = token(clock, sub="deleted-account")
    clock.now += LEEWAY + 1
    await accounts.check(token(clock))  # the list is fetched now, after the old token was issued
    for _ in range(10):
        clock.now += 1
        with pytest.raises(ServiceAccountRefusedError, match="no longer exists"):
            await accounts.check(old)
    assert service.count(LIST_PATH) == 1


async def test_misses_fetch_at_most_once_per_gap_and_wait_for_it_instead_of_refusing() -> None:
    """Tokens for unknown accounts cannot make Airflow hammer the service; a new account inside the
    gap waits for the next fetch rather than being refused."""
    service, clock = FakeAuthService(), Clock()
    accounts = checker(service, clock)
    await accounts.check(token(clock))
    clock.now += 10
    with pytest.raises(ServiceAccountRefusedError):
        await accounts.check(token(clock, sub="unknown"))
    assert service.count(LIST_PATH) == 2
    clock.now += 1
    service.add_service_account("new-account", name="etl")
    await accounts.check(token(clock, sub="new-account", client_id="etl"))
    assert clock.slept == [MISS_GAP - 1]
    assert service.count(LIST_PATH) == 3


async def test_client_id_must_match_the_account() -> None:
    """``sub`` names the account and ``client_id`` must be that account's client id."""
    service, clock = FakeAuthService(), Clock()
    with pytest.raises(ServiceAccountRefusedError):
        await checker(service, clock).check(token(clock, client_id="someone-else"))


async def test_outage_keeps_the_last_snapshot_only_within_the_grace() -> None:
    """Service unreachable: the last list serves for recheck_interval + unverified_grace (disabled ones
    stay refused), the fetch is not retried on every request, and after that EVERY token is refused."""
    service, clock = FakeAuthService(), Clock()
    service.add_service_account("off", disabled=True)
    accounts = checker(service, clock)
    await accounts.check(token(clock))
    service.up = False
    clock.now += INTERVAL
    await accounts.check(token(clock))  # stale, within the grace: starts one background refresh
    await settle()
    await accounts.check(token(clock))
    with pytest.raises(ServiceAccountRefusedError, match="disabled"):
        await accounts.check(token(clock, sub="off", client_id="off"))
    assert service.attempts == 3  # admin token + first list + one failed list
    clock.now += GRACE
    with pytest.raises(ServiceAccountRefusedError, match="cannot reach its sign-in service"):
        await accounts.check(token(clock))
    service.up = True
    clock.now += RETRY_SECONDS  # failed attempts are retried this far apart, not per request
    await accounts.check(token(clock))  # the service answers again: back in


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (401, {"statusCode": 401, "error": "Unauthorized", "message": "no", "code": "unauthenticated"}),
        (403, {"statusCode": 403, "error": "Forbidden", "message": "no", "code": "forbidden"}),
        (429, {"statusCode": 429, "error": "Too Many Requests", "message": "slow down"}),
        (503, None),
    ],
)
async def test_any_refusal_of_airflow_fails_closed_after_the_grace(
    caplog: pytest.LogCaptureFixture, status: int, body: Any
) -> None:
    """A flood that rate-limits Airflow (429), a rotated secret (401), a lost scope (403) or a 5xx
    never freezes the last answer: past interval + grace the tokens are refused, and the log says why
    once, not per request."""
    service, clock = FakeAuthService(), Clock()
    accounts = checker(service, clock)
    await accounts.check(token(clock))
    service.reply("GET", LIST_PATH, status, body)
    service.reply("POST", "/v1/oauth/token", status, body)
    clock.now += INTERVAL + GRACE
    with caplog.at_level(logging.WARNING):
        for _ in range(5):
            with pytest.raises(ServiceAccountRefusedError, match="cannot reach"):
                await accounts.check(token(clock))
            await settle()
    assert caplog.text.count("to confirm sessions") == 1
    assert caplog.text.count("Refusing service-account tokens") == 1


async def test_without_any_snapshot_nothing_is_accepted() -> None:
    """Never reached the service: a JWKS-verified token is still refused (fail closed), with no 500."""
    service, clock = FakeAuthService(), Clock()
    service.up = False
    accounts = checker(service, clock)
    with pytest.raises(ServiceAccountRefusedError, match="cannot reach"):
        await accounts.check(token(clock))
    with pytest.raises(ServiceAccountRefusedError, match="cannot reach"):
        await accounts.check(token(clock, sub="anyone"))


async def test_check_is_off_without_service_credentials() -> None:
    """No service_credentials: nothing is asked and nothing is refused (as for session re-checks)."""
    service, clock = FakeAuthService(), Clock()
    service.service_accounts[SERVICE_ACCOUNT_ID]["disabled"] = True
    await checker(service, clock, credentials=False).check(token(clock))
    assert service.attempts == 0


async def test_concurrent_requests_share_one_fetch_without_blocking_the_event_loop() -> None:
    """While the list is being fetched the event loop keeps running, and every waiting request (even
    after one of them is cancelled) gets the answer of that single fetch."""
    service, clock = FakeAuthService(), Clock()
    service.service_accounts[SERVICE_ACCOUNT_ID]["disabled"] = True
    transport, fetching, release = gated(service)
    accounts = checker(service, clock, transport=transport)
    tasks = [asyncio.create_task(accounts.check(token(clock))) for _ in range(20)]
    await asyncio.sleep(0)
    await asyncio.wait_for(fetching.wait(), 10)
    for _ in range(5):
        await asyncio.sleep(0)  # the loop is free while the fetch waits
    assert not any(task.done() for task in tasks)
    tasks[0].cancel()
    release.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert isinstance(results[0], asyncio.CancelledError)
    assert all(isinstance(result, ServiceAccountRefusedError) for result in results[1:])
    assert service.count(LIST_PATH) == 1


async def test_requests_join_a_fetch_that_outlasts_the_interval() -> None:
    """A slow fetch (longer than recheck_interval_seconds) is still shared: requests arriving meanwhile
    wait for it instead of queueing one more fetch each."""
    service, clock = FakeAuthService(), Clock()
    transport, fetching, release = gated(service)
    accounts = checker(service, clock, transport=transport, interval=1)
    first = asyncio.create_task(accounts.check(token(clock)))
    await asyncio.wait_for(fetching.wait(), 10)
    clock.now += 2  # the running fetch is now older than the interval
    later = [asyncio.create_task(accounts.check(token(clock))) for _ in range(5)]
    for _ in range(5):
        await asyncio.sleep(0)
    release.set()
    await asyncio.gather(first, *later)
    assert service.count(LIST_PATH) == 1
