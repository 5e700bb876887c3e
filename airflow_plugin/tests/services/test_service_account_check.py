"""Service-account tokens: a disabled or deleted account loses access within the re-check interval,
from one cached list of service accounts that is fetched off the event loop and shared by all requests."""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

import httpx
import jwt
import pytest

from airflow_webauthn.services.service_account_check import (
    ServiceAccountChecker,
    ServiceAccountRefusedError,
)
from airflow_webauthn.services.service_client import AuthServiceClient

from support import SERVICE_ACCOUNT_ID, FakeAuthService, make_settings, service_account_claims

pytestmark = pytest.mark.anyio

LIST_PATH = "/v1/admin/service-accounts"
INTERVAL = 60.0
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
    transport: httpx.BaseTransport | None = None,
    credentials: bool = True,
    interval: float = INTERVAL,
) -> ServiceAccountChecker:
    settings = make_settings()
    client = AuthServiceClient(
        base_url=settings.service_url,
        timeout_seconds=1,
        credentials=settings.service_credentials if credentials else None,
        transport=transport or service.transport(),
    )
    return ServiceAccountChecker(
        client=client,
        interval_seconds=interval,
        leeway_seconds=LEEWAY,
        miss_refresh_min_seconds=MISS_GAP,
        clock=clock,
        sleep=clock.sleep,
    )


def gated(service: FakeAuthService) -> tuple[httpx.MockTransport, threading.Event, threading.Event]:
    """A transport whose service-account list waits for ``release``; ``fetching`` is set once it waits."""
    fetching, release = threading.Event(), threading.Event()

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == LIST_PATH:
            fetching.set()
            assert release.wait(10), "the test never released the fetch"
        return service.handle(request)

    return httpx.MockTransport(handle), fetching, release


def token(clock: Clock, **overrides: Any) -> dict[str, Any]:
    """Claims of a client-credentials token issued just now (by the test clock)."""
    return service_account_claims(iat=int(clock.now), **overrides)


async def test_one_fetch_serves_every_request_within_the_interval() -> None:
    """Cheap: however many requests, the service is asked once per interval, and again after it."""
    service, clock = FakeAuthService(), Clock()
    accounts = checker(service, clock)
    for _ in range(50):
        await accounts.check(token(clock))
        clock.now += 1
    assert service.count(LIST_PATH) == 1
    clock.now += INTERVAL
    await accounts.check(token(clock))
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
    with pytest.raises(ServiceAccountRefusedError, match="disabled"):
        await accounts.check(claims)
    service.service_accounts[SERVICE_ACCOUNT_ID]["disabled"] = False
    clock.now += INTERVAL
    await accounts.check(claims)
    assert service.count(LIST_PATH) == 3


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


async def test_outage_keeps_the_last_snapshot() -> None:
    """Service unreachable: known accounts keep working, disabled ones stay refused (fail open, logged),
    and the fetch is not retried on every request."""
    service, clock = FakeAuthService(), Clock()
    service.add_service_account("off", disabled=True)
    accounts = checker(service, clock)
    await accounts.check(token(clock))
    service.up = False
    clock.now += INTERVAL
    await accounts.check(token(clock))
    with pytest.raises(ServiceAccountRefusedError, match="disabled"):
        await accounts.check(token(clock, sub="off", client_id="off"))
    assert service.attempts == 3  # admin token + first list + one failed list
    service.up = True
    service.service_accounts[SERVICE_ACCOUNT_ID]["disabled"] = True
    clock.now += INTERVAL
    with pytest.raises(ServiceAccountRefusedError):
        await accounts.check(token(clock))


async def test_service_refusing_the_list_keeps_the_last_snapshot(caplog: pytest.LogCaptureFixture) -> None:
    """A 4xx on the list (e.g. Airflow's credentials lost the admin group) is an outage, with a warning."""
    service, clock = FakeAuthService(), Clock()
    accounts = checker(service, clock)
    service.service_accounts[SERVICE_ACCOUNT_ID]["disabled"] = True
    with pytest.raises(ServiceAccountRefusedError):
        await accounts.check(token(clock))
    service.reply("GET", LIST_PATH, 403, {"statusCode": 403, "error": "Forbidden", "message": "no"})
    clock.now += INTERVAL
    with caplog.at_level(logging.WARNING), pytest.raises(ServiceAccountRefusedError):
        await accounts.check(token(clock))
    assert "Could not list service accounts" in caplog.text


async def test_without_any_snapshot_a_verified_token_is_accepted() -> None:
    """Never reached the service: the JWKS-verified token stands (access as before this check), no 500."""
    service, clock = FakeAuthService(), Clock()
    service.up = False
    accounts = checker(service, clock)
    await accounts.check(token(clock))
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
    assert await asyncio.to_thread(fetching.wait, 10)
    for _ in range(5):
        await asyncio.sleep(0)  # the loop is free while the fetch waits in its thread
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
    assert await asyncio.to_thread(fetching.wait, 10)
    clock.now += 2  # the running fetch is now older than the interval
    later = [asyncio.create_task(accounts.check(token(clock))) for _ in range(5)]
    for _ in range(5):
        await asyncio.sleep(0)
    release.set()
    await asyncio.gather(first, *later)
    assert service.count(LIST_PATH) == 1
