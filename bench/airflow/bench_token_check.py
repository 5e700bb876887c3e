#!/usr/bin/env python
"""Airflow's check of one service token vs. a bare Ed25519 verify of the same token, CPU per operation.

    .venv/bin/python bench/airflow/bench_token_check.py [--rounds 9] [--number 2000]

Everything runs in this one process and in the same run, in interleaved rounds (the order of the cases
alternates), so machine load hits every case alike; each figure is CPU time (``time.process_time``) per
operation in ms, the median over the rounds, and each ratio is the median of the per-round ratios.

- baseline: ``cryptography``'s ``Ed25519PublicKey.verify`` of the token's signature over its signing
  input, both decoded beforehand: the one piece of work a token check cannot avoid.
- first sight: ``ServiceTokenVerifier.verify_if_ours`` (what ``get_user_from_token`` calls) on the
  production verifier, each operation on a token it has never seen (minted before timing, same claim
  set, other jti): SHA-256 and a cache miss, the one strict read, header checks, the signature check,
  claims checks, and remembering the token (evicting the least recently used one once 4096 are kept).
- repeat: the same call, on a token already seen: the cache's hit path (SHA-256 of the token, LRU
  lookup, the JWKS key still current, the claims parsed afresh).
- references (no target): PyJWT's ``jwt.decode`` alone on the same token and key (what the first
  sight used before it read the token once); routing an Airflow-issued token (``verify_if_ours``
  answers None and Airflow's own validator takes over).

Target (issue 22 item 3): manager's path <= 1.5x the baseline; PASS/MISS printed for both first sight
and repeat. The token is an EdDSA ``at+jwt`` with the claim set the auth service puts in a
client-credentials token; its JWKS comes from an in-process transport, fetched once before timing and
never on the timed path (a network round trip would only add noise). Writes
bench/airflow/results/token-check.json.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import platform
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ed25519
from jwt.algorithms import OKPAlgorithm

from airflow_webauthn.services.token_verifier import (
    VERIFIED_TOKEN_CACHE_SIZE,
    JwksCache,
    ServiceTokenVerifier,
)

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

HERE = Path(__file__).resolve().parent
ISSUER = "https://auth.bench.test"
AUDIENCE = "airflow"
KID = "bench-ed25519"
TARGET = 1.5


def service_account_token(private_key: ed25519.Ed25519PrivateKey) -> str:
    """The header and claim set of the service's client-credentials token (token-issuer.service.ts)."""
    now = int(time.time())
    claims = {
        "client_id": "sa_" + uuid.uuid4().hex,
        "preferred_username": "bench-ci",
        "groups": ["airflow-admins"],
        "scope": "",
        "iss": ISSUER,
        "sub": str(uuid.uuid4()),
        "aud": AUDIENCE,
        "iat": now,
        "nbf": now,
        "exp": now + 3600,
        "jti": str(uuid.uuid4()),
    }
    return jwt.encode(claims, private_key, algorithm="EdDSA", headers={"typ": "at+jwt", "kid": KID})


def verifier(public_jwk: dict[str, Any], *, cache_size: int) -> ServiceTokenVerifier:
    document = {"keys": [public_jwk]}
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=document))
    client = httpx.AsyncClient(transport=transport)
    jwks = JwksCache(
        jwks_url=f"{ISSUER}/.well-known/jwks.json",
        cache_ttl_seconds=3600,
        min_refetch_interval_seconds=30,
        http=lambda: client,
    )
    return ServiceTokenVerifier(
        jwks=jwks,
        issuer=ISSUER,
        audience=AUDIENCE,
        allowed_algorithms=("EdDSA",),
        leeway_seconds=30,
        cache_size=cache_size,
    )


def b64url_decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


async def measure(rounds: int, number: int) -> dict[str, Any]:
    private_key = ed25519.Ed25519PrivateKey.generate()
    public_jwk: dict[str, Any] = {
        **OKPAlgorithm.to_jwk(private_key.public_key(), as_dict=True),
        "kid": KID,
        "alg": "EdDSA",
        "use": "sig",
    }
    token = service_account_token(private_key)
    signing_input, signature = token.rsplit(".", 1)
    signed, signature_bytes = signing_input.encode(), b64url_decode(signature)
    public_key = private_key.public_key()
    pyjwk = jwt.PyJWK(public_jwk)
    airflow_token = jwt.encode(
        {"sub": "ada", "aud": "apache-airflow", "exp": int(time.time()) + 3600}, "s" * 64, algorithm="HS512"
    )

    cached = verifier(public_jwk, cache_size=VERIFIED_TOKEN_CACHE_SIZE)  # the production default
    assert await cached.verify_if_ours(token) is not None  # fetches the JWKS, remembers the token
    assert await cached.verify_if_ours(airflow_token) is None
    # First sights: tokens the verifier never saw, one per timed operation, minted before any timing.
    unseen = iter([service_account_token(private_key) for _ in range(rounds * number)])

    async def bare() -> None:
        public_key.verify(signature_bytes, signed)

    async def first_sight() -> None:
        await cached.verify_if_ours(next(unseen))

    async def repeat() -> None:
        await cached.verify_if_ours(token)

    async def pyjwt_decode() -> None:
        jwt.decode(token, pyjwk, algorithms=["EdDSA"], audience=AUDIENCE, issuer=ISSUER)

    async def route_airflow_token() -> None:
        await cached.verify_if_ours(airflow_token)

    cases: dict[str, Callable[[], Awaitable[None]]] = {
        "bare_ed25519_verify": bare,
        "manager_first_sight": first_sight,
        "manager_repeat": repeat,
        "pyjwt_decode": pyjwt_decode,
        "route_airflow_token": route_airflow_token,
    }
    samples: dict[str, list[float]] = {name: [] for name in cases}
    names = list(cases)
    for number_of_round in range(rounds):
        for name in names if number_of_round % 2 == 0 else reversed(names):
            operation = cases[name]
            started = time.process_time()
            for _ in range(number):
                await operation()
            samples[name].append((time.process_time() - started) / number * 1e3)

    assert await cached.verify_if_ours(token) is not None  # every timed call succeeded (they raise if not)
    per_round = list(zip(*(samples[name] for name in names), strict=True))
    bare_index = names.index("bare_ed25519_verify")

    def ratio(name: str) -> float:
        index = names.index(name)
        return float(statistics.median(row[index] / row[bare_index] for row in per_round))

    return {
        "cpu_ms_per_op": {name: statistics.median(values) for name, values in samples.items()},
        "ratio_to_bare": {name: ratio(name) for name in names if name != "bare_ed25519_verify"},
        "token_bytes": len(token),
    }


def report(results: dict[str, Any], args: argparse.Namespace) -> None:
    labels = {
        "bare_ed25519_verify": "baseline: cryptography Ed25519 verify",
        "manager_first_sight": "manager's path, cold (first sight)",
        "manager_repeat": "manager's path, warm (token seen before)",
        "pyjwt_decode": "reference: PyJWT jwt.decode alone",
        "route_airflow_token": "reference: routing an Airflow token",
    }
    print(
        f"One {results['token_bytes']}-byte EdDSA at+jwt; {args.rounds} interleaved rounds"
        f" x {args.number} ops; {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f};"
        " CPU ms/op (median), ratio (median of rounds)"
    )
    print(f"{'':42}{'CPU ms/op':>11}{'x bare':>9}  target")
    for name, label in labels.items():
        cpu = results["cpu_ms_per_op"][name]
        ratio = results["ratio_to_bare"].get(name)
        verdict = ""
        if name.startswith("manager_"):
            verdict = f"  {'PASS' if ratio <= TARGET else 'MISS'} (<= {TARGET}x)"
        ratio_text = f"{ratio:9.2f}" if ratio is not None else f"{'1.00':>9}"
        print(f"{label:42}{cpu:11.4f}{ratio_text}{verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--number", type=int, default=2000, help="operations per case per round")
    args = parser.parse_args()
    results = asyncio.run(measure(args.rounds, args.number))
    report(results, args)
    out = HERE / "results" / "token-check.json"
    out.parent.mkdir(exist_ok=True)
    document = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "loadavg": os.getloadavg(), "python": platform.python_version()},
        "settings": vars(args),
        "target_ratio": TARGET,
        **results,
    }
    out.write_text(json.dumps(document, indent=2) + "\n")
    print(f"wrote {out.relative_to(HERE.parents[1])}", file=sys.stderr)


if __name__ == "__main__":
    main()
