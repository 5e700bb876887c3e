"""Refusing tokens of disabled or deleted service accounts within ``recheck_interval_seconds``, cheaply.

Airflow verifies service tokens offline (JWKS), and a client-credentials token lives up to
``SERVICE_TOKEN_TTL_SECONDS`` (15 minutes by default). Disabling an account on the service stops new
tokens at once; this module stops the ones already issued. Airflow keeps ONE snapshot of the
service's service accounts (``GET /v1/admin/service-accounts``: ``id``, ``clientId``, ``disabled``),
and a token is refused when the snapshot shows its account (``sub``, with ``client_id`` matching)
disabled, or does not list it.

Cheap on every request:

- The snapshot serves every account and is fetched at most once per ``recheck_interval_seconds``.
- The admin client is synchronous, so a fetch runs in a worker thread and never blocks the event loop;
  concurrent requests wait on the same fetch (the service sees one call).
- A token whose account is missing may simply be newer than the snapshot (account created since): it
  gets one fetch that started after the request arrived before being refused. Such fetches are at
  least ``miss_refresh_min_seconds`` apart (a request inside that gap waits for the next one rather
  than being refused), and none is made when the snapshot started after the token was issued (beyond
  the clock leeway): then the account was known to the service before the snapshot and is gone.

Fail open, like ``session_check``: when the service cannot be reached the last snapshot is kept (a
warning is logged, and the fetch is not retried before the next interval). With no snapshot at all
yet — or for a missing account whose token is newer than the last snapshot, during an outage — the
token is accepted: its signature, issuer, audience and expiry were verified against the service's
keys, so the service vouched for the account when it issued the token, and this check only shortens
a token's life. Refusing instead would make every service account's Airflow access depend on the
admin API being up, while accepting costs at most the behaviour without this check (access until the
token expires). Without ``service_credentials`` the check is off.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import math
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import jwt

from airflow_webauthn.services.service_client import (
    AuthServiceError,
    AuthServiceNotConfiguredError,
    AuthServiceUnavailableError,
)

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterable, Mapping

    from airflow_webauthn.services.service_client import AuthServiceClient

log = logging.getLogger(__name__)

# Least time between two fetches triggered by a token whose account is not in the snapshot.
MISS_REFRESH_MIN_SECONDS = 3.0


class ServiceAccountRefusedError(jwt.InvalidTokenError):
    """The token's service account is disabled or no longer exists on the service (Airflow: 403)."""


@dataclass(frozen=True)
class AccountState:
    client_id: str | None
    disabled: bool


@dataclass(frozen=True)
class ServiceAccountSnapshot:
    """The service's service accounts by id, as fetched from ``started_at`` (clock time) on."""

    started_at: float
    accounts: Mapping[str, AccountState]

    @classmethod
    def from_records(cls, records: Iterable[Any], *, started_at: float) -> ServiceAccountSnapshot:
        accounts = {}
        for record in records:
            if isinstance(record, dict) and isinstance(record.get("id"), str):
                client_id = record.get("clientId")
                accounts[record["id"]] = AccountState(
                    client_id=client_id if isinstance(client_id, str) else None,
                    disabled=bool(record.get("disabled")),
                )
        return cls(started_at=started_at, accounts=accounts)

    def find(self, account_id: str, client_id: str | None) -> AccountState | None:
        """The account the token names: ``sub`` is its id, and ``client_id`` must be its client id."""
        state = self.accounts.get(account_id)
        if state is None:
            return None
        if client_id is not None and state.client_id is not None and state.client_id != client_id:
            return None
        return state


class ServiceAccountChecker:
    def __init__(
        self,
        *,
        client: AuthServiceClient,
        interval_seconds: float,
        leeway_seconds: float,
        miss_refresh_min_seconds: float = MISS_REFRESH_MIN_SECONDS,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        """``clock`` is wall-clock time: a snapshot's start is compared with tokens' ``iat``."""
        self._client = client
        self._interval = interval_seconds
        self._leeway = leeway_seconds
        self._miss_gap = min(miss_refresh_min_seconds, interval_seconds)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._snapshot: ServiceAccountSnapshot | None = None
        self._attempt_started: float | None = None  # latest fetch (running or done, success or not)
        self._running: concurrent.futures.Future[None] | None = None

    @property
    def enabled(self) -> bool:
        return self._client.has_credentials

    async def check(self, claims: Mapping[str, Any]) -> None:
        """Raise ``ServiceAccountRefusedError`` if the token's account is disabled or unknown."""
        if not self.enabled:
            return
        account_id, client_id = str(claims.get("sub")), claims.get("client_id")
        client_id = client_id if isinstance(client_id, str) else None
        now = self._clock()
        # A snapshot exactly recheck_interval_seconds old is stale: "since" is the next float after.
        fresh_since = math.nextafter(now - self._interval, math.inf)
        snapshot, _ = await self._snapshot_since(fresh_since, min_gap=0, join_running=True)
        if snapshot is None:
            return  # the service has never answered: the verified token is all we know (see above)
        account = snapshot.find(account_id, client_id)
        if account is None and self._may_predate(snapshot, claims):
            snapshot, fetched = await self._snapshot_since(now, min_gap=self._miss_gap, join_running=False)
            if not fetched or snapshot is None:
                log.warning(
                    "Accepting a token of service account %s, which is newer than the last list of "
                    "service accounts, because the auth service cannot be reached",
                    client_id or account_id,
                )
                return
            account = snapshot.find(account_id, client_id)
        if account is None:
            raise ServiceAccountRefusedError("the service account no longer exists")
        if account.disabled:
            raise ServiceAccountRefusedError("the service account is disabled")

    def _may_predate(self, snapshot: ServiceAccountSnapshot, claims: Mapping[str, Any]) -> bool:
        """Could the snapshot have been taken before the token's account existed?"""
        issued_at = claims.get("iat")
        if not isinstance(issued_at, (int, float)):
            return True
        return snapshot.started_at < issued_at + self._leeway

    async def _snapshot_since(
        self, since: float, *, min_gap: float, join_running: bool
    ) -> tuple[ServiceAccountSnapshot | None, bool]:
        """The newest snapshot, fetched (shared, off the loop) unless one started at or after ``since``.

        Returns ``(snapshot, True)`` when it started at or after ``since``; ``(last snapshot, False)``
        when a fetch since then failed. ``join_running`` accepts a fetch already under way whenever it
        started; otherwise the fetch must start at or after ``since`` (a later one is awaited).
        """
        while True:
            wait = 0.0
            with self._lock:
                now = self._clock()  # "after since" also means "not after now": the clock may go back
                snapshot = self._snapshot
                if snapshot is not None and since <= snapshot.started_at <= now:
                    return snapshot, True
                running, last = self._running, self._attempt_started
                if running is None:
                    if last is not None and since <= last <= now:
                        return snapshot, False  # that fetch failed: keep what we have until later
                    elapsed = now - last if last is not None else min_gap
                    if 0 <= elapsed < min_gap:
                        wait = min_gap - elapsed
                    else:
                        running = self._start_fetch(now)
                elif join_running and last is not None:
                    since = min(since, last)
            if running is None:
                await self._sleep(wait)
            else:
                # The fetch thread always completes the future, and a running future cannot be
                # cancelled, so a caller that goes away never strands the others.
                await asyncio.wrap_future(running)

    def _start_fetch(self, now: float) -> concurrent.futures.Future[None]:
        """Start one fetch in a worker thread (called with the lock held)."""
        future: concurrent.futures.Future[None] = concurrent.futures.Future()
        future.set_running_or_notify_cancel()
        self._running, self._attempt_started = future, now
        thread = threading.Thread(
            target=self._fetch, args=(future, now), name="webauthn-service-accounts", daemon=True
        )
        try:
            thread.start()
        except RuntimeError as err:  # no thread to spare: fail open now rather than strand every waiter
            log.warning("Could not start listing service accounts (%s); keeping the last list", err)
            self._running = None
            future.set_result(None)
        return future

    def _fetch(self, future: concurrent.futures.Future[None], started_at: float) -> None:
        snapshot = None
        try:
            records = self._client.list_service_accounts()
            snapshot = ServiceAccountSnapshot.from_records(records, started_at=started_at)
        except (AuthServiceUnavailableError, AuthServiceError, AuthServiceNotConfiguredError) as err:
            log.warning(
                "Could not list service accounts on the auth service (%s); keeping the last list", err
            )
        except Exception:
            log.exception("Listing service accounts failed; keeping the last list")
        finally:
            with self._lock:
                if snapshot is not None:
                    self._snapshot = snapshot
                self._running = None
            future.set_result(None)
