"""Refusing tokens of disabled or deleted service accounts within ``recheck_interval_seconds``.

Airflow verifies service tokens offline (JWKS), and a client-credentials token lives up to
``SERVICE_TOKEN_TTL_SECONDS``. Disabling an account on the service stops new tokens at once; this
module stops the ones already issued. Airflow keeps ONE snapshot of the service's service accounts
(``GET /v1/admin/service-accounts``: ``id``, ``clientId``, ``disabled``), refreshed in the background
at most once per interval (``services.confirmations``: single flight, never blocking the event loop),
and a token is refused when the snapshot shows its account (``sub``, with ``client_id`` matching)
disabled, or does not list it.

A token whose account is missing may simply be newer than the snapshot (account created since): it
gets one fetch that started after the request arrived before being refused. Such fetches are at least
``miss_refresh_min_seconds`` apart, and none is made when the snapshot started after the token was
issued (beyond the clock leeway): then the account was known to the service before the snapshot and
is gone.

Fail closed, like sessions: with no snapshot confirmed within ``recheck_interval_seconds +
unverified_grace_seconds`` (service down, refusing Airflow's credential, rate limiting it), every
service-account token is refused until the service answers again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import jwt

from airflow_webauthn.services.confirmations import UNREACHABLE_MESSAGE, Confirmations, UnconfirmedError
from airflow_webauthn.services.session_check import ENDED_FOR_GOOD, ENDED_UNKNOWN

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from airflow_webauthn.services.confirmations import RecheckPolicy
    from airflow_webauthn.services.gateway import ServiceGateway

# Least time between two fetches triggered by a token whose account is not in the snapshot.
MISS_REFRESH_MIN_SECONDS = 3.0
_SNAPSHOT = "service-accounts"


class ServiceAccountRefusedError(jwt.InvalidTokenError):
    """The token's service account is disabled, gone, or unconfirmed (Airflow answers 403)."""


@dataclass(frozen=True)
class AccountState:
    client_id: str | None
    disabled: bool
    # Tokens issued under an older generation ended for good (disabled once, secret rotated).
    generation: int = 0
    ended_reason: str | None = None


@dataclass(frozen=True)
class ServiceAccountSnapshot:
    """The service's service accounts by id, as fetched from ``started_at`` (wall-clock time) on."""

    started_at: float
    accounts: Mapping[str, AccountState]

    @classmethod
    def from_records(cls, records: Iterable[Any], *, started_at: float) -> ServiceAccountSnapshot:
        accounts = {}
        for record in records:
            if isinstance(record, dict) and isinstance(record.get("id"), str):
                client_id = record.get("clientId")
                generation = record.get("sessionGeneration", 0)
                readable = isinstance(generation, int) and not isinstance(generation, bool)
                reason = record.get("sessionsEndedReason")
                accounts[record["id"]] = AccountState(
                    client_id=client_id if isinstance(client_id, str) else None,
                    disabled=bool(record.get("disabled")),
                    # Unreadable: -1 matches no token, so the account's tokens are refused (fail closed).
                    generation=generation if readable else -1,
                    ended_reason=reason if isinstance(reason, str) else None,
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
        gateway: ServiceGateway,
        policy: RecheckPolicy,
        leeway_seconds: float,
        miss_refresh_min_seconds: float = MISS_REFRESH_MIN_SECONDS,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        """``wall_clock``: a snapshot's start is compared with tokens' ``iat``."""
        self._gateway = gateway
        self._leeway = leeway_seconds
        self._miss_gap = min(miss_refresh_min_seconds, policy.interval_seconds)
        self._wall_clock = wall_clock
        self._clock = policy.clock
        self._snapshots: Confirmations[str, ServiceAccountSnapshot] = Confirmations(
            what="service-account tokens", fetch=self._fetch, policy=policy
        )

    @property
    def enabled(self) -> bool:
        return self._gateway.has_credentials

    async def check(self, claims: Mapping[str, Any]) -> None:
        """Raise ``ServiceAccountRefusedError`` if the token's account is disabled, unknown or unconfirmed."""
        if not self.enabled:
            return
        account_id, client_id = str(claims.get("sub")), claims.get("client_id")
        client_id = client_id if isinstance(client_id, str) else None
        arrived = self._clock()
        try:
            snapshot = await self._snapshots.confirmed(_SNAPSHOT)
            account = snapshot.find(account_id, client_id)
            if account is None and self._may_predate(snapshot, claims):
                snapshot = await self._snapshots.fresh(_SNAPSHOT, since=arrived, min_gap=self._miss_gap)
                account = snapshot.find(account_id, client_id)
        except UnconfirmedError as err:
            self._snapshots.refused()
            raise ServiceAccountRefusedError(f"{UNREACHABLE_MESSAGE} to confirm this account") from err
        if account is None:
            raise ServiceAccountRefusedError("the service account no longer exists")
        if account.disabled:
            raise ServiceAccountRefusedError("the service account is disabled")
        if _generation(claims) != account.generation:
            why = ENDED_FOR_GOOD.get(account.ended_reason or "", ENDED_UNKNOWN)
            raise ServiceAccountRefusedError(f"{why}, which ended the tokens issued before; get a new token")

    def _may_predate(self, snapshot: ServiceAccountSnapshot, claims: Mapping[str, Any]) -> bool:
        """Could the snapshot have been taken before the token's account existed?"""
        issued_at = claims.get("iat")
        if not isinstance(issued_at, int | float):
            return True
        return snapshot.started_at < issued_at + self._leeway

    async def _fetch(self, _: str) -> ServiceAccountSnapshot:
        started_at = self._wall_clock()
        records = await self._gateway.service_accounts()
        return ServiceAccountSnapshot.from_records(records, started_at=started_at)


def _generation(claims: Mapping[str, Any]) -> int | None:
    """The token's ``session_gen`` (0 when absent: issued before the claim); None when malformed."""
    value = claims.get("session_gen", 0)
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None
