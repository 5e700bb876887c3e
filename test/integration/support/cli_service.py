"""An auth service of its own for a module that drives the ``airflow`` CLI (no api-server needed): the CLI
talks to the service's admin API as an admin service account, ``airflow-cli``, from an empty AIRFLOW_HOME."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from support.processes import free_port
from support.stack import AuthService

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

CLI_ACCOUNT = "airflow-cli"


@dataclass
class CliService:
    service: AuthService
    home: Path  # AIRFLOW_HOME for the CLI processes (empty: they read nothing but their environment)
    credentials: str  # client_id:client_secret of CLI_ACCOUNT, for cli_credentials

    @property
    def client_id(self) -> str:
        return self.credentials.split(":", 1)[0]


@contextmanager
def cli_service(workdir: Path, name: str) -> Iterator[CliService]:
    """Start a service named ``name`` in ``workdir``, create CLI_ACCOUNT on it (groups airflow-admins, scope
    admin), yield, and stop the service."""
    service = AuthService(workdir=workdir, airflow_origin=f"http://localhost:{free_port()}", name=name)
    service.start()
    try:
        service.wait_ready()
        admin = service.cli(
            "service-account",
            "create",
            "--name",
            CLI_ACCOUNT,
            "--groups",
            "airflow-admins",
            "--scopes",
            "admin",
        )
        home = workdir / "airflow-home"
        home.mkdir()
        yield CliService(
            service=service, home=home, credentials=f"{admin['clientId']}:{admin['clientSecret']}"
        )
    finally:
        service.stop()
