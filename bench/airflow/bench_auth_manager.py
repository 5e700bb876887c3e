#!/usr/bin/env python
"""Airflow's per-request cost with WebAuthnAuthManager vs. Airflow's SimpleAuthManager, measured in ONE run.

    .venv/bin/python bench/airflow/bench_auth_manager.py [--rounds 6] [--requests 150] [--warmup 40]
        [--dags 20] [--rules 20]

(a) ``GET /api/v2/dags`` on two real api-servers started side by side with the same 20 DAGs
    (bench/airflow/dags): one with WebAuthnAuthManager, called with a service-account Bearer token from
    the real auth service; one with SimpleAuthManager, called with its own token from ``POST /auth/token``.
    Rounds are interleaved (A B, B A, ...) so drift in machine load hits both alike. Reported: latency
    p50/p99, sequential req/s, and the api-server's CPU ms per request (read from /proc for its whole
    process group: robust against other load on the machine).
    A third target, "rules", is the WebAuthn server called by a service account in no role_mapping group
    but in the groups of ``--rules`` dag_access rules (half by tag, half by id glob): every DAG of the list
    is decided by the rules (tags read in one query and cached), the worst case of per-DAG access.
(b) The validation cost of ONE real service JWT on the manager's path (``verify_if_ours``, JWKS cached),
    at first sight (the verified-token cache off) and on repeat (the token remembered), vs. a bare
    ``cryptography`` Ed25519 verify of the same signature, PyJWT's ``jwt.decode`` with the same key, and
    Airflow's own ``JWTValidator`` on an Airflow token (what SimpleAuthManager pays), all with
    timeit-style best-of-N loops (wall time; bench_token_check.py measures CPU time, interleaved).

Reuses the integration suite's process helpers (test/integration/support). Everything runs in a temporary
directory; servers are bound to 127.0.0.1 and stopped at the end. Writes bench/airflow/results/latest.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import secrets
import statistics
import sys
import tempfile
import time
import timeit
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "test/integration"))

import httpx  # noqa: E402

from support.processes import free_port  # noqa: E402
from support.stack import AirflowServer, AuthService  # noqa: E402

DAGS = HERE / "dags"
PATH = "/api/v2/dags"
CLK_TCK = os.sysconf("SC_CLK_TCK")
PGIDS: dict[str, int] = {}  # manager name -> process group of its api-server


class BenchAirflow(AirflowServer):
    """The suite's Airflow, with the bench DAG folder; ``simple=True`` swaps in SimpleAuthManager."""

    def __init__(
        self, *, workdir: Path, service: AuthService, simple: bool, dags: int, rules: list[dict[str, Any]]
    ) -> None:
        super().__init__(workdir=workdir, port=free_port(), service=service)
        self.simple = simple
        self.dags = dags
        self.rules = rules
        self.password = secrets.token_urlsafe(16)

    @property
    def env(self) -> dict[str, str]:
        env = super().env
        env["AIRFLOW__CORE__DAGS_FOLDER"] = str(DAGS)
        env["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "ERROR"
        env["BENCH_DAG_COUNT"] = str(self.dags)
        env["AIRFLOW__WEBAUTHN_AUTH_MANAGER__DAG_ACCESS"] = json.dumps(self.rules)
        if self.simple:
            env = {k: v for k, v in env.items() if not k.startswith("AIRFLOW__WEBAUTHN_AUTH_MANAGER__")}
            passwords = self.workdir / "simple_auth_manager_passwords.json"
            passwords.write_text(json.dumps({"bench": self.password}))
            env.update(
                {
                    "AIRFLOW__CORE__AUTH_MANAGER": (
                        "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
                    ),
                    "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "bench:admin",
                    "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
                }
            )
        return env


def bench_rules(count: int) -> list[dict[str, Any]]:
    """``count`` rules, each for its own group: even ones by a "t-N" tag, odd ones by an id glob."""
    rules: list[dict[str, Any]] = []
    for k in range(count):
        match = {"dag_tags": [f"t-{k}"]} if k % 2 == 0 else {"dag_ids": [f"bench_*{k:02d}"]}
        rules.append({"groups": [f"bench-rule-{k}"], **match, "role": "VIEWER"})
    return rules


def group_cpu_seconds(pgid: int) -> float:
    """User+system CPU of every live process in a process group (the api-server and its workers)."""
    total = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # fields after "(comm)": state ppid pgrp ... utime(11) stime(12)
            total += int(fields[11]) + int(fields[12])
    return total / CLK_TCK


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def measure_http(
    rounds: int, requests: int, warmup: int, targets: dict[str, tuple[str, str]]
) -> dict[str, Any]:
    """Interleaved sequential rounds over keep-alive connections; per target latencies and CPU."""
    clients = {name: httpx.Client(base_url=url, timeout=30) for name, (url, _) in targets.items()}
    headers = {name: {"Authorization": f"Bearer {token}"} for name, (_, token) in targets.items()}
    pgids = {name: PGIDS[name] for name in targets}
    latencies: dict[str, list[float]] = {name: [] for name in targets}
    cpu: dict[str, float] = dict.fromkeys(targets, 0.0)
    wall: dict[str, float] = dict.fromkeys(targets, 0.0)
    totals: dict[str, int] = {}
    try:
        for name in targets:  # warm-up: JWKS fetch, imports, caches, connection
            for _ in range(warmup):
                response = clients[name].get(PATH, headers=headers[name])
                if response.status_code != 200:
                    raise RuntimeError(f"{name}: {response.status_code} {response.text[:200]}")
            totals[name] = response.json()["total_entries"]
        names = list(targets)
        for number in range(rounds):
            for name in names if number % 2 == 0 else list(reversed(names)):
                client, hdrs = clients[name], headers[name]
                cpu_before = group_cpu_seconds(pgids[name])
                started = time.perf_counter()
                for _ in range(requests):
                    t0 = time.perf_counter()
                    response = client.get(PATH, headers=hdrs)
                    latencies[name].append(time.perf_counter() - t0)
                    if response.status_code != 200:
                        raise RuntimeError(f"{name}: {response.status_code} {response.text[:200]}")
                wall[name] += time.perf_counter() - started
                cpu[name] += group_cpu_seconds(pgids[name]) - cpu_before
    finally:
        for client in clients.values():
            client.close()
    results = {}
    for name in targets:
        values = latencies[name]
        results[name] = {
            "requests": len(values),
            "dags_listed": totals[name],
            "p50_ms": percentile(values, 50) * 1000,
            "p99_ms": percentile(values, 99) * 1000,
            "mean_ms": statistics.fmean(values) * 1000,
            "req_per_s": len(values) / wall[name],
            "server_cpu_ms_per_req": cpu[name] * 1000 / len(values),
        }
    return results


def best_us(func: Any, number: int, repeat: int = 5) -> float:
    return min(timeit.repeat(func, number=number, repeat=repeat)) / number * 1e6


def measure_validation(service: AuthService, token: str, number: int) -> dict[str, float]:
    import jwt
    from cryptography.hazmat.primitives.asymmetric import ed25519

    from airflow_webauthn.services.token_verifier import JwksCache, ServiceTokenVerifier

    from support.soft_authenticator import b64url_decode

    jwks_url = f"{service.url}/.well-known/jwks.json"

    def make_verifier(**cache: int) -> ServiceTokenVerifier:
        http_client = httpx.AsyncClient(timeout=5)  # one per verifier: each runs in its own event loop
        return ServiceTokenVerifier(
            jwks=JwksCache(
                jwks_url=jwks_url,
                cache_ttl_seconds=3600,
                min_refetch_interval_seconds=30,
                http=lambda: http_client,
            ),
            issuer=service.url,
            audience="airflow",
            allowed_algorithms=("EdDSA", "ES256"),
            leeway_seconds=30,
            **cache,
        )

    first_sight, repeat = make_verifier(cache_size=0), make_verifier()
    header = jwt.get_unverified_header(token)
    jwk = next(k for k in httpx.get(jwks_url).json()["keys"] if k["kid"] == header["kid"])
    public = ed25519.Ed25519PublicKey.from_public_bytes(b64url_decode(jwk["x"]))
    signing_input, signature = token.rsplit(".", 1)
    signature_bytes, signed = b64url_decode(signature), signing_input.encode()
    pyjwk = jwt.PyJWK(jwk)

    async def verifier_loop(verifier: ServiceTokenVerifier, n: int) -> float:
        started = time.perf_counter()
        for _ in range(n):
            await verifier.verify_if_ours(token)
        return time.perf_counter() - started

    async def verifier_best(verifier: ServiceTokenVerifier) -> float:
        assert await verifier.verify_if_ours(token) is not None  # fetches the JWKS once
        return min([await verifier_loop(verifier, number) for _ in range(5)]) / number * 1e6

    from airflow.api_fastapi.auth.tokens import JWTGenerator, JWTValidator

    secret = secrets.token_urlsafe(48)
    airflow_token = JWTGenerator(
        secret_key=secret, valid_for=600, audience="apache-airflow", issuer=None, algorithm="HS512"
    ).generate({"sub": "bench", "role": "ADMIN"})
    airflow_validator = JWTValidator(
        secret_key=secret, audience="apache-airflow", issuer=None, algorithm=["HS512"], leeway=10
    )

    async def airflow_best() -> float:
        async def loop() -> float:
            started = time.perf_counter()
            for _ in range(number):
                await airflow_validator.avalidated_claims(airflow_token)
            return time.perf_counter() - started

        return min([await loop() for _ in range(5)]) / number * 1e6

    return {
        "bare_ed25519_verify_us": best_us(lambda: public.verify(signature_bytes, signed), number),
        "pyjwt_decode_ed25519_us": best_us(
            lambda: jwt.decode(token, pyjwk, algorithms=["EdDSA"], audience="airflow", issuer=service.url),
            number,
        ),
        "manager_first_sight_us": asyncio.run(verifier_best(first_sight)),
        "manager_repeat_us": asyncio.run(verifier_best(repeat)),
        "airflow_jwtvalidator_hs512_us": asyncio.run(airflow_best()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--requests", type=int, default=150, help="requests per target per round")
    parser.add_argument("--warmup", type=int, default=40)
    parser.add_argument("--verify-number", type=int, default=2000)
    parser.add_argument("--dags", type=int, default=20, help="DAGs served by both api-servers")
    parser.add_argument("--rules", type=int, default=20, help="dag_access rules on the WebAuthn server")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-airflow-"))
    os.environ["AIRFLOW_HOME"] = str(tmp / "bench-process-home")  # for the in-process imports in (b)
    (tmp / "webauthn").mkdir()
    (tmp / "simple").mkdir()
    service = AuthService(workdir=tmp, airflow_origin="http://localhost:8080")  # no ceremonies here
    rules = bench_rules(args.rules)
    webauthn = BenchAirflow(
        workdir=tmp / "webauthn", service=service, simple=False, dags=args.dags, rules=rules
    )
    simple = BenchAirflow(workdir=tmp / "simple", service=service, simple=True, dags=args.dags, rules=[])
    started = time.monotonic()
    pool = ThreadPoolExecutor(max_workers=3)
    try:
        print(f"setting up in {tmp} ...", file=sys.stderr)
        service.start()
        migrations = [
            pool.submit(s.migrate)
            for s in (webauthn, simple)  # migrate() also reserializes
        ]
        service.wait_ready()
        creds = service.cli("service-account", "create", "--name", "airflow", "--scopes", "sessions:read")
        webauthn.service_credentials = f"{creds['clientId']}:{creds['clientSecret']}"
        bench_account = service.cli(
            "service-account", "create", "--name", "bench", "--groups", "airflow-admins"
        )
        rules_account = service.cli(
            "service-account",
            "create",
            "--name",
            "bench-rules",
            "--groups",
            ",".join(group for rule in rules for group in rule["groups"]),
        )
        for future in migrations:
            future.result()
        for server in (webauthn, simple):
            server.start()
        for server in (webauthn, simple):
            server.wait_ready()
        assert webauthn.process is not None
        assert webauthn.process.proc is not None
        assert simple.process is not None
        assert simple.process.proc is not None
        PGIDS["webauthn"] = webauthn.process.proc.pid
        PGIDS["simple"] = simple.process.proc.pid
        PGIDS["rules"] = webauthn.process.proc.pid
        print(f"stack up in {time.monotonic() - started:.0f}s; measuring ...", file=sys.stderr)

        def token(port: int, body: dict[str, str]) -> str:
            response = httpx.post(f"http://127.0.0.1:{port}/auth/token", json=body, timeout=30)
            return str(response.json()["access_token"])

        def account_token(account: dict[str, Any]) -> str:
            body = {"client_id": account["clientId"], "client_secret": account["clientSecret"]}
            return token(webauthn.port, body)

        webauthn_token = account_token(bench_account)
        rules_token = account_token(rules_account)
        simple_token = token(simple.port, {"username": "bench", "password": simple.password})

        http = measure_http(
            args.rounds,
            args.requests,
            args.warmup,
            {
                "webauthn": (f"http://127.0.0.1:{webauthn.port}", webauthn_token),
                "simple": (f"http://127.0.0.1:{simple.port}", simple_token),
                **({"rules": (f"http://127.0.0.1:{webauthn.port}", rules_token)} if rules else {}),
            },
        )
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
        for server in (webauthn, simple):
            server.stop()
    try:
        validation = measure_validation(service, webauthn_token, args.verify_number)
    finally:
        service.stop()

    report(http, validation, args)
    results = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "loadavg": os.getloadavg(), "python": platform.python_version()},
        "settings": vars(args),
        "http": http,
        "validation": validation,
    }
    out = HERE / "results" / "latest.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwrote {out.relative_to(REPO)}")
    if not args.keep:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)


def report(http: dict[str, Any], validation: dict[str, float], args: argparse.Namespace) -> None:
    w, s = http["webauthn"], http["simple"]
    print(
        f"\nGET {PATH} ({w['dags_listed']} DAGs), {args.rounds} interleaved rounds x {args.requests}"
        f" sequential requests per manager; {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}"
    )
    if "rules" in http:
        r = http["rules"]
        print(
            f"rules: {args.rules} dag_access rules decide every DAG ({r['dags_listed']} visible);"
            f" p50 {r['p50_ms']:.2f} ms, mean {r['mean_ms']:.2f} ms, server CPU {r['server_cpu_ms_per_req']:.2f}"
            f" ms/req; ratio to Simple: mean {r['mean_ms'] / s['mean_ms']:.2f},"
            f" CPU {r['server_cpu_ms_per_req'] / s['server_cpu_ms_per_req']:.2f}"
        )
    rows = [
        ("p50 latency (ms)", "p50_ms", "{:.2f}"),
        ("p99 latency (ms)", "p99_ms", "{:.2f}"),
        ("mean latency (ms)", "mean_ms", "{:.2f}"),
        ("req/s (1 connection)", "req_per_s", "{:.0f}"),
        ("server CPU ms/request", "server_cpu_ms_per_req", "{:.2f}"),
    ]
    print(f"{'':26}{'WebAuthn':>12}{'Simple':>12}{'ratio W/S':>12}")
    for label, key, fmt in rows:
        ratio = w[key] / s[key] if s[key] else float("nan")
        print(f"{label:26}{fmt.format(w[key]):>12}{fmt.format(s[key]):>12}{ratio:>12.2f}")
    bare = validation["bare_ed25519_verify_us"]
    print(f"\nValidating one token (best of 5 x {args.verify_number:d}, in-process):")
    labels = {
        "bare_ed25519_verify_us": "cryptography Ed25519 verify (bare)",
        "pyjwt_decode_ed25519_us": "PyJWT jwt.decode, EdDSA + aud/iss",
        "manager_first_sight_us": "manager's path, first sight (uncached)",
        "manager_repeat_us": "manager's path, repeat (token remembered)",
        "airflow_jwtvalidator_hs512_us": "Airflow JWTValidator, HS512 (Simple)",
    }
    print(f"{'':44}{'µs':>10}{'x bare':>10}")
    for key, label in labels.items():
        print(f"{label:44}{validation[key]:>10.1f}{validation[key] / bare:>10.2f}")


if __name__ == "__main__":
    main()
