"""Airflow's own remote CLI, ``airflowctl`` (apache-airflow-ctl 0.1.5, unmodified), signs in on the
real Airflow through ``POST /auth/token/cli``: a person with a one-time code from their Passkeys page
(created after a user-verified passkey confirmation), a service account with its secret. The token
it keeps is re-checked like a browser session: disabling the person ends it within recheck + grace.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
from test_passkey_login import enroll, sign_in

from support.soft_authenticator import SoftAuthenticator
from support.stack import RECHECK_INTERVAL_SECONDS, UNVERIFIED_GRACE_SECONDS
from support.waiting import wait_until, wait_until_rechecked

if TYPE_CHECKING:
    from support.stack import Stack

# Airflow's and airflowctl's own latency on a loaded 2-core runner, on top of recheck + grace.
SLACK_SECONDS = 5
AIRFLOWCTL = Path(sys.executable).parent / "airflowctl"


def airflowctl(home: Path, *args: str, password: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real airflowctl with its own AIRFLOW_HOME; the token goes to a file there (no keyring on a
    headless runner: AIRFLOW_CLI_DEBUG_MODE is airflowctl's own switch for that)."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),
        "AIRFLOW_HOME": str(home),
        "AIRFLOW_CLI_DEBUG_MODE": "true",
    }
    argv = [str(AIRFLOWCTL), *args] + (["--password", password] if password is not None else [])
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120, check=False)  # noqa: S603


def kept_token(home: Path) -> str:
    """The token airflowctl keeps after ``auth login`` (AIRFLOW_CLI_DEBUG_MODE: a file in its home)."""
    token: str = json.loads((home / "debug_creds_production.json").read_text())["api_token_production"]
    return token


def login(home: Path, stack: Stack, username: str, password: str) -> subprocess.CompletedProcess[str]:
    """``airflowctl auth login --api-url URL --username U`` with the password (code or secret) given."""
    args = ("auth", "login", "--api-url", stack.origin, "--username", username)
    return airflowctl(home, *args, password=password)


def new_person(stack: Stack, groups: str = "it-users") -> tuple[str, SoftAuthenticator]:
    username = f"cli-{uuid.uuid4().hex[:8]}"
    invite = ("invite", "create", "--username", username, "--groups", groups)
    stack.invites[username] = stack.service.cli(*invite)
    authenticator = SoftAuthenticator(alg="EdDSA")  # verifies the user (PIN/biometrics), as step-up needs
    return username, authenticator


def one_time_code(stack: Stack, username: str, authenticator: SoftAuthenticator) -> dict[str, str]:
    """What the Passkeys page does: sign in, confirm with the passkey, create a code."""
    with httpx.Client(base_url=stack.origin, timeout=30) as browser:
        enroll(browser, stack, username, authenticator)
        signed_in = sign_in(browser, stack, authenticator, username=username)
        assert signed_in.status_code == 200, signed_in.text
        options = browser.post("/auth/step-up/options", json={})
        assert options.status_code == 200, options.text
        assertion = authenticator.get(options.json(), origin=stack.origin)
        assert browser.post("/auth/step-up/verify", json={"response": assertion}).status_code == 200
        created = browser.post("/auth/api/me/cli-codes", json={})
        assert created.status_code == 201, created.text
        return created.json()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path


def test_a_person_signs_airflowctl_in_with_a_one_time_code_and_lists_dags(stack: Stack, home: Path) -> None:
    """The code from the Passkeys page, pasted as airflowctl's password, signs it in; ``dags list`` works
    with the token it stored; the panel shows the command to run and lists the command line."""
    username, authenticator = new_person(stack)
    created = one_time_code(stack, username, authenticator)
    assert created["command"] == f"airflowctl auth login --api-url {stack.origin} --username {username}"
    signed_in = login(home, stack, username, created["code"])
    assert signed_in.returncode == 0, signed_in.stdout + signed_in.stderr
    listed = airflowctl(home, "dags", "list", "--output", "json")
    assert listed.returncode == 0, listed.stdout + listed.stderr
    dag_ids = {dag["dag_id"] for dag in json.loads(listed.stdout)}
    assert "it_sales_report" in dag_ids, listed.stdout


def test_a_used_code_is_refused_with_a_message_airflowctl_shows(stack: Stack, home: Path) -> None:
    """Single use: the same code a second time is a 401 whose reason airflowctl prints, and no token is
    stored; a made-up code likewise."""
    username, authenticator = new_person(stack)
    code = one_time_code(stack, username, authenticator)["code"]
    first = login(home, stack, username, code)
    assert first.returncode == 0, first.stdout + first.stderr
    other_home = home / "other"
    other_home.mkdir()
    again = login(other_home, stack, username, code)
    assert again.returncode != 0
    assert "wrong, used, expired" in again.stdout + again.stderr
    assert not list(other_home.glob("debug_creds_*"))
    with httpx.Client(base_url=stack.origin, timeout=30) as client:
        guess = client.post("/auth/token/cli", json={"username": username, "password": "afcli_" + "A" * 32})
    assert guess.status_code == 401
    assert guess.headers["content-type"] == "application/json"


def test_a_service_account_signs_airflowctl_in_with_its_secret(stack: Stack, home: Path) -> None:
    """Client id as the username, secret as the password (client credentials behind it)."""
    account = stack.accounts["viewer"]
    signed_in = login(home, stack, account["clientId"], account["clientSecret"])
    assert signed_in.returncode == 0, signed_in.stdout + signed_in.stderr
    listed = airflowctl(home, "dags", "list", "--output", "json")
    assert listed.returncode == 0, listed.stdout + listed.stderr
    wrong = login(home, stack, account["clientId"], "not-" + account["clientSecret"])
    assert wrong.returncode != 0
    assert "do not sign in" in wrong.stdout + wrong.stderr


def test_disabling_the_person_ends_airflowctl_within_recheck_and_grace(stack: Stack, home: Path) -> None:
    """``users disable`` on the service: airflowctl's next calls fail within recheck + grace, although
    the token it keeps lasts jwt_cli_expiration_time."""
    username, authenticator = new_person(stack)
    code = one_time_code(stack, username, authenticator)["code"]
    assert login(home, stack, username, code).returncode == 0
    # The kept token re-checked with the service since the sign-in (which confirmed it), and still good.
    token = kept_token(home)
    with httpx.Client(base_url=stack.origin, timeout=30) as client:

        def dags() -> int:
            return client.get("/api/v2/dags", headers={"Authorization": f"Bearer {token}"}).status_code

        assert wait_until_rechecked(stack, token, dags, within=RECHECK_INTERVAL_SECONDS + 5) == 200
    assert airflowctl(home, "dags", "list").returncode == 0
    waited = disable_and_wait_until_refused(stack, username, home)
    print(f"airflowctl's token refused {waited:.1f}s after users disable")


def disable_and_wait_until_refused(stack: Stack, username: str, home: Path) -> float:
    """``users disable`` on the service, then the seconds until the token airflowctl keeps in ``home`` is
    refused (asserted within recheck + grace); airflowctl itself fails from then on.

    The token is polled on the REST API (as `dags list` sends it): timed this way, the wait is Airflow's,
    not also the seconds one airflowctl process takes to start on a loaded runner.
    """
    stack.service.cli("users", "disable", username)
    allowed = RECHECK_INTERVAL_SECONDS + UNVERIFIED_GRACE_SECONDS + SLACK_SECONDS
    kept = {"Authorization": f"Bearer {kept_token(home)}"}
    with httpx.Client(base_url=stack.origin, timeout=30) as client:
        status, waited = wait_until(
            lambda: client.get("/api/v2/dags", headers=kept).status_code,
            lambda status: status != 200,
            within=allowed + 10,
        )
    assert status in {401, 403}, f"airflowctl's token still answers {status} {waited:.1f}s after the disable"
    assert waited <= allowed, f"airflowctl's token was refused only {waited:.1f}s after the disable"
    assert airflowctl(home, "dags", "list").returncode != 0
    return waited
