"""`airflow webauthn ...` commands against the fake admin API (parsed by Airflow's real CLI parser)."""

from __future__ import annotations

import json

import pytest

from airflow_webauthn.cli import commands
from airflow_webauthn.cli.definition import get_webauthn_cli_commands
from airflow_webauthn.services.service_client import AuthServiceClient

from support import SERVICE_ACCOUNT_ID, FakeAuthService, make_settings


@pytest.fixture
def service(monkeypatch: pytest.MonkeyPatch) -> FakeAuthService:
    fake = FakeAuthService()
    fake.add_user("u-1", username="ada")
    fake.add_user("u-2", username="bob", groups=["ops"])
    settings = make_settings()

    def make_client() -> AuthServiceClient:
        return AuthServiceClient(
            base_url=settings.service_url,
            timeout_seconds=1,
            credentials=settings.service_credentials,
            transport=fake.transport(),
        )

    monkeypatch.setattr(commands, "make_client", make_client)
    return fake


def run(*argv: str) -> None:
    import argparse

    from airflow.cli.cli_parser import _add_command

    parser = argparse.ArgumentParser(prog="airflow")
    subparsers = parser.add_subparsers(dest="subcommand")
    for command in get_webauthn_cli_commands():
        _add_command(subparsers, command)
    args = parser.parse_args(list(argv))
    args.func(args)


def test_users_list_json(service: FakeAuthService, capsys: pytest.CaptureFixture[str]) -> None:
    """--json prints the admin API's user list as JSON."""
    run("webauthn", "users", "list", "--json")
    users = json.loads(capsys.readouterr().out)
    assert {u["username"] for u in users} == {"ada", "bob"}


def test_users_disable_by_username(service: FakeAuthService, capsys: pytest.CaptureFixture[str]) -> None:
    """A username is resolved to the service's id before disabling."""
    run("webauthn", "users", "disable", "bob")
    assert service.users["u-2"]["disabled"] is True
    assert "bob: disabled" in capsys.readouterr().out
    run("webauthn", "users", "enable", "u-2")
    assert service.users["u-2"]["disabled"] is False


def test_unknown_user_is_a_clear_error(service: FakeAuthService, capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown user ends with exit status 1 and a one-line reason."""
    with pytest.raises(SystemExit) as info:
        run("webauthn", "users", "disable", "carol")
    assert info.value.code == 1
    assert "no user matches 'carol'" in capsys.readouterr().err


def test_invites_create(service: FakeAuthService, capsys: pytest.CaptureFixture[str]) -> None:
    """Invites send username, display name and groups; output includes Airflow's enroll link."""
    run(
        "webauthn",
        "invites",
        "create",
        "--username",
        "carol",
        "--display-name",
        "Carol",
        "--groups",
        "a, b",
        "--json",
    )
    sent = json.loads(service.last("/v1/admin/invites").content)
    assert sent == {"username": "carol", "displayName": "Carol", "groups": ["a", "b"]}
    out = json.loads(capsys.readouterr().out)
    assert out["enrollUrl"].endswith("/auth/enroll?invite=tok-123")


def test_service_accounts(service: FakeAuthService, capsys: pytest.CaptureFixture[str]) -> None:
    """Create, list, rotate and disable service accounts (by name or id)."""
    run("webauthn", "service-accounts", "create", "--name", "etl", "--groups", "ops", "--json")
    assert json.loads(capsys.readouterr().out)["clientSecret"] == "s2"
    run("webauthn", "service-accounts", "list")
    assert "ci-bot" in capsys.readouterr().out
    run("webauthn", "service-accounts", "rotate", "ci-bot", "--json")
    assert json.loads(capsys.readouterr().out)["clientSecret"] == "new-secret"
    run("webauthn", "service-accounts", "disable", SERVICE_ACCOUNT_ID)
    assert "disabled" in capsys.readouterr().out
    assert service.service_accounts[SERVICE_ACCOUNT_ID]["disabled"] is True


def test_keys_rotate_and_audit_export(service: FakeAuthService, capsys: pytest.CaptureFixture[str]) -> None:
    """Key rotation calls the admin API; the audit export is printed as NDJSON with filters passed on."""
    run("webauthn", "keys", "rotate", "--json")
    assert json.loads(capsys.readouterr().out)["kid"] == "ed-2"
    run("webauthn", "audit", "export", "--since", "2025-01-01T00:00:00Z")
    lines = capsys.readouterr().out.strip().splitlines()
    assert json.loads(lines[0])["params"] == {"since": "2025-01-01T00:00:00Z"}


def test_service_down_is_reported(service: FakeAuthService, capsys: pytest.CaptureFixture[str]) -> None:
    """Unreachable service: exit status 1 and a message saying so."""
    service.up = False
    with pytest.raises(SystemExit):
        run("webauthn", "users", "list")
    assert "unavailable" in capsys.readouterr().err
