"""Positive answers from the auth service, refreshed in the background, refused when too old.

Fail closed with a bounded grace: an answer is used as is for ``interval`` seconds; after that the next
request starts ONE refresh in the background (an asyncio task on Airflow's event loop: concurrent
requests of the same key share it) and keeps using the answer meanwhile. An answer older than
``interval + grace`` is never used, whatever the reason nothing newer came (service down, timeout,
429, 401, 5xx): the caller gets ``UnconfirmedError``. An attacker who can make the service refuse
Airflow (a flood, a rotated secret) therefore ends sessions instead of freezing their last state.

Nothing here blocks: ``current`` never waits (for Airflow's synchronous ``refresh_user``), ``confirmed``
awaits a refresh only when there is no usable answer at all (first request after a restart).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from airflow_webauthn.services.errors import ServiceRefusedError, ServiceUnavailableError
from airflow_webauthn.services.gateway import CredentialsMissingError

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Hashable

log = logging.getLogger(__name__)

K = TypeVar("K", bound="Hashable")
T = TypeVar("T")

MAX_ENTRIES = 10_000
# Least time between two attempts for one key after a failure (do not hammer a service that is down).
RETRY_SECONDS = 2.0

# What the service's failure to answer means to the person: shown on the login page.
UNREACHABLE_MESSAGE = "Airflow cannot reach its sign-in service"


class UnconfirmedError(Exception):
    """No positive answer within ``interval + grace``: refuse, and say why."""


class ServiceHealth:
    """Whether the latest status read got a positive answer; says so in the logs once per interval."""

    def __init__(self, *, interval_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._quiet = max(interval_seconds, 1.0)
        self._clock = clock
        self.failing_since: float | None = None
        self._last_failure_log: float | None = None
        self._last_refusal_log: float | None = None

    @property
    def unreachable(self) -> bool:
        return self.failing_since is not None

    def succeeded(self) -> None:
        if self.failing_since is not None:
            log.warning("The auth service confirms sessions again")
        self.failing_since = None

    def failed(self, reason: str) -> None:
        now = self._clock()
        if self.failing_since is None:
            self.failing_since = now
        if self._due(self._last_failure_log, now):
            self._last_failure_log = now
            log.warning("%s to confirm sessions (%s)", UNREACHABLE_MESSAGE, reason)

    def refused(self, what: str, age_limit: float) -> None:
        """Log (once per interval) that sessions are being refused for want of a confirmation."""
        now = self._clock()
        if self._due(self._last_refusal_log, now):
            self._last_refusal_log = now
            log.warning(
                "Refusing %s that the auth service has not confirmed for %.0f s "
                "(recheck_interval_seconds + unverified_grace_seconds)",
                what,
                age_limit,
            )

    def _due(self, last: float | None, now: float) -> bool:
        return last is None or now - last >= self._quiet


@dataclass(frozen=True, kw_only=True)
class RecheckPolicy:
    """How often the service is asked, how long an answer may serve, and where failures are told."""

    interval_seconds: float
    grace_seconds: float
    health: ServiceHealth
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep
    retry_seconds: float = RETRY_SECONDS


@dataclass
class _Entry(Generic[T]):
    value: T | None = None
    confirmed_at: float | None = None  # when the fetch that produced ``value`` started
    attempted_at: float | None = None  # when the latest fetch started (success or not)
    task: asyncio.Task[bool] | None = None


class Confirmations(Generic[K, T]):
    def __init__(
        self,
        *,
        what: str,
        fetch: Callable[[K], Awaitable[T]],
        policy: RecheckPolicy,
        max_entries: int = MAX_ENTRIES,
    ) -> None:
        self._what = what
        self._fetch = fetch
        self._interval = policy.interval_seconds
        self._limit = policy.interval_seconds + policy.grace_seconds
        self._health = policy.health
        self._clock = policy.clock
        self._sleep = policy.sleep
        self._retry = min(policy.retry_seconds, policy.interval_seconds)
        self._max = max_entries
        self._entries: OrderedDict[K, _Entry[T]] = OrderedDict()

    def seed(self, key: K, value: T) -> None:
        """A positive answer obtained elsewhere (a passkey login just proved the user's state)."""
        entry = self._entry(key)
        entry.value, entry.confirmed_at = value, self._clock()

    def current(self, key: K) -> T:
        """The answer if confirmed within ``interval + grace``; starts a background refresh when stale.

        Never waits. Raises ``UnconfirmedError`` when there is no usable answer.
        """
        now = self._clock()
        entry = self._entry(key)
        age = now - entry.confirmed_at if entry.confirmed_at is not None else None
        if age is None or age >= self._interval:
            self._start(key, entry, now)
        if age is None or age >= self._limit or entry.value is None:
            raise UnconfirmedError(f"{UNREACHABLE_MESSAGE} to confirm this session")
        return entry.value

    async def confirmed(self, key: K) -> T:
        """Like ``current``, but with no usable answer waits for the refresh under way (if any)."""
        try:
            return self.current(key)
        except UnconfirmedError:
            task = _running_here(self._entry(key))
            if task is None:
                raise
            if await asyncio.shield(task):  # a fresh answer, made for requests like this one
                value = self._entry(key).value
                if value is not None:
                    return value
            raise

    async def fresh(self, key: K, *, since: float, min_gap: float) -> T:
        """An answer from a fetch that started at or after ``since`` (fetches ``min_gap`` apart)."""
        while True:
            entry = self._entry(key)
            if entry.value is not None and entry.confirmed_at is not None and entry.confirmed_at >= since:
                return entry.value
            running = _running_here(entry)
            if running is not None:
                await asyncio.shield(running)
                continue
            now = self._clock()
            if entry.attempted_at is not None and since <= entry.attempted_at <= now:
                raise UnconfirmedError(f"{UNREACHABLE_MESSAGE} to confirm this session")
            wait = min_gap - (now - entry.attempted_at) if entry.attempted_at is not None else 0.0
            if wait > 0:
                await self._sleep(wait)
                continue
            task = self._start(key, entry, now, force=True)
            if task is None:  # cannot happen on a running loop; never spin
                raise UnconfirmedError(f"{UNREACHABLE_MESSAGE} to confirm this session")
            await asyncio.shield(task)

    def refused(self) -> None:
        self._health.refused(self._what, self._limit)

    def peek(self, key: K) -> T | None:
        """The last answer, however old (for reasons already decided, e.g. a rejection)."""
        entry = self._entries.get(key)
        return entry.value if entry else None

    def _entry(self, key: K) -> _Entry[T]:
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = _Entry()
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)  # oldest first
        return entry

    def _start(
        self, key: K, entry: _Entry[T], now: float, *, force: bool = False
    ) -> asyncio.Task[bool] | None:
        """Start one refresh for ``key`` unless one runs (single flight) or the last one failed just now."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return None  # not on the event loop: the next request on it starts the refresh
        if (running := _running_here(entry)) is not None:
            return running
        failed_recently = (
            entry.attempted_at is not None
            and (entry.confirmed_at is None or entry.attempted_at > entry.confirmed_at)
            and now - entry.attempted_at < self._retry
        )
        if failed_recently and not force:
            return None
        entry.attempted_at = now
        entry.task = loop.create_task(self._refresh(key, now), name=f"webauthn-confirm-{self._what}")
        return entry.task

    async def _refresh(self, key: K, started_at: float) -> bool:
        """One fetch; True when it brought a positive answer."""
        try:
            value = await self._fetch(key)
        except (ServiceUnavailableError, ServiceRefusedError, CredentialsMissingError) as err:
            self._health.failed(str(err))
            return False
        except Exception as err:  # a bug must not leave the task's waiters with a half state
            log.exception("Confirming %s with the auth service failed", self._what)
            self._health.failed(type(err).__name__)
            return False
        self._health.succeeded()
        entry = self._entry(key)
        if entry.confirmed_at is None or started_at >= entry.confirmed_at:
            entry.value, entry.confirmed_at = value, started_at
        return True


def _running_here(entry: _Entry[Any]) -> asyncio.Task[bool] | None:
    """The entry's refresh if it is still running on THIS event loop (a task of a loop that has gone,
    as between test clients, is no refresh at all)."""
    task = entry.task
    if task is None or task.done() or task.get_loop() is not asyncio.get_running_loop():
        return None
    return task
