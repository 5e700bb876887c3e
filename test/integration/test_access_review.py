"""``airflow users list`` and ``airflow webauthn report access-review`` (the real Airflow CLI, a fresh process
each time) against the real auth service, on a deployment seeded with people, passkeys, a service account,
a disabled and a dormant person, refused sign-ins and a key rotation.

The roles come from this deployment's own role_mapping (a global role, a team role) and dag_access rule,
resolved by the auth manager's code: the review must show what Airflow enforces.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import subprocess
import time
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from support.cli_service import cli_service
from support.soft_authenticator import SoftAuthenticator
from support.stack import AuthService, _base_env, airflow_bin

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

ROLE_MAPPING = {
    "airflow-admins": "ADMIN",
    "airflow-users": "USER",
    "data-team": {"role": "OP", "teams": ["data"]},
}
DAG_ACCESS = [
    {
        "groups": ["finance"],
        "dag_tags": ["finance"],
        "dag_ids": ["fin_*"],
        "role": "USER",
    }
]


class Deployment:
    def __init__(self, service: AuthService, home: Path, credentials: str) -> None:
        self.service = service
        self.home = home
        self.credentials = credentials

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {
            **_base_env(),
            "AIRFLOW_HOME": str(self.home),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "ERROR",
            "AIRFLOW__CORE__AUTH_MANAGER": "airflow_webauthn.auth_manager.WebAuthnAuthManager",
            "AIRFLOW__WEBAUTHN_AUTH_MANAGER__SERVICE_URL": self.service.url,
            "AIRFLOW__WEBAUTHN_AUTH_MANAGER__CLI_CREDENTIALS": self.credentials,
            "AIRFLOW__WEBAUTHN_AUTH_MANAGER__ROLE_MAPPING": json.dumps(ROLE_MAPPING),
            "AIRFLOW__WEBAUTHN_AUTH_MANAGER__DAG_ACCESS": json.dumps(DAG_ACCESS),
            "COLUMNS": "400",
        }
        return subprocess.run(
            [str(airflow_bin()), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )

    def ok(self, *args: str) -> str:
        result = self.run(*args)
        assert result.returncode == 0, result.stderr
        return result.stdout


def _enroll(
    service: AuthService, username: str, groups: str, **kw: Any
) -> SoftAuthenticator:
    """A person enrolled through an invite (the service's own CLI: seeding is not what is tested here)."""
    invite = service.cli("invite", "create", "--username", username, "--groups", groups)
    origin = service.env["WEBAUTHN_ORIGINS"]
    authenticator = SoftAuthenticator(**kw)
    with httpx.Client(base_url=service.url, timeout=30) as http:
        options = http.post(
            "/v1/registration/options", json={"inviteToken": invite["token"]}
        )
        response = authenticator.create(options.json(), origin=origin)
        assert (
            http.post(
                "/v1/registration/verify", json={"response": response}
            ).status_code
            == 201
        )
    return authenticator


def _sign_in(
    service: AuthService, authenticator: SoftAuthenticator, username: str
) -> None:
    origin = service.env["WEBAUTHN_ORIGINS"]
    with httpx.Client(base_url=service.url, timeout=30) as http:
        options = http.post("/v1/authentication/options", json={"username": username})
        verified = http.post(
            "/v1/authentication/verify",
            json={"response": authenticator.get(options.json(), origin=origin)},
        )
        assert verified.status_code == 200, verified.text


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    with cli_service(tmp_path_factory.mktemp("review"), "auth-service-review") as deployed:
        service = deployed.service
        d = Deployment(service, deployed.home, deployed.credentials)
        ada = _enroll(service, "ada", "airflow-admins", aaguid="fbfc3007-154e-4ecc-8c0b-6e020557d7bd",
                      synced=True)  # fmt: skip
        _sign_in(service, ada, "ada")
        _enroll(service, "fin", "finance")
        _enroll(service, "dora", "data-team")
        _enroll(service, "old", "airflow-users")
        _enroll(service, "gone", "airflow-users")
        _enroll(service, "nobody", "unmapped")
        service.cli("users", "disable", "gone")
        long_ago = int((time.time() - 200 * 86400) * 1000)
        with sqlite3.connect(service.workdir / "auth.sqlite") as db:
            db.execute(
                "UPDATE users SET created_at = ? WHERE username = 'old'", (long_ago,)
            )
        service.cli("keys", "rotate")
        with httpx.Client(base_url=service.url, timeout=30) as http:
            refused = http.post(
                "/v1/oauth/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": deployed.client_id,
                    "client_secret": "x",
                },
            )
            assert refused.status_code == 401
        yield d


def test_users_list_table_shows_airflow_roles_and_passkeys(
    deployment: Deployment,
) -> None:
    """``airflow users list`` exists with this auth manager and shows, in Airflow's own table, the role
    Airflow resolves, the status and every column of the listing."""
    table = deployment.ok("users", "list")
    # Airflow's table: cells separated by "|", long cells wrapped onto continuation lines (first cell empty).
    cells = [
        [cell.strip() for cell in line.split("|")]
        for line in table.splitlines()
        if "|" in line
    ]
    rows = {row[0]: row for row in cells if row[0]}
    assert rows["username"][:4] == ["username", "name", "role", "teams"]
    assert rows["ada"][2] == "ADMIN"
    assert rows["gone"][6] == "disabled"
    assert rows["nobody"][2].startswith("no")  # "no access", perhaps wrapped


def test_users_list_plain_has_every_column(deployment: Deployment) -> None:
    """Plain output (for pipes) is one line per person with every column, including how they signed in."""
    lines = deployment.ok("users", "list", "--output", "plain").splitlines()
    assert lines[0].split()[:4] == ["username", "name", "role", "teams"]
    assert {
        "compliant",
        "last_sign_in",
        "last_sign_in_method",
        "passkey_models",
    } <= set(lines[0].split())
    [ada] = [line for line in lines if line.startswith("ada ")]
    assert "ADMIN" in ada and "passkey" in ada and "not evaluated" in ada


def test_users_list_json(deployment: Deployment) -> None:
    """JSON output (Airflow's own console renderer) for scripts: one object per person."""
    people = {
        p["username"]: p
        for p in json.loads(deployment.ok("users", "list", "--output", "json"))
    }
    assert people["ada"]["role"] == "ADMIN"
    assert people["ada"]["last_sign_in_method"] == "passkey"
    assert people["ada"]["passkey_models"] == ["Apple Passwords"]
    assert (people["ada"]["device_bound"], people["ada"]["backed_up"]) == ("0", "1")
    assert people["ada"]["compliant"] == "not evaluated"
    assert people["dora"]["role"] == "NONE" and people["dora"]["teams"] == [
        "OP in data"
    ]
    assert people["fin"]["role"] == "NONE" and people["fin"]["dag_rules"] == [
        "USER on tag finance, id fin_*"
    ]
    assert people["nobody"]["role"] == "no access"
    assert people["old"]["last_sign_in"] == "never"


def test_access_review_json_shape(deployment: Deployment, tmp_path: Path) -> None:
    """The JSON report: every section present, roles and reasons from Airflow, the audit head intact and
    signed, the disabled person's sessions ended, the dormant one found, refused sign-ins counted."""
    out = tmp_path / "review.json"
    summary = deployment.ok(
        "webauthn", "report", "access-review", "--format", "json", "--out", str(out)
    )
    assert "audit chain intact" in summary
    review = json.loads(out.read_text())
    assert set(review) >= {
        "people", "privileged", "dormant", "disabled", "serviceAccounts", "delegations", "keyRotations",
        "failedSignIns", "signInsPerDay", "auditChain", "controls", "period",
    }  # fmt: skip
    people = {p["username"]: p for p in review["people"]}
    assert people["ada"]["why"] == ["airflow-admins → ADMIN"]
    assert people["dora"]["why"] == ["data-team → OP in team data"]
    assert people["fin"]["why"] == [
        "finance → USER on DAGs by tag finance, id fin_* (dag_access)"
    ]
    assert {p["username"] for p in review["privileged"]} == {"ada", "dora"}
    assert all(
        p["compliance"]["status"] == "not_evaluated" for p in review["privileged"]
    )
    assert [p["username"] for p in review["dormant"]] == ["old"]
    assert [(p["username"], p["sessionsEnded"]) for p in review["disabled"]] == [
        ("gone", True)
    ]
    assert [a["name"] for a in review["serviceAccounts"]] == ["airflow-cli"]
    assert review["serviceAccounts"][0]["airflowRole"] == "ADMIN"
    assert review["delegations"]["items"] == []
    assert len(review["keyRotations"]) == 1
    assert review["failedSignIns"]["attempts"] >= 1
    assert (
        review["auditChain"]["intact"] is True
        and review["auditChain"]["signature"].count(".") == 2
    )
    assert sum(day["count"] for day in review["signInsPerDay"]) == 1
    assert {c["section"] for c in review["controls"]} >= {
        "Dormant accounts",
        "Delegations",
    }


def test_access_review_csv_parses_one_row_per_account(deployment: Deployment) -> None:
    """CSV for spreadsheets: a header and one row per person and service account, parseable as CSV."""
    text = deployment.ok(
        "webauthn",
        "report",
        "access-review",
        "--format",
        "csv",
        "--dormant-days",
        "365",
    )
    rows = list(csv.DictReader(io.StringIO(text)))
    by_name = {row["name"]: row for row in rows}
    assert set(by_name) == {
        "ada",
        "fin",
        "dora",
        "old",
        "gone",
        "nobody",
        "airflow-cli",
    }
    assert (
        by_name["ada"]["airflow_role"] == "ADMIN"
        and by_name["ada"]["privileged"] == "True"
    )
    assert by_name["old"]["dormant"] == "False"  # 200 days < --dormant-days 365
    assert (
        by_name["airflow-cli"]["kind"] == "service account"
        and by_name["airflow-cli"]["scopes"] == "admin"
    )


def test_access_review_html_is_self_contained(
    deployment: Deployment, tmp_path: Path
) -> None:
    """The HTML page references nothing outside itself (no script, stylesheet or image URL)."""
    out = tmp_path / "review.html"
    deployment.ok("webauthn", "report", "access-review", "--out", str(out))
    html = out.read_text()
    assert "<svg" in html and "@media print" in html
    for external in ("<script", "<link", "src=", "url(", "http://", "https://"):
        assert external not in html.split("</style>", 1)[1].replace(
            "http://www.w3.org/2000/svg", ""
        )


def test_access_review_refuses_bad_input_with_one_line(deployment: Deployment) -> None:
    """A wrong --since is refused with one line naming it, before anything is asked of the service."""
    result = deployment.run(
        "webauthn", "report", "access-review", "--since", "last tuesday"
    )
    assert result.returncode == 1
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith("error: --since 'last tuesday' is not a date")
    )
