"""The real parts under test: the NestJS auth service and an Airflow api-server using WebAuthnAuthManager."""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from support.fault_proxy import FaultProxy
from support.processes import ManagedProcess, free_port, run

REPO_ROOT = Path(__file__).resolve().parents[3]
SERVICE_MAIN = REPO_ROOT / "dist/apps/auth-service/src/main.js"
SERVICE_CLI = REPO_ROOT / "dist/apps/auth-service/src/cli.js"

# Group names chosen for this suite (not the defaults), so the tests prove role_mapping is what decides.
ROLE_MAPPING = {
    "airflow-admins": "ADMIN",
    "it-ops": "OP",
    "it-users": "USER",
    "it-viewers": "VIEWER",
}
UNMAPPED_GROUP = "it-contractors"
# Per-DAG rules on the DAGs of test/integration/dags (copied into Airflow's dags folder and serialized).
# it-finance and it-auditors are in no role_mapping group: their members have no global role.
DAGS_SOURCE = REPO_ROOT / "test/integration/dags"
DAG_ACCESS = [
    {"groups": ["it-finance"], "dag_tags": ["finance"], "role": "USER"},
    {"groups": ["it-auditors"], "dag_ids": ["it_fin_*", "it_sales_[!x]*"], "role": "VIEWER"},
    {"groups": ["it-ml"], "dag_ids": ["it_ml_*"], "role": "OP"},
]
RECHECK_INTERVAL_SECONDS = 1
# A session the service has not confirmed for RECHECK + GRACE seconds is refused (fail closed).
UNVERIFIED_GRACE_SECONDS = 3
HTTP_TIMEOUT_SECONDS = 3


def _base_env() -> dict[str, str]:
    """The runner's environment without anything that configures Airflow or the service behind our back."""
    drop_prefixes = (
        "AIRFLOW",
        "WEBAUTHN_",
        "JWT_",
        "DATABASE_URL",
        "KEY_ENCRYPTION_KEY",
        "PUBLIC_URL",
    )
    return {k: v for k, v in os.environ.items() if not k.startswith(drop_prefixes)}


def airflow_bin() -> Path:
    here = Path(sys.executable).parent / "airflow"
    return here if here.exists() else REPO_ROOT / ".venv/bin/airflow"


def client_credentials_token(service_url: str, account: dict[str, Any]) -> str:
    """A client-credentials token from ``service_url`` for ``{"clientId", "clientSecret"}``."""
    response = httpx.post(
        f"{service_url}/v1/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": account["clientId"],
            "client_secret": account["clientSecret"],
        },
        timeout=30,
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


@dataclass
class AuthService:
    workdir: Path
    airflow_origin: str
    port: int = field(default_factory=free_port)
    database: Path | None = None
    kek: str = field(default_factory=lambda: base64.b64encode(secrets.token_bytes(32)).decode())
    extra_env: dict[str, str] = field(default_factory=dict)
    name: str = "auth-service"
    process: ManagedProcess | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.workdir / f"{self.name}.log"

    @property
    def env(self) -> dict[str, str]:
        return {
            **_base_env(),
            "NODE_ENV": "production",
            "DATABASE_URL": str(self.database or self.workdir / "auth.sqlite"),
            "WEBAUTHN_RP_ID": "localhost",
            "WEBAUTHN_ORIGINS": self.airflow_origin,
            "KEY_ENCRYPTION_KEY": self.kek,
            "RATE_LIMIT_PER_MINUTE": "0",
            "PORT": str(self.port),
            "HOST": "127.0.0.1",
            "LOG_LEVEL": "warn",
            **self.extra_env,
        }

    def start(self) -> AuthService:
        self.process = ManagedProcess(
            self.name,
            ["node", str(SERVICE_MAIN)],
            env=self.env,
            cwd=REPO_ROOT,
            log=self.log,
        ).start()
        return self

    def wait_ready(self, timeout: float = 60) -> float:
        assert self.process is not None
        return self.process.wait_http(f"{self.url}/readyz", timeout=timeout)

    def cli(self, *args: str) -> Any:
        """Run the admin CLI on the service's database (same environment) and parse its --json output."""
        out = run(
            ["node", str(SERVICE_CLI), *args, "--json"],
            env=self.env,
            cwd=REPO_ROOT,
            log=self.workdir / f"{self.name}-cli.log",
        )
        return json.loads(out) if out.strip() else None

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()

    def restart(self, **extra_env: str) -> float:
        """Stop, start again on the same port and database (``extra_env`` replaces settings), wait ready."""
        self.stop()
        self.extra_env.update(extra_env)
        self.start()
        return self.wait_ready()


@dataclass
class AirflowServer:
    workdir: Path
    port: int
    service: AuthService
    jwt_secret: str = field(default_factory=lambda: secrets.token_urlsafe(48))  # 64 chars: HS512 key size
    service_credentials: str | None = None
    # How Airflow reaches the service (a fault proxy in front of it); the service's own URL by default.
    service_url: str | None = None
    process: ManagedProcess | None = None

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}"

    @property
    def home(self) -> Path:
        return self.workdir / "airflow-home"

    @property
    def log(self) -> Path:
        return self.workdir / "airflow-api-server.log"

    @property
    def env(self) -> dict[str, str]:
        dags = self.workdir / "dags"
        dags.mkdir(parents=True, exist_ok=True)
        env = {
            **_base_env(),
            "AIRFLOW_HOME": str(self.home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{self.home / 'airflow.db'}",
            "AIRFLOW__CORE__AUTH_MANAGER": "airflow_webauthn.auth_manager.WebAuthnAuthManager",
            "AIRFLOW__API_AUTH__JWT_SECRET": self.jwt_secret,
            "AIRFLOW__API__EXPOSE_CONFIG": "True",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
            "AIRFLOW__WEBAUTHN_AUTH_MANAGER__SERVICE_URL": self.service_url or self.service.url,
            "AIRFLOW__WEBAUTHN_AUTH_MANAGER__ISSUER": self.service.url,  # its JWT_ISSUER default
            "AIRFLOW__WEBAUTHN_AUTH_MANAGER__ROLE_MAPPING": json.dumps(ROLE_MAPPING),
            "AIRFLOW__WEBAUTHN_AUTH_MANAGER__DAG_ACCESS": json.dumps(DAG_ACCESS),
            "AIRFLOW__WEBAUTHN_AUTH_MANAGER__RECHECK_INTERVAL_SECONDS": str(RECHECK_INTERVAL_SECONDS),
            "AIRFLOW__WEBAUTHN_AUTH_MANAGER__UNVERIFIED_GRACE_SECONDS": str(UNVERIFIED_GRACE_SECONDS),
            "AIRFLOW__WEBAUTHN_AUTH_MANAGER__HTTP_TIMEOUT_SECONDS": str(HTTP_TIMEOUT_SECONDS),
        }
        if self.service_credentials:
            env["AIRFLOW__WEBAUTHN_AUTH_MANAGER__SERVICE_CREDENTIALS"] = self.service_credentials
        return env

    def run_cli(self, *args: str, log_name: str) -> None:
        """One ``airflow`` CLI command with this server's configuration; output in ``<log_name>.log``."""
        run(
            [str(airflow_bin()), *args],
            env=self.env,
            cwd=self.workdir,
            log=self.workdir / f"{log_name}.log",
            timeout=300,
        )

    def migrate(self) -> None:
        """Create the metadata database and store the suite's DAGs in it."""
        self.migrate_database()
        self.serialize_suite_dags()

    def migrate_database(self) -> None:
        """Create the metadata database (all the api-server needs to start)."""
        self.home.mkdir(parents=True, exist_ok=True)
        self.run_cli("db", "migrate", log_name="airflow-db-migrate")

    def serialize_suite_dags(self) -> None:
        """Copy the suite's DAGs into the dags folder and store them serialized (while the api-server starts:
        it reads them per request, not at start-up)."""
        for source in DAGS_SOURCE.glob("*.py"):
            shutil.copy(source, self.workdir / "dags" / source.name)
        self.reserialize_dags()

    def reserialize_dags(self) -> None:
        """Parse the dags folder once and store the serialized DAGs (no long-running dag-processor needed)."""
        self.run_cli("dags", "reserialize", log_name="airflow-dags-reserialize")

    def start(self) -> AirflowServer:
        self.process = ManagedProcess(
            "airflow api-server",
            [
                str(airflow_bin()),
                "api-server",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            env=self.env,
            cwd=self.workdir,
            log=self.log,
        ).start()
        return self

    def wait_ready(self, timeout: float = 180) -> float:
        assert self.process is not None
        return self.process.wait_http(f"http://127.0.0.1:{self.port}/api/v2/monitor/health", timeout=timeout)

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()


@dataclass
class Stack:
    workdir: Path
    service: AuthService
    airflow: AirflowServer
    proxy: FaultProxy
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    invites: dict[str, dict[str, Any]] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def origin(self) -> str:
        return self.airflow.url

    def logs(self) -> list[Path]:
        return sorted(self.workdir.glob("*.log"))
