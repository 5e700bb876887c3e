"""``airflow webauthn ...`` (the real Airflow CLI, a fresh process each time) against the real auth service,
and the same commands through ``airflow-webauthn ...`` (the console script that does not import Airflow).

Only the auth service is started here (the commands talk to its admin API, not to Airflow's
api-server). The CLI reads nothing but its environment: service_url and cli_credentials (the last tests
give them in airflow.cfg instead).
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from support.cli_service import cli_service
from support.soft_authenticator import SoftAuthenticator
from support.stack import AuthService, _base_env, airflow_bin

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


AIRFLOW = "airflow webauthn"
FAST = "airflow-webauthn"


def command(entry: str) -> list[str]:
    """``airflow webauthn`` (Airflow's CLI) or ``airflow-webauthn`` (the console script beside it)."""
    return [str(airflow_bin()), "webauthn"] if entry == AIRFLOW else [str(airflow_bin().parent / FAST)]


@dataclass
class Cli:
    service: AuthService
    home: Path
    credentials: str
    entry: str = AIRFLOW

    def env(self, **overrides: str) -> dict[str, str]:
        return {
            **_base_env(),
            "AIRFLOW_HOME": str(self.home),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "ERROR",
            "AIRFLOW__WEBAUTHN_AUTH_MANAGER__SERVICE_URL": self.service.url,
            "AIRFLOW__WEBAUTHN_AUTH_MANAGER__CLI_CREDENTIALS": self.credentials,
            **overrides,
        }

    def run(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*command(self.entry), *args],
            env=self.env(**env),
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )

    def ok(self, *args: str) -> str:
        result = self.run(*args)
        assert result.returncode == 0, result.stderr
        return result.stdout

    def json(self, *args: str) -> Any:
        return json.loads(self.ok(*args, "--json"))


@pytest.fixture(scope="module", params=[AIRFLOW, FAST])
def cli(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cli]:
    """Every test below runs once per entry point, each on a service of its own."""
    with cli_service(tmp_path_factory.mktemp("cli"), "auth-service-cli") as deployed:
        yield Cli(
            service=deployed.service,
            home=deployed.home,
            credentials=deployed.credentials,
            entry=request.param,
        )


def enroll(cli: Cli, username: str, groups: str = "it-users") -> None:
    """An invite from `airflow webauthn invite create`, redeemed on the service by a software passkey."""
    invite = cli.json("invite", "create", "--username", username, "--groups", groups)
    origin = cli.service.env["WEBAUTHN_ORIGINS"]
    with httpx.Client(base_url=cli.service.url, timeout=30) as http:
        options = http.post("/v1/registration/options", json={"inviteToken": invite["token"]})
        assert options.status_code == 200, options.text
        response = SoftAuthenticator().create(options.json(), origin=origin)
        verified = http.post("/v1/registration/verify", json={"response": response, "label": "laptop"})
        assert verified.status_code == 201, verified.text


def test_users_and_passkeys(cli: Cli) -> None:
    """users list/show/set-groups/disable/enable and passkeys list/unflag/revoke on a real account,
    with human tables by default and JSON on request."""
    enroll(cli, "ivy")
    table = cli.ok("users", "list")
    assert table.splitlines()[0].split() == [
        "USERNAME",
        "DISPLAY_NAME",
        "GROUPS",
        "STATUS",
        "LAST_LOGIN",
        "IDP",
        "LAST_IDP_LOGIN",
        "ID",
    ]
    [ivy_row] = [line.split() for line in table.splitlines() if line.startswith("ivy ")]
    assert ivy_row[-3:-1] == ["local", "-"]  # invited, not federated: no identity provider

    assert cli.json("users", "set-groups", "ivy", "it-ops,it-viewers")["groups"] == [
        "it-ops",
        "it-viewers",
    ]
    detail = cli.json("users", "show", "ivy")
    assert detail["groups"] == ["it-ops", "it-viewers"]
    assert (detail["idp"], detail["lastIdpLoginAt"]) == (None, None)
    assert "identity provider: none (local person, passkey only)" in cli.ok("users", "show", "ivy")
    [passkey] = detail["passkeys"]

    # A security check flags the passkey (as a counter regression would); the admin reviews and unblocks it.
    with sqlite3.connect(cli.service.workdir / "auth.sqlite") as db:
        db.execute(
            "UPDATE passkeys SET flagged_at = created_at, flag_reason = 'counter_regression' WHERE id = ?",
            (passkey["id"],),
        )
    assert "flagged (counter_regression" in cli.ok("passkeys", "list", "ivy")
    assert cli.json("passkeys", "unflag", passkey["id"])["flagReason"] is None
    assert cli.json("passkeys", "revoke", passkey["id"])["revokedAt"]
    assert "revoked" in cli.ok("users", "show", "ivy")

    assert "user ivy: disabled" in cli.ok("users", "disable", "ivy")
    assert cli.json("users", "enable", "ivy")["disabled"] is False


def test_the_last_administrator_cannot_be_demoted_disabled_or_lose_their_passkey(cli: Cli) -> None:
    """No ``airflow webauthn`` command may leave the deployment without an enabled administrator who
    can sign in: each is refused with one line saying so (there is no --force here: that is the
    service CLI's break-glass), and nothing changes."""
    enroll(cli, "root", groups="airflow-admins")
    [passkey] = cli.json("users", "show", "root")["passkeys"]
    for args in (
        ("users", "set-groups", "root", "it-ops"),
        ("users", "disable", "root"),
        ("passkeys", "revoke", passkey["id"]),
    ):
        result = cli.run(*args)
        assert result.returncode == 1, (args, result.stdout)
        assert "leave no enabled person in airflow-admins with an active passkey" in result.stderr, args
        assert "(409 last_admin)" in result.stderr
    detail = cli.json("users", "show", "root")
    assert (detail["groups"], detail["disabled"], detail["passkeys"][0]["revokedAt"]) == (
        ["airflow-admins"],
        False,
        None,
    )


def test_service_accounts_and_keys(cli: Cli) -> None:
    """service-account create (with --scopes)/list/disable/enable/rotate-secret; keys list/rotate;
    audit export shows what the CLI did."""
    created = cli.json(
        "service-account",
        "create",
        "--name",
        "etl",
        "--groups",
        "ops",
        "--scopes",
        "sessions:read",
    )
    assert created["scopes"] == ["sessions:read"] and created["clientSecret"]
    assert created["agent"] is False
    agent = cli.json("service-account", "create", "--name", "copilot", "--agent")
    assert agent["agent"] is True and agent["groups"] == []
    listed = cli.ok("service-account", "list")
    assert "etl" in listed and created["clientSecret"] not in listed
    kinds = {line.split()[0]: line.split()[2] for line in listed.splitlines()[1:]}
    assert kinds["etl"] == "service" and kinds["copilot"] == "agent"
    assert cli.json("service-account", "disable", "etl")["disabled"] is True
    assert cli.json("service-account", "enable", created["clientId"])["disabled"] is False
    rotated = cli.json("service-account", "rotate-secret", "etl")
    assert rotated["clientSecret"] != created["clientSecret"]

    before = {key["kid"]: key["state"] for key in cli.json("keys", "list")}
    rotation = cli.json("keys", "rotate")
    assert before[rotation["activeKid"]] == "next"
    assert cli.ok("keys", "list").splitlines()[0].split()[:3] == ["KID", "ALG", "STATE"]

    events = [json.loads(line) for line in cli.ok("audit", "export", "--type", "key.rotated").splitlines()]
    assert len(events) == 1


def test_audit_export_names_and_verify(cli: Cli) -> None:
    """audit export shows who acted by name (ids kept); audit verify exits 0 on the trail the service
    wrote and, after a row is edited behind the service's back, exits 1 with one line naming that event."""
    cli.ok("keys", "list")
    events = [json.loads(line) for line in cli.ok("audit", "export", "--type", "audit.read").splitlines()]
    events += [json.loads(line) for line in cli.ok("audit", "export", "--type", "token.issued").splitlines()]
    by_cli = [event for event in events if event["actorType"] == "service_account"]
    assert by_cli and {event["actorName"] for event in by_cli} == {"airflow-cli"}
    assert all(event["actorId"] for event in by_cli)

    intact = cli.run("audit", "verify")
    assert intact.returncode == 0, intact.stderr
    assert intact.stdout.startswith("audit trail intact: ")
    assert cli.json("audit", "verify")["broken"] is None

    with sqlite3.connect(cli.service.workdir / "auth.sqlite") as db:
        victim, actor = db.execute("SELECT id, actor_id FROM audit_events WHERE seq = 2").fetchone()
        db.execute("UPDATE audit_events SET actor_id = 'mallory' WHERE id = ?", (victim,))
    try:
        broken = cli.run("audit", "verify")
        assert broken.returncode == 1
        assert broken.stdout == ""
        lines = [line for line in broken.stderr.splitlines() if line.strip()]
        assert len(lines) == 1, broken.stderr
        assert lines[0].startswith(f"error: audit trail broken: event {victim} at position 2 was altered")
    finally:
        # The module's other tests share this trail: put the field back (the chain verifies again).
        with sqlite3.connect(cli.service.workdir / "auth.sqlite") as db:
            db.execute("UPDATE audit_events SET actor_id = ? WHERE id = ?", (actor, victim))
    assert cli.run("audit", "verify").returncode == 0


def test_audit_verify_against_a_signed_head_kept_outside(cli: Cli, tmp_path: Path) -> None:
    """``audit head --json`` gives a head signed by the service; ``audit verify --head FILE`` exits 0
    while the trail contains it, 1 naming the deleted events once the newest events are deleted and the
    chain head moved back (which plain ``audit verify`` cannot see), and 1 for a head whose fields were
    edited after signing."""
    for _ in range(6):  # a trail with some events after the oldest ones (each verify is recorded)
        cli.ok("audit", "verify")
    head = cli.json("audit", "head")
    kept = tmp_path / "head.json"
    kept.write_text(json.dumps(head))
    intact = cli.run("audit", "verify", "--head", str(kept))
    assert intact.returncode == 0, intact.stderr
    assert f"contains the signed head {head['seq']}" in intact.stdout

    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps({**head, "seq": head["seq"] - 1}))
    forged = cli.run("audit", "verify", "--head", str(edited))
    assert forged.returncode == 1
    assert "was changed after it was signed" in forged.stderr

    database = cli.service.workdir / "auth.sqlite"
    # Deep enough that the CLI's own calls (a grant, at most one event) cannot refill the positions before it checks.
    keep_through = head["seq"] - 4
    with sqlite3.connect(database) as db:
        saved = db.execute("SELECT * FROM audit_events WHERE seq > ?", (keep_through,)).fetchall()
        saved_head = db.execute("SELECT seq, hash FROM audit_chain_head WHERE id = 1").fetchone()
        (kept_hash,) = db.execute("SELECT hash FROM audit_events WHERE seq = ?", (keep_through,)).fetchone()
        db.execute("DELETE FROM audit_events WHERE seq > ?", (keep_through,))
        db.execute("UPDATE audit_chain_head SET seq = ?, hash = ? WHERE id = 1", (keep_through, kept_hash))
    try:
        truncated = cli.run("audit", "verify", "--head", str(kept))
        assert truncated.returncode == 1
        assert f"but a signed head shows it reached {head['seq']}" in truncated.stderr, truncated.stderr
        assert "were deleted" in truncated.stderr
        assert cli.run("audit", "verify").returncode == 0  # the chain alone looks intact
    finally:
        # The module's other tests share this trail: put the events back (those the CLI calls appended
        # meanwhile are dropped with them, so the chain verifies again).
        with sqlite3.connect(database) as db:
            db.execute("DELETE FROM audit_events WHERE seq > ?", (keep_through,))
            marks = ",".join("?" * len(saved[0]))
            # Only placeholders are formatted in: the values are bound.
            db.executemany(f"INSERT INTO audit_events VALUES ({marks})", saved)  # noqa: S608
            db.execute("UPDATE audit_chain_head SET seq = ?, hash = ? WHERE id = 1", saved_head)
    assert cli.run("audit", "verify", "--head", str(kept)).returncode == 0


@pytest.mark.parametrize(
    ("args", "env", "status", "message"),
    [
        pytest.param(("users", "show", "nobody"), {}, 1, "no user matches 'nobody'", id="unknown-user"),
        pytest.param(
            ("passkeys", "revoke", "no-such-passkey"), {}, 1, "the auth service refused", id="refused"
        ),
        pytest.param(
            ("users", "list"),
            {"AIRFLOW__WEBAUTHN_AUTH_MANAGER__CLI_CREDENTIALS": "airflow-cli:wrong"},
            1,
            "the auth service refused",
            id="wrong-secret",
        ),
        pytest.param(
            ("users", "list"),
            {"AIRFLOW__WEBAUTHN_AUTH_MANAGER__SERVICE_URL": ""},
            2,
            "service_url",
            id="no-url",
        ),
    ],
)
def test_errors_are_one_line_and_a_non_zero_exit(
    cli: Cli, args: tuple[str, ...], env: dict[str, str], status: int, message: str
) -> None:
    """Every failure: exit 1 (refused, failed) or 2 (configuration), one line on stderr naming the
    problem, no traceback, nothing on stdout."""
    result = cli.run(*args, **env)
    assert result.returncode == status
    assert result.stdout == ""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert message in lines[0]


def test_both_entry_points_print_the_same(cli: Cli) -> None:
    """``airflow-webauthn X`` prints what ``airflow webauthn X`` prints, table and JSON alike."""
    enroll(cli, "una")
    other = Cli(cli.service, cli.home, cli.credentials, entry=FAST if cli.entry == AIRFLOW else AIRFLOW)
    for args in (
        ("users", "list"),
        ("users", "show", "una"),
        ("service-account", "list"),
        ("service-account", "list", "--json"),
        ("invites", "list"),  # an old name, still working under both
    ):
        assert cli.ok(*args) == other.ok(*args), args


CURRENT_COMMANDS = {
    "audit",
    "command-lines",
    "invite",
    "keys",
    "login",
    "passkeys",
    "report",
    "service-account",
    "users",
}


def test_help_lists_the_same_commands_without_old_names(cli: Cli) -> None:
    """``--help`` of either entry point lists every current command, and no "Old name of" alias (the old
    names still run: see above)."""
    out = cli.ok("--help")
    listed = {line.split()[0] for line in out.splitlines() if line.startswith("    ") and line.split()}
    assert "Old name" not in out
    assert listed >= CURRENT_COMMANDS
    assert not listed & {"invites", "service-accounts"}
    invite_help = cli.ok("invite", "--help")
    for sub in ("create", "list", "revoke"):
        assert sub in invite_help


def test_the_settings_come_from_airflow_cfg_and_the_environment_wins(cli: Cli, tmp_path: Path) -> None:
    """With nothing in the environment, both read [webauthn_auth_manager] from $AIRFLOW_HOME/airflow.cfg
    (a literal % written %%, as Airflow wants it); an AIRFLOW__WEBAUTHN_AUTH_MANAGER__* variable beats the
    file, as in Airflow."""
    home = tmp_path / "home"
    home.mkdir()
    client_id, secret = cli.credentials.split(":", 1)
    (home / "airflow.cfg").write_text(
        "[webauthn_auth_manager]\n"
        f"service_url = {cli.service.url}\n"
        f"cli_credentials = {client_id}:{secret.replace('%', '%%')}\n"
    )
    env = cli.env(AIRFLOW_HOME=str(home))
    del env["AIRFLOW__WEBAUTHN_AUTH_MANAGER__SERVICE_URL"]
    del env["AIRFLOW__WEBAUTHN_AUTH_MANAGER__CLI_CREDENTIALS"]

    def service_accounts(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*command(cli.entry), "service-account", "list"],
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )

    read = service_accounts(env)
    assert read.returncode == 0, read.stderr
    assert "airflow-cli" in read.stdout

    beaten = service_accounts(
        {**env, "AIRFLOW__WEBAUTHN_AUTH_MANAGER__CLI_CREDENTIALS": f"{client_id}:wrong"}
    )
    assert beaten.returncode == 1
    assert "the auth service refused" in beaten.stderr
