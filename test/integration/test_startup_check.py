"""The api-server checks its own credential when it starts (the real Airflow against the real service).

``service_credentials`` must hold ``sessions:read``: without it every session check is refused and every
session fails closed, so the api-server does not start and its log gives the one-line reason. With
``admin`` it starts, and warns loudly. Each case starts a second api-server on the suite's metadata
database (no migration), with a service account made for it; both cases' api-servers start at once (booting
one is most of a minute of waiting on a loaded runner), and each test reads its own server's outcome.
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx
import pytest

from support.processes import free_port
from support.stack import AirflowServer
from support.waiting import wait_until

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from support.stack import Stack

START_TIMEOUT_SECONDS = 180
NO_SCOPE_REASON = "lacks the scope sessions:read (it holds: none)"


@dataclass
class SecondAirflow(AirflowServer):
    """Another api-server on the suite's metadata database, with its own home and log."""

    shared_home: Path | None = None

    @property
    def env(self) -> dict[str, str]:
        env = super().env
        assert self.shared_home is not None
        env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{self.shared_home / 'airflow.db'}"
        return env


def _airflow_with(stack: Stack, name: str, *scope_args: str) -> SecondAirflow:
    account = stack.service.cli(
        "service-account", "create", "--name", f"it-{name}-{uuid.uuid4().hex[:6]}", *scope_args
    )
    workdir = stack.workdir / name
    workdir.mkdir()
    return SecondAirflow(
        workdir=workdir,
        port=free_port(),
        service=stack.service,
        service_credentials=f"{account['clientId']}:{account['clientSecret']}",
        shared_home=stack.airflow.home,
    )


def _outcome(server: SecondAirflow, refusal: str) -> tuple[str, str]:
    """("ready" | "exited" | "refused", log): until the api-server answers, exits, or logs ``refusal``."""
    assert server.process is not None
    proc = server.process.proc
    assert proc is not None
    with httpx.Client(timeout=2) as client:

        def seen() -> str | None:
            log = server.log.read_text(errors="replace") if server.log.exists() else ""
            if refusal in log:
                return "refused"
            if proc.poll() is not None:
                return "exited"
            try:
                if client.get(f"http://127.0.0.1:{server.port}/api/v2/monitor/health").status_code == 200:
                    return "ready"
            except httpx.HTTPError:
                pass
            return None

        outcome, _ = wait_until(seen, lambda outcome: outcome is not None, within=START_TIMEOUT_SECONDS, every=0.5)
    return outcome or "timeout", server.log.read_text(errors="replace")


@dataclass
class Startup:
    server: SecondAirflow
    outcome: str  # what _outcome saw first
    log: str


@pytest.fixture(scope="module")
def startups(stack: Stack) -> Iterator[dict[str, Startup]]:
    """Both cases' api-servers, started together; each one's outcome once it answered, exited or refused.
    They run until the module ends (a test may still ask the refused one whether it serves)."""
    cases = {
        "no-scope": (_airflow_with(stack, "startup-no-scope"), NO_SCOPE_REASON),
        "admin": (
            _airflow_with(stack, "startup-admin", "--scopes", "sessions:read,admin"),
            "lacks the scope",
        ),
    }
    try:
        for server, _refusal in cases.values():
            server.start()
        with ThreadPoolExecutor(max_workers=len(cases)) as pool:
            waiting = {name: pool.submit(_outcome, srv, refusal) for name, (srv, refusal) in cases.items()}
            yield {name: Startup(cases[name][0], *done.result()) for name, done in waiting.items()}
    finally:
        for server, _refusal in cases.values():
            server.stop()


def test_the_api_server_refuses_to_start_with_a_credential_without_sessions_read(
    startups: dict[str, Startup],
) -> None:
    """A credential without sessions:read: the api-server never answers, and its log says why in one line."""
    server, outcome, log = startups["no-scope"].server, startups["no-scope"].outcome, startups["no-scope"].log
    assert outcome == "refused", f"{outcome}; log tail:\n{log[-3000:]}"
    line = next(line for line in log.splitlines() if NO_SCOPE_REASON in line)
    assert "[webauthn_auth_manager] service_credentials: client 'sa_" in line
    assert "create Airflow's account with --scopes sessions:read" in line
    # It never served a request.
    with httpx.Client(timeout=2) as client:
        try:
            health = client.get(f"http://127.0.0.1:{server.port}/api/v2/monitor/health").status_code
        except httpx.HTTPError:
            health = None
    assert health != 200


def test_the_api_server_starts_with_an_admin_credential_and_warns_loudly(
    startups: dict[str, Startup],
) -> None:
    """sessions:read and admin: it starts (sessions work), and its log warns that admin is too much."""
    outcome, log = startups["admin"].outcome, startups["admin"].log
    assert outcome == "ready", f"{outcome}; log tail:\n{log[-3000:]}"
    assert "HOLDS THE SCOPE admin, FAR MORE THAN AIRFLOW NEEDS" in log
