"""Fail closed, on the real Airflow and the real service: what each person sees when the service is
flooded, stopped, slow or unreachable, and that every kind of session is re-checked.

Airflow reaches the service through ``support.fault_proxy`` (passing traffic unless a test switches
it). The stack runs with recheck_interval_seconds = RECHECK and unverified_grace_seconds = GRACE: a
session the service has not confirmed for RECHECK + GRACE seconds is refused, and comes back once the
service answers again. Every test leaves the stack as it found it (service up, proxy passing, Airflow
confirming sessions again), so the other tests do not feel the faults.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import Counter
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from support.soft_authenticator import SoftAuthenticator
from support.stack import (
    HTTP_TIMEOUT_SECONDS,
    RECHECK_INTERVAL_SECONDS,
    UNVERIFIED_GRACE_SECONDS,
)
from support.waiting import holds_throughout, wait_for, wait_until
from test_passkey_login import (
    OPTIONS_AUTH,
    enroll,
    session_cookie,
    sign_in,
    with_cookie,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from support.stack import Stack

REFUSE_AFTER = RECHECK_INTERVAL_SECONDS + UNVERIFIED_GRACE_SECONDS
# Airflow's and the service's own latency on a loaded 2-core runner, on top of the windows above.
SLACK_SECONDS = 4
NOTICE = "Airflow cannot reach its sign-in service"
FLOODER_ADDRESS = "127.0.0.2"  # the flood comes from another address than Airflow's own (127.0.0.1)
SERVICE_TOKEN_TTL = 60  # the service's minimum: Airflow re-grants about every 30 s


@pytest.fixture(scope="module")
def people(stack: Stack) -> dict[str, SoftAuthenticator]:
    """erin, frank, gina and hana, enrolled once for this module."""
    authenticators = {}
    with httpx.Client(base_url=stack.origin, timeout=30) as client:
        for name in ("erin", "frank", "gina", "hana"):
            authenticators[name] = SoftAuthenticator(alg="EdDSA")
            enroll(client, stack, name, authenticators[name])
    return authenticators


def signed_in(
    client: httpx.Client, stack: Stack, authenticator: SoftAuthenticator, name: str
) -> dict[str, str]:
    cookie = session_cookie(sign_in(client, stack, authenticator, username=name))
    assert cookie is not None, f"{name} could not sign in"
    return with_cookie(cookie.value)


@pytest.fixture
def recovers(stack: Stack, airflow: httpx.Client, service_token: Callable[[str], str]) -> Iterator[None]:
    """After the test: service up, proxy passing, and Airflow confirming tokens again (waited for)."""
    yield
    stack.proxy.set_mode("pass")
    if stack.service.process is None:
        stack.service.start()
        stack.service.wait_ready()
    bearer = {"Authorization": f"Bearer {service_token('viewer')}"}
    status, _ = wait_for(
        lambda: airflow.get("/api/v2/dags", headers=bearer).status_code,
        {200},
        within=30,
    )
    assert status == 200, "Airflow did not confirm service-account tokens again after the fault"


def test_flood_of_bogus_token_requests_neither_stops_revocation_nor_ends_other_sessions(
    airflow: httpx.Client,
    stack: Stack,
    people: dict[str, SoftAuthenticator],
    recovers: None,
) -> None:
    """With the service's rate limit ON, a flood of wrong client secrets through Airflow's public
    POST /auth/token is limited in the FLOODER's bucket (Airflow forwards its address): the flooder gets
    429s, Airflow's own address still gets a plain refusal, a person disabled during the flood is out
    within recheck + grace, and another person stays signed in throughout."""
    stack.service.restart(RATE_LIMIT_PER_MINUTE="150")
    try:
        erin = signed_in(airflow, stack, people["erin"], "erin")
        frank = signed_in(airflow, stack, people["frank"], "frank")
        flooder = httpx.Client(
            base_url=f"http://127.0.0.1:{stack.airflow.port}",
            transport=httpx.HTTPTransport(local_address=FLOODER_ADDRESS),
            timeout=30,
        )
        with flooder:
            statuses = [
                flooder.post(
                    "/auth/token",
                    json={"client_id": "it-viewer", "client_secret": f"guess-{i}"},
                ).status_code
                for i in range(170)
            ]
        assert statuses.count(429) >= 10, f"the flood was never limited: {sorted(set(statuses))}"
        assert set(statuses) <= {401, 429}
        # Airflow's own address (no forwarded header) was not charged for the flood.
        direct = httpx.post(
            f"{stack.service.url}/v1/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": "it-viewer",
                "client_secret": "wrong",
            },
            timeout=30,
        )
        assert direct.status_code == 401, direct.text

        stack.service.cli("users", "disable", "erin")
        status, waited = wait_for(
            lambda: airflow.get("/ui/auth/me", headers=erin).status_code,
            {401},
            within=REFUSE_AFTER + SLACK_SECONDS,
        )
        assert status == 401, f"erin still {status} {waited:.1f}s after being disabled"
        assert waited <= REFUSE_AFTER + SLACK_SECONDS
        # frank is untouched, past several re-check intervals.
        status, held = holds_throughout(
            lambda: airflow.get("/ui/auth/me", headers=frank).status_code,
            lambda status: status == 200,
            seconds=REFUSE_AFTER + 1,
            every=0.3,
        )
        assert held, f"frank's untouched session answered {status}"
    finally:
        stack.service.cli("users", "enable", "erin")
        stack.service.restart(RATE_LIMIT_PER_MINUTE="0")


def test_a_flood_from_airflows_own_address_leaves_its_regrant_and_other_sessions_working(
    airflow: httpx.Client,
    stack: Stack,
    people: dict[str, SoftAuthenticator],
    recovers: None,
) -> None:
    """The flood shares the api-server's address (one host, a NAT'd egress, a shared proxy): ceremony
    starts relayed through Airflow from 127.0.0.1 use up the service's address limit for 127.0.0.1, which
    is also where Airflow's own calls come from. Airflow's tokens live SERVICE_TOKEN_TTL seconds, so it
    has to re-grant during the flood; its grants are counted by its client id (its secret checks out), so
    they go through, and frank's session, re-checked with those tokens, stays up throughout."""
    stack.service.restart(RATE_LIMIT_PER_MINUTE="60", SERVICE_TOKEN_TTL_SECONDS=str(SERVICE_TOKEN_TTL))
    # A fresh api-server holds no token yet: every one it gets from now on lives SERVICE_TOKEN_TTL seconds.
    stack.airflow.stop()
    stack.airflow.start()
    stack.airflow.wait_ready()
    stop = threading.Event()
    flood: list[int] = []

    def flooding() -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{stack.airflow.port}", timeout=30) as flooder:
            while not stop.is_set():
                flood.append(flooder.post(OPTIONS_AUTH, json={"username": "nobody"}).status_code)

    try:
        frank = signed_in(airflow, stack, people["frank"], "frank")
        grants_before = stack.proxy.requests_to("/v1/oauth/token", "POST")
        flooder = threading.Thread(target=flooding, name="flood-from-airflows-address")
        flooder.start()
        # Until Airflow's token ran out (it renews TOKEN_RENEW_MARGIN seconds early) and was re-granted twice,
        # and frank's session was re-checked with the newest token; at most SERVICE_TOKEN_TTL + 15 s (about
        # SERVICE_TOKEN_TTL after the restart's first grant: no need to wait out the whole bound).
        deadline = time.monotonic() + SERVICE_TOKEN_TTL + 15
        seen: list[int] = []
        regranted_twice_at: float | None = None
        while time.monotonic() < deadline:
            seen.append(airflow.get("/ui/auth/me", headers=frank).status_code)
            if regranted_twice_at is None:
                if stack.proxy.requests_to("/v1/oauth/token", "POST") - grants_before >= 2:
                    regranted_twice_at = time.monotonic()
            elif time.monotonic() - regranted_twice_at > RECHECK_INTERVAL_SECONDS + 1:
                break
            time.sleep(0.5)
        stop.set()
        flooder.join(timeout=60)
        grants = stack.proxy.requests_to("/v1/oauth/token", "POST") - grants_before
        assert flood.count(429) >= len(flood) // 2, f"the flood was not limited: {Counter(flood)}"
        # Airflow re-granted during the flood (only Airflow's own grants pass the proxy on that path).
        assert grants >= 2, f"Airflow asked for {grants} tokens during the flood"
        assert set(seen) == {200}, f"frank's session answered {Counter(seen)} during the flood"
    finally:
        stop.set()
        stack.service.restart(RATE_LIMIT_PER_MINUTE="0", SERVICE_TOKEN_TTL_SECONDS="900")  # noqa: S106 (not a secret)


def test_service_stopped_ends_sessions_after_the_grace_and_they_come_back_after_restart(
    airflow: httpx.Client,
    stack: Stack,
    people: dict[str, SoftAuthenticator],
    service_token: Callable[[str], str],
    recovers: None,
) -> None:
    """Stop the service under a running Airflow: frank's session and a service account's token keep
    working within the grace, are refused (401 / 403) once recheck + grace pass without a confirmation,
    the login page says why, and both work again once the service is back."""
    frank = signed_in(airflow, stack, people["frank"], "frank")
    bearer = {"Authorization": f"Bearer {service_token('viewer')}"}
    assert airflow.get("/api/v2/dags", headers=bearer).status_code == 200
    stack.service.stop()
    stopped = time.monotonic()
    assert airflow.get("/ui/auth/me", headers=frank).status_code == 200  # within the grace

    status, _ = wait_for(
        lambda: airflow.get("/ui/auth/me", headers=frank).status_code,
        {401},
        within=REFUSE_AFTER + SLACK_SECONDS,
    )
    refused_after = time.monotonic() - stopped
    assert status == 401, f"frank still {status} {refused_after:.1f}s after the service stopped"
    assert refused_after <= REFUSE_AFTER + SLACK_SECONDS
    assert airflow.get("/api/v2/dags", headers=bearer).status_code in {401, 403}
    assert NOTICE in airflow.get("/auth/login").text

    stack.service.start()
    stack.service.wait_ready()
    status, waited = wait_for(lambda: airflow.get("/ui/auth/me", headers=frank).status_code, {200}, within=15)
    assert status == 200, f"frank still {status} {waited:.1f}s after the restart"
    assert airflow.get("/api/v2/dags", headers=bearer).status_code == 200
    assert NOTICE not in airflow.get("/auth/login").text


@pytest.mark.parametrize("mode", ["delay", "drop"])
def test_a_slow_or_unreachable_service_fails_closed(
    airflow: httpx.Client,
    stack: Stack,
    people: dict[str, SoftAuthenticator],
    recovers: None,
    mode: str,
) -> None:
    """Through the fault proxy: a service slower than http_timeout_seconds (delay) or cutting every
    connection (drop). A signed-in person is refused once recheck + grace pass without a confirmation
    (plus the one timed-out call), sees the notice on the login page, cannot start a new sign-in (503),
    and is back once the link heals."""
    frank = signed_in(airflow, stack, people["frank"], "frank")
    stack.proxy.set_mode(mode, delay_seconds=HTTP_TIMEOUT_SECONDS + 2)
    started = time.monotonic()
    limit = REFUSE_AFTER + HTTP_TIMEOUT_SECONDS + SLACK_SECONDS
    status, _ = wait_for(
        lambda: airflow.get("/ui/auth/me", headers=frank).status_code,
        {401},
        within=limit,
    )
    assert status == 401, f"still {status} after {time.monotonic() - started:.1f}s of {mode}"
    assert NOTICE in airflow.get("/auth/login").text
    options = airflow.post(OPTIONS_AUTH, json={"username": "frank"})
    assert options.status_code == 503
    assert options.json()["error"] == "service_unavailable"

    stack.proxy.set_mode("pass")
    status, waited = wait_for(lambda: airflow.get("/ui/auth/me", headers=frank).status_code, {200}, within=15)
    assert status == 200, f"still {status} {waited:.1f}s after the link healed"


def _service_jwt(stack: Stack, authenticator: SoftAuthenticator, username: str) -> str:
    """gina's own access token, straight from the service's ceremony (what a script of hers would hold)."""
    with httpx.Client(base_url=stack.service.url, timeout=30) as service:
        options = service.post("/v1/authentication/options", json={"username": username})
        assert options.status_code == 200, options.text
        assertion = authenticator.get(options.json(), origin=stack.origin)
        verified = service.post("/v1/authentication/verify", json={"response": assertion})
        assert verified.status_code == 200, verified.text
        token: str = verified.json()["access_token"]
        return token


def test_a_persons_own_service_jwt_as_bearer_is_rechecked(
    airflow: httpx.Client, stack: Stack, people: dict[str, SoftAuthenticator]
) -> None:
    """gina calls the REST API with her own service JWT (not a cookie): disabling her refuses that still
    unexpired token within the re-check interval, not at its exp; enabling her lets her sign in again,
    while that token stays refused for good, saying why."""
    bearer: dict[str, Any] = {"Authorization": f"Bearer {_service_jwt(stack, people['gina'], 'gina')}"}
    assert airflow.get("/api/v2/dags", headers=bearer).status_code == 200
    stack.service.cli("users", "disable", "gina")
    try:
        status, waited = wait_for(
            lambda: airflow.get("/api/v2/dags", headers=bearer).status_code,
            {401, 403},
            within=RECHECK_INTERVAL_SECONDS + SLACK_SECONDS,
        )
        assert status in {401, 403}, f"gina's token still {status} {waited:.1f}s after the disable"
    finally:
        stack.service.cli("users", "enable", "gina")
    fresh = {"Authorization": f"Bearer {_service_jwt(stack, people['gina'], 'gina')}"}
    status, _ = wait_for(lambda: airflow.get("/api/v2/dags", headers=fresh).status_code, {200}, within=15)
    assert status == 200
    # Refused on every request; once Airflow re-asked after the enable, the detail names the ending.
    stale, _ = wait_until(
        lambda: airflow.get("/api/v2/dags", headers=bearer),
        lambda stale: stale.status_code != 401 or "which ended it for good" in stale.json()["detail"],
        within=RECHECK_INTERVAL_SECONDS + SLACK_SECONDS,
    )
    assert stale.status_code == 401, stale.text
    assert "the account was disabled, which ended it for good" in stale.json()["detail"]


def test_flagging_the_passkey_ends_the_sessions_signed_in_with_it(
    airflow: httpx.Client, stack: Stack, people: dict[str, SoftAuthenticator]
) -> None:
    """A passkey the service flags as possibly cloned ends the sessions it opened, like a revocation,
    within the re-check interval. (The flag is set in the service's database, as its clone detection
    does; the service offers no API to flag on purpose.)"""
    hana = signed_in(airflow, stack, people["hana"], "hana")
    assert airflow.get("/ui/auth/me", headers=hana).status_code == 200
    database = sqlite3.connect(stack.service.env["DATABASE_URL"], timeout=30)
    try:
        with database:
            flagged = database.execute(
                "UPDATE passkeys SET flagged_at = ?, flag_reason = 'integration-test' "
                "WHERE user_id = (SELECT id FROM users WHERE username = 'hana')",
                (int(time.time() * 1000),),
            ).rowcount
    finally:
        database.close()
    assert flagged == 1
    status, waited = wait_for(
        lambda: airflow.get("/ui/auth/me", headers=hana).status_code,
        {401},
        within=RECHECK_INTERVAL_SECONDS + SLACK_SECONDS,
    )
    assert status == 401, f"hana's session still {status} {waited:.1f}s after her passkey was flagged"
