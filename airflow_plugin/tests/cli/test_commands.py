"""`airflow webauthn ...` commands against the fake admin API (parsed by Airflow's real CLI parser)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from airflow_webauthn.cli.definition import get_webauthn_cli_commands
from airflow_webauthn.services.gateway import ServiceGateway

if TYPE_CHECKING:
    from pathlib import Path

from support import ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET, SERVICE_ACCOUNT_ID, FakeAuthService, make_settings

CLI_CREDENTIALS = f"{ADMIN_CLIENT_ID}:{ADMIN_CLIENT_SECRET}"


def use_settings(monkeypatch: pytest.MonkeyPatch, fake: FakeAuthService, **overrides: str) -> None:
    """The CLI's real ``make_gateway``, over the fake service's transport."""
    import airflow_webauthn.config as config

    settings = make_settings(**overrides)
    monkeypatch.setattr(config, "get_settings", lambda: settings)
    real_init = ServiceGateway.__init__

    def with_transport(self: ServiceGateway, **kwargs: object) -> None:
        real_init(self, **kwargs, transport=fake.transport())  # type: ignore[arg-type]

    monkeypatch.setattr(ServiceGateway, "__init__", with_transport)


@pytest.fixture
def service(monkeypatch: pytest.MonkeyPatch) -> FakeAuthService:
    fake = FakeAuthService()
    fake.add_user("u-1", username="ada")
    fake.add_user("u-2", username="bob", groups=["ops"])
    # Only the CLI's own credential can do admin work: service_credentials is a different account.
    use_settings(
        monkeypatch, fake, service_credentials="airflow-status:nope", cli_credentials=CLI_CREDENTIALS
    )
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


def test_audit_verify_exits_zero_on_an_intact_trail(
    service: FakeAuthService, capsys: pytest.CaptureFixture[str]
) -> None:
    """An intact trail: exit 0 and one line with the count and the chain head (JSON on request)."""
    run("webauthn", "audit", "verify")
    assert capsys.readouterr().out.strip() == f"audit trail intact: 7 events, head 7 {'ab' * 32}"
    run("webauthn", "audit", "verify", "--json")
    assert json.loads(capsys.readouterr().out)["ok"] is True


@pytest.mark.parametrize("as_json", [False, True])
def test_audit_verify_fails_naming_the_first_bad_event(
    service: FakeAuthService, capsys: pytest.CaptureFixture[str], as_json: bool
) -> None:
    """A broken trail is never a success, with or without --json: exit 1 and one line naming the event,
    its position and what is wrong with it."""
    broken = {"eventId": "ev-3", "seq": 3, "problem": "was altered (its hash does not match its fields)"}
    service.reply(
        "GET", "/v1/admin/audit/verify", 200, {"ok": False, "events": 2, "broken": broken, "last": None}
    )
    with pytest.raises(SystemExit) as exit_info:
        run("webauthn", "audit", "verify", *(["--json"] if as_json else []))
    assert exit_info.value.code == 1
    captured = capsys.readouterr()
    assert captured.err.strip().splitlines() == [
        "error: audit trail broken: event ev-3 at position 3 was altered (its hash does not match its fields)"
    ]
    assert (json.loads(captured.out)["broken"] == broken) if as_json else captured.out == ""


def test_service_down_is_reported(service: FakeAuthService, capsys: pytest.CaptureFixture[str]) -> None:
    """Unreachable service: exit status 1 and a message saying so."""
    service.up = False
    with pytest.raises(SystemExit):
        run("webauthn", "users", "list")
    assert "unavailable" in capsys.readouterr().err


def test_the_cli_uses_its_own_credential_never_service_credentials(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Airflow's runtime credential may only read session status: without cli_credentials the admin
    commands stop with one clear line naming the setting, and never fall back to service_credentials."""
    fake = FakeAuthService()
    use_settings(monkeypatch, fake, service_credentials=CLI_CREDENTIALS, cli_credentials="")
    with pytest.raises(SystemExit) as info:
        run("webauthn", "users", "list")
    assert info.value.code == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "cli_credentials" in err
    assert "AIRFLOW__WEBAUTHN_AUTH_MANAGER__CLI_CREDENTIALS" in err
    assert fake.attempts == 0


def test_admin_calls_send_no_forwarded_address(service: FakeAuthService) -> None:
    """Server-to-server calls are Airflow's own: no X-Forwarded-For (the service limits them by client)."""
    run("webauthn", "users", "list")
    assert all("x-forwarded-for" not in request.headers for request in service.requests)


def test_users_list_is_a_table_for_people(
    service: FakeAuthService, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --json: an aligned table with a header, one row per user (the service CLI's layout)."""
    run("webauthn", "users", "list")
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == [
        "USERNAME", "DISPLAY_NAME", "GROUPS", "STATUS", "LAST_LOGIN", "IDP", "LAST_IDP_LOGIN", "ID",
    ]  # fmt: skip
    assert [line.split()[0] for line in lines[1:]] == ["ada", "bob"]


def test_users_list_and_show_name_the_identity_provider(
    service: FakeAuthService, capsys: pytest.CaptureFixture[str]
) -> None:
    """A federated person's provider (issuer) and last provider sign-in are shown; a local person says local."""
    service.users["u-2"].update(idp="https://idp.example.test", lastIdpLoginAt="2025-03-01T10:00:00.000Z")
    run("webauthn", "users", "list")
    rows = {line.split()[0]: line.split() for line in capsys.readouterr().out.splitlines()[1:]}
    assert rows["bob"][-3:-1] == ["https://idp.example.test", "2025-03-01T10:00:00.000Z"]
    assert rows["ada"][-3:-1] == ["local", "-"]
    run("webauthn", "users", "list", "--json")
    listed = {u["username"]: u for u in json.loads(capsys.readouterr().out)}
    assert listed["bob"]["idp"] == "https://idp.example.test"
    assert listed["ada"]["idp"] is None
    run("webauthn", "users", "show", "bob")
    assert (
        "identity provider: https://idp.example.test; last sign-in there: 2025-03-01T10:00:00.000Z"
        in capsys.readouterr().out
    )
    run("webauthn", "users", "show", "ada")
    assert "identity provider: none (local person, passkey only)" in capsys.readouterr().out


def test_invalid_configuration_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A missing service_url (only AIRFLOW_HOME set) ends in one line and exit 2 (configuration), not a
    traceback."""
    import airflow_webauthn.config as config

    def missing() -> config.WebAuthnSettings:
        return config.WebAuthnSettings.from_values({})

    monkeypatch.setattr(config, "get_settings", missing)
    with pytest.raises(SystemExit) as info:
        run("webauthn", "users", "list")
    assert info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert err.startswith("error: [webauthn_auth_manager] service_url is required")


def test_audit_verify_against_a_head_file_sends_it_and_reports_where_it_was_found(
    service: FakeAuthService, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """``--head FILE`` passes the file to the service as it is (only the service's keys can judge its
    signature) and says the trail contains it; a file that cannot be read is one line and exit 1."""
    head = tmp_path / "head.json"
    head.write_text('{"kind": "audit-head", "seq": 7}\n')
    verdict = {"ok": True, "events": 7, "broken": None, "last": {"seq": 9, "hash": "cd" * 32}}
    service.reply(
        "GET",
        "/v1/admin/audit/verify",
        200,
        {**verdict, "anchor": {"seq": 7, "hash": "ab" * 32, "pruned": False}},
    )
    run("webauthn", "audit", "verify", "--head", str(head))
    assert service.last("/v1/admin/audit/verify").url.params["head"] == '{"kind": "audit-head", "seq": 7}'
    assert capsys.readouterr().out.splitlines()[1] == f"contains the signed head 7 {'ab' * 32}"
    with pytest.raises(SystemExit) as exit_info:
        run("webauthn", "audit", "verify", "--head", str(tmp_path / "missing.json"))
    assert exit_info.value.code == 1
    assert capsys.readouterr().err.startswith("error: cannot read the audit head")


def test_audit_head_prints_the_signed_head(
    service: FakeAuthService, capsys: pytest.CaptureFixture[str]
) -> None:
    """``audit head --json`` prints the service's signed head as it is, to keep outside the database."""
    head = {
        "kind": "audit-head",
        "seq": 3,
        "hash": "ef" * 32,
        "occurredAt": None,
        "signedAt": "x",
        "signature": "a.b.c",
    }
    service.reply("GET", "/v1/admin/audit/head", 200, head)
    run("webauthn", "audit", "head", "--json")
    assert json.loads(capsys.readouterr().out) == head


@pytest.mark.parametrize(("airflow_home", "hinted"), [(None, True), ("/srv/airflow", False)])
def test_missing_configuration_asks_about_airflow_home_when_unset(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    airflow_home: str | None,
    hinted: bool,
) -> None:
    """Without AIRFLOW_HOME the likely cause is the wrong airflow.cfg: the one line says so (not otherwise)."""
    import airflow_webauthn.config as config

    monkeypatch.setattr(config, "get_settings", lambda: config.WebAuthnSettings.from_values({}))
    if airflow_home is None:
        monkeypatch.delenv("AIRFLOW_HOME", raising=False)
    else:
        monkeypatch.setenv("AIRFLOW_HOME", airflow_home)
    with pytest.raises(SystemExit):
        run("webauthn", "users", "list")
    err = capsys.readouterr().err
    assert ("is AIRFLOW_HOME set? the demo's is data/airflow" in err) is hinted


def test_help_lists_each_command_once_without_old_names(capsys: pytest.CaptureFixture[str]) -> None:
    """``airflow webauthn --help`` shows the current names only; the old ones still work (tests above)."""
    with pytest.raises(SystemExit):
        run("webauthn", "--help")
    out = capsys.readouterr().out
    assert "Old name" not in out
    for current in ("invite", "service-account", "users", "passkeys", "keys", "audit"):
        assert f"    {current} " in out or f"    {current}\n" in out
    listed = [line.split()[0] for line in out.splitlines() if line.startswith("    ") and line.split()]
    assert "invites" not in listed
    assert "service-accounts" not in listed


LINE = {
    "id": "0b6f1c1e-4a57-4f0e-9d7e-1f2a3b4c5d6e",
    "state": "signed_in",
    "usedAt": "2026-01-01T00:01:00.000Z",
    "lastUsedAt": "2026-01-02T00:00:00.000Z",
    "usedFrom": "198.51.100.8",
    "client": "airflowctl/0.1.5",
}


def test_users_show_and_command_lines_list_name_each_command_line(
    service: FakeAuthService, capsys: pytest.CaptureFixture[str]
) -> None:
    """An admin sees where and with what each command line signed in, and when it was last used."""
    service.users["u-2"]["commandLines"] = [LINE]
    run("webauthn", "users", "show", "bob")
    out = capsys.readouterr().out
    assert "command lines signed in:" in out
    row = next(line for line in out.splitlines() if line.startswith(LINE["id"]))
    assert row.split() == [LINE["id"], LINE["usedAt"], LINE["lastUsedAt"], "198.51.100.8", "airflowctl/0.1.5"]
    run("webauthn", "command-lines", "list", "bob", "--json")
    assert json.loads(capsys.readouterr().out) == [LINE]
    run("webauthn", "command-lines", "list", "ada")
    assert capsys.readouterr().out.splitlines() == ["(none)"]


def test_command_lines_revoke_signs_the_persons_command_line_out(
    service: FakeAuthService, capsys: pytest.CaptureFixture[str]
) -> None:
    """The person is resolved by name; the service's admin route gets their id and the command line's."""
    path = f"/v1/admin/users/u-2/command-lines/{LINE['id']}"
    service.reply("DELETE", path, 200, {**LINE, "state": "revoked"})
    run("webauthn", "command-lines", "revoke", "bob", LINE["id"])
    assert len(service.sent_to("DELETE", path)) == 1
    assert "signed out (from 198.51.100.8, airflowctl/0.1.5)" in capsys.readouterr().out


def test_command_lines_revoke_of_someone_elses_is_a_clear_error(
    service: FakeAuthService, capsys: pytest.CaptureFixture[str]
) -> None:
    """The service's 404 (not this person's) ends the command with status 1 and its reason."""
    refusal = {"statusCode": 404, "error": "Not Found", "message": "no such code or command line"}
    service.reply("DELETE", f"/v1/admin/users/u-1/command-lines/{LINE['id']}", 404, refusal)
    with pytest.raises(SystemExit) as info:
        run("webauthn", "command-lines", "revoke", "ada", LINE["id"])
    assert info.value.code == 1
    assert "no such code or command line" in capsys.readouterr().err
