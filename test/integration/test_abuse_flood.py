"""Abuse at once against the real Airflow and the real service, with the service's rate limits on.

Hundreds of forged Bearer tokens, each naming a signing key (``kid``) the service never published, hit
Airflow's REST API concurrently while a flooder guesses a client secret through Airflow's public
``POST /auth/token``. Counted on the service's side of Airflow (the fault proxy reads the requests
Airflow sends it): the forged tokens cause at most a bounded number of JWKS fetches (the plugin's
fetches are single-flight, one unknown-kid refetch per ``jwks_min_refetch_interval_seconds``), every
forged token is refused (Airflow answers an invalid token 403 "Invalid JWT token", and an expired
one 401; never 200 or 5xx), and throughout the flood a service account's genuine token keeps
working on the REST API and the client whose secret is being guessed still gets its token from its own
address.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import httpx
from cryptography.hazmat.primitives.asymmetric import ed25519

from support import jwt_forge as forge

if TYPE_CHECKING:
    from collections.abc import Callable

    from support.stack import Stack

JWKS_PATH = "/.well-known/jwks.json"
FORGED_TOKENS = 300
FORGED_IN_FLIGHT = 50
WRONG_SECRETS = 60
FLOODER_ADDRESS = "127.0.0.3"  # the flood's address; the legitimate callers use 127.0.0.1
# Single flight + one unknown-kid refetch per interval (30 s by default, longer than this flood): one
# fetch for the unknown kids, plus at most one because the cache's TTL ran out just then.
MAX_JWKS_FETCHES = 2
RATE_LIMITS = {"RATE_LIMIT_PER_MINUTE": "1000"}  # failed secrets: the default, 10 per client per address


@dataclass
class Seen:
    forged: list[tuple[int, str]] = field(default_factory=list)
    guesses: list[int] = field(default_factory=list)
    genuine_api: list[int] = field(default_factory=list)
    genuine_token: list[int] = field(default_factory=list)


def _forged_tokens(genuine: str, count: int) -> list[str]:
    """Tokens shaped like ``genuine`` (claims, header) but each under a fresh, never-published kid,
    signed by a stranger's key and claiming the admin group (acceptance would be an escalation)."""
    header, claims, _ = forge.parts(genuine)
    stranger = ed25519.Ed25519PrivateKey.generate()
    now = int(time.time())
    return [
        forge.sign_ed25519(
            {**header, "kid": uuid.uuid4().hex},
            {
                **claims,
                "groups": ["airflow-admins"],
                "iat": now,
                "nbf": now,
                "exp": now + 300,
                "jti": str(uuid.uuid4()),
            },
            stranger,
        )
        for _ in range(count)
    ]


async def _flood(stack: Stack, genuine: str, account: dict[str, str]) -> Seen:
    seen = Seen()
    forged = _forged_tokens(genuine, FORGED_TOKENS)
    flooder = httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{stack.airflow.port}",
        transport=httpx.AsyncHTTPTransport(
            local_address=FLOODER_ADDRESS, limits=httpx.Limits(max_connections=FORGED_IN_FLIGHT)
        ),
        timeout=60,
    )
    legit = httpx.AsyncClient(base_url=stack.airflow.url, timeout=60)
    slots = asyncio.Semaphore(FORGED_IN_FLIGHT)

    async def forged_call(token: str) -> None:
        async with slots:
            response = await flooder.get("/api/v2/dags", headers={"Authorization": f"Bearer {token}"})
            seen.forged.append((response.status_code, response.json().get("detail", "")))

    async def guess(i: int) -> None:
        async with slots:
            response = await flooder.post(
                "/auth/token", json={"client_id": account["clientId"], "client_secret": f"guess-{i}"}
            )
            seen.guesses.append(response.status_code)

    async def legitimate_callers(flood: asyncio.Future[object]) -> None:
        # Until the flood is over, and at least three rounds: the genuine token on the REST API, and
        # the client whose secret is being guessed asking for its token from its own address.
        while not flood.done() or len(seen.genuine_api) < 3:
            api = await legit.get("/api/v2/dags", headers={"Authorization": f"Bearer {genuine}"})
            seen.genuine_api.append(api.status_code)
            token = await legit.post(
                "/auth/token",
                json={"client_id": account["clientId"], "client_secret": account["clientSecret"]},
            )
            seen.genuine_token.append(token.status_code)
            await asyncio.sleep(0.05)

    async with flooder, legit:
        flood = asyncio.gather(*(forged_call(t) for t in forged), *(guess(i) for i in range(WRONG_SECRETS)))
        await asyncio.gather(flood, legitimate_callers(flood))
    return seen


def test_a_flood_of_unknown_kids_and_wrong_secrets_is_bounded_and_legitimate_callers_get_through(
    stack: Stack, service_token: Callable[[str], str]
) -> None:
    """300 forged tokens with unknown kids (50 in flight) cause at most MAX_JWKS_FETCHES JWKS fetches at
    the service and are all refused as invalid tokens; 60 wrong secrets for one client from one address end in
    429 there; meanwhile a genuine service-account token keeps getting 200 from the REST API and the
    same client, from its own address, keeps getting its token (201)."""
    stack.service.restart(**RATE_LIMITS)
    try:
        genuine = service_token("viewer")
        account = stack.accounts["viewer"]
        # Airflow has the keys (fetched through the proxy at least once: the counter sees fetches).
        assert (
            httpx.get(
                f"{stack.airflow.url}/api/v2/dags", headers={"Authorization": f"Bearer {genuine}"}, timeout=30
            ).status_code
            == 200
        )
        assert stack.proxy.requests_to(JWKS_PATH) >= 1
        fetches_before = stack.proxy.requests_to(JWKS_PATH)

        started = time.monotonic()
        seen = asyncio.run(_flood(stack, genuine, account))
        elapsed = time.monotonic() - started

        fetches = stack.proxy.requests_to(JWKS_PATH) - fetches_before
        assert fetches <= MAX_JWKS_FETCHES, f"{fetches} JWKS fetches for {FORGED_TOKENS} unknown kids"
        assert len(seen.forged) == FORGED_TOKENS
        # Airflow's answer to a token that fails validation (airflow.api_fastapi.core_api.security).
        assert set(seen.forged) == {(403, "Invalid JWT token")}, f"forged tokens answered {set(seen.forged)}"
        # Guessing one client's secret from one address: refused, then limited there (10 failures).
        assert set(seen.guesses) <= {401, 429}, sorted(set(seen.guesses))
        assert seen.guesses.count(401) <= 10
        assert seen.guesses.count(429) >= WRONG_SECRETS - 10
        # The legitimate callers never noticed.
        assert set(seen.genuine_api) == {200}, seen.genuine_api
        assert set(seen.genuine_token) == {201}, seen.genuine_token
        assert elapsed < 60, f"the flood took {elapsed:.1f} s"
        print(
            f"flood: {FORGED_TOKENS} forged + {WRONG_SECRETS} guesses in {elapsed:.1f} s, "
            f"{fetches} JWKS fetch(es), {len(seen.genuine_api)} genuine rounds"
        )
    finally:
        stack.service.restart(RATE_LIMIT_PER_MINUTE="0")
