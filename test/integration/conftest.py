"""Session fixtures: ONE real auth service and ONE real Airflow api-server for the whole suite.

Start-up order (overlapped where the parts do not depend on each other):
  auth service (node) ─► CLI: Airflow's admin service account ─► airflow api-server ─► /api/v2/monitor/health
  airflow db migrate ───────────────────────────────────────────┘
  airflow dags reserialize (the suite's DAGs; in the background while Airflow boots)
  CLI: one service account per role + invites (in the background while Airflow boots)

Everything lives in a temporary directory; the logs are attached to the report of any failing test.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from support.fault_proxy import FaultProxy
from support.processes import free_port, tail
from support.stack import (
    REPO_ROOT,
    SERVICE_CLI,
    SERVICE_MAIN,
    UNMAPPED_GROUP,
    AirflowServer,
    AuthService,
    Stack,
    client_credentials_token,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

# Service accounts the suite creates: name -> groups. "multi" is in two mapped groups (highest wins).
SERVICE_ACCOUNTS = {
    "viewer": ["it-viewers"],
    "user": ["it-users"],
    "op": ["it-ops"],
    "admin": ["airflow-admins"],
    "multi": ["it-viewers", "it-ops"],
    "norole": [UNMAPPED_GROUP],
}

# Airflow's own credential only reads session status: scope sessions:read, no group (the README's
# least-privilege setup). Every admin mutation answers 403 to it.
AIRFLOW_CREDENTIAL_ARGS = ("--scopes", "sessions:read")

# People invited up front (the CLI is slow to start, so this overlaps with Airflow booting).
INVITES = {
    "alice": ["it-users"],  # signs in and uses the UI
    "dave": ["it-users"],  # gets disabled mid-session
    "nora": [UNMAPPED_GROUP],  # passkey accepted, but no Airflow role
    "erin": ["it-users"],  # disabled during a flood of bogus token requests
    "frank": ["it-users"],  # stays signed in through the flood; lives through outages
    "gina": ["it-users"],  # uses her own service JWT as Bearer on the REST API
    "hana": ["it-users"],  # her passkey gets flagged as possibly cloned mid-session
    "ivan": ["it-users"],  # disabled, then enabled: his old session stays ended
    "judy": ["it-users"],  # her passkey flagged, then unflagged: her old session stays ended
}


_STACK: Stack | None = None
_LAST_TIMINGS: dict[str, float] = {}


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    global _STACK
    missing = [str(p.relative_to(REPO_ROOT)) for p in (SERVICE_MAIN, SERVICE_CLI) if not p.exists()]
    if missing:
        pytest.fail(f"auth service is not built ({', '.join(missing)} missing): run `npm run build` first")

    workdir = tmp_path_factory.mktemp("stack")
    airflow_port = free_port()
    service = AuthService(workdir=workdir, airflow_origin=f"http://localhost:{airflow_port}")
    proxy = FaultProxy(target_port=service.port).start()
    # Airflow reaches the service through the fault proxy (passing traffic unless a test says otherwise).
    airflow = AirflowServer(workdir=workdir, port=airflow_port, service=service, service_url=proxy.url)
    _STACK = stack = Stack(workdir=workdir, service=service, airflow=airflow, proxy=proxy)
    started = time.monotonic()
    pool = ThreadPoolExecutor(max_workers=2)
    try:
        service.start()
        migrating = pool.submit(airflow.migrate_database)
        stack.timings["service_ready"] = service.wait_ready()
        creds = service.cli("service-account", "create", "--name", "airflow", *AIRFLOW_CREDENTIAL_ARGS)
        airflow.service_credentials = f"{creds['clientId']}:{creds['clientSecret']}"
        migrating.result()
        stack.timings["migrated"] = time.monotonic() - started
        serializing = pool.submit(airflow.serialize_suite_dags)
        airflow.start()
        provisioning = pool.submit(_provision, stack)
        stack.timings["airflow_ready"] = airflow.wait_ready()
        serializing.result()
        stack.timings["dags_serialized"] = time.monotonic() - started
        provisioning.result()
        stack.timings["total_start"] = time.monotonic() - started
        yield stack
    finally:
        _LAST_TIMINGS.update(stack.timings)
        pool.shutdown(wait=False, cancel_futures=True)
        airflow.stop()
        service.stop()
        proxy.stop()
        # _STACK stays set: the logs are still on disk and are attached to reports of later failures.


def _provision(stack: Stack) -> None:
    for name, groups in SERVICE_ACCOUNTS.items():
        stack.accounts[name] = stack.service.cli(
            "service-account",
            "create",
            "--name",
            f"it-{name}",
            "--groups",
            ",".join(groups),
        )
    for username, groups in INVITES.items():
        stack.invites[username] = stack.service.cli(
            "invite", "create", "--username", username, "--groups", ",".join(groups)
        )


@pytest.fixture
def airflow(stack: Stack) -> Iterator[httpx.Client]:
    """A fresh client on Airflow's origin (no cookies carried between tests)."""
    with httpx.Client(base_url=stack.airflow.url, timeout=30, follow_redirects=False) as client:
        yield client


@pytest.fixture(scope="session")
def service_token(stack: Stack) -> Any:
    """``service_token(name)``: a client-credentials token straight from the auth service (cached)."""
    cache: dict[str, str] = {}

    def get(name: str) -> str:
        if name not in cache:
            cache[name] = client_credentials_token(stack.service.url, stack.accounts[name])
        return cache[name]

    return get


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.failed and _STACK is not None:
        for log in _STACK.logs():
            report.sections.append((f"log: {log.name}", tail(log, 80)))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _LAST_TIMINGS:
        shown = ", ".join(f"{k}={v:.1f}s" for k, v in _LAST_TIMINGS.items())
        terminalreporter.write_line(f"integration stack start-up: {shown}")
