"""``airflow-webauthn``: the ``airflow webauthn`` commands without importing Airflow, configured from
airflow.cfg and the environment as Airflow would be, and validated by the same code."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

import airflow_webauthn.config as config
from airflow_webauthn.cli import standalone
from airflow_webauthn.services.gateway import ServiceGateway

from support import ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET, SERVICE_URL, FakeAuthService

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

VARIABLES = ("SERVICE_URL", "CLI_CREDENTIALS", "SERVICE_CREDENTIALS", "ISSUER")


@pytest.fixture(autouse=True)
def own_configuration(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Each test starts from an empty AIRFLOW_HOME and no [webauthn_auth_manager] variable, and leaves the
    process reading Airflow's configuration again (main switches it)."""
    monkeypatch.setattr(config, "_source", config._source)
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path))
    monkeypatch.delenv("AIRFLOW_CONFIG", raising=False)
    for name in VARIABLES:
        monkeypatch.delenv(f"AIRFLOW__WEBAUTHN_AUTH_MANAGER__{name}", raising=False)
    config.get_settings.cache_clear()
    yield
    config.get_settings.cache_clear()


@pytest.fixture
def service(monkeypatch: pytest.MonkeyPatch) -> FakeAuthService:
    fake = FakeAuthService()
    fake.add_user("u-1", username="ada")
    real_init = ServiceGateway.__init__

    def with_transport(self: ServiceGateway, **kwargs: object) -> None:
        real_init(self, **kwargs, transport=fake.transport())  # type: ignore[arg-type]

    monkeypatch.setattr(ServiceGateway, "__init__", with_transport)
    return fake


def test_settings_from_airflow_cfg(
    service: FakeAuthService, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """service_url and cli_credentials from $AIRFLOW_HOME/airflow.cfg are what the command uses."""
    (tmp_path / "airflow.cfg").write_text(
        f"[webauthn_auth_manager]\nservice_url = {SERVICE_URL}\n"
        f"cli_credentials = {ADMIN_CLIENT_ID}:{ADMIN_CLIENT_SECRET}\n"
    )
    standalone.main(["users", "list", "--json"])
    assert [user["username"] for user in json.loads(capsys.readouterr().out)] == ["ada"]


def test_the_environment_beats_airflow_cfg(
    service: FakeAuthService,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A wrong secret in the environment wins over the right one in the file: the service refuses."""
    (tmp_path / "airflow.cfg").write_text(
        f"[webauthn_auth_manager]\nservice_url = {SERVICE_URL}\n"
        f"cli_credentials = {ADMIN_CLIENT_ID}:{ADMIN_CLIENT_SECRET}\n"
    )
    monkeypatch.setenv("AIRFLOW__WEBAUTHN_AUTH_MANAGER__CLI_CREDENTIALS", f"{ADMIN_CLIENT_ID}:wrong")
    with pytest.raises(SystemExit) as info:
        standalone.main(["users", "list"])
    assert info.value.code == 1
    assert "the auth service refused" in capsys.readouterr().err


def test_the_same_validation_as_the_auth_manager(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Plain http to a host that is not loopback is refused here as in the api-server (config.py), in one
    line with exit status 2, and the secret is not echoed."""
    monkeypatch.setenv("AIRFLOW__WEBAUTHN_AUTH_MANAGER__SERVICE_URL", "http://auth.example.com")
    monkeypatch.setenv("AIRFLOW__WEBAUTHN_AUTH_MANAGER__CLI_CREDENTIALS", "id-only-no-secret-sep")
    with pytest.raises(SystemExit) as info:
        standalone.main(["users", "list"])
    assert info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "plain http is allowed only to a loopback address" in err
    assert "cli_credentials = <hidden>" in err
    assert "id-only-no-secret-sep" not in err


def test_without_airflow_home_the_message_asks_about_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No AIRFLOW_HOME: Airflow's ~/airflow/airflow.cfg is read (here: none), and the one line asks whether
    AIRFLOW_HOME is set, naming the demo's."""
    monkeypatch.delenv("AIRFLOW_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(SystemExit) as info:
        standalone.main(["invite", "list"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "service_url is required" in err
    assert "is AIRFLOW_HOME set? the demo's is data/airflow" in err
    assert not (tmp_path / "airflow").exists()  # unlike Airflow, nothing is created


def test_the_same_commands_and_options_as_airflow_webauthn() -> None:
    """Every command and option of ``airflow webauthn`` (Airflow's parser) exists in ``airflow-webauthn``,
    and nothing else: one definition, two parsers."""
    from airflow.cli.cli_parser import _add_command

    from airflow_webauthn.cli.definition import get_webauthn_cli_commands

    airflow = argparse.ArgumentParser(prog="airflow")
    subparsers = airflow.add_subparsers(dest="subcommand")
    for command in get_webauthn_cli_commands():
        _add_command(subparsers, command)
    webauthn = _children(airflow)["webauthn"]
    assert _shape(standalone.build_parser()) == _shape(webauthn)


def _children(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _shape(parser: argparse.ArgumentParser) -> object:
    children = _children(parser)
    if children:
        return {name: _shape(child) for name, child in children.items()}
    return sorted(
        (tuple(action.option_strings) or (action.dest,), action.required)
        for action in parser._actions
        if not isinstance(action, argparse._HelpAction)
    )


def test_the_fast_path_imports_no_airflow() -> None:
    """Parsing, reading the settings and building the invite link load no ``airflow`` module (which is
    what takes 5-7 s); checked in a fresh interpreter."""
    code = """
import os, sys
os.environ["AIRFLOW__WEBAUTHN_AUTH_MANAGER__SERVICE_URL"] = "http://127.0.0.1:3000"
os.environ["AIRFLOW__API__BASE_URL"] = "https://airflow.example.com/base"
from airflow_webauthn.cli import standalone
from airflow_webauthn import config, paths
import airflow_webauthn.cli.commands
parser = standalone.build_parser()
parser.parse_args(["invite", "create", "--username", "x"])
from airflow_webauthn.airflow_cfg import AirflowCfg
config.read_options_from(AirflowCfg.of_this_process().get)
assert config.get_settings().service_url == "http://127.0.0.1:3000"
assert paths.enroll_url("t") == "https://airflow.example.com/base/auth/enroll?invite=t", paths.enroll_url("t")
print(sorted(m for m in sys.modules if m == "airflow" or m.startswith("airflow.")))
"""
    done = subprocess.run(  # noqa: S603 (this interpreter, code written by the test)
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
