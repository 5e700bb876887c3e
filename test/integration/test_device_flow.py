"""Device authorization (RFC 8628) on the real Airflow and the real auth service: a command line asks
``/auth/device/code``, the person approves on ``/auth/device`` with a user-verified passkey confirmation
(the Python soft authenticator), and ``/auth/device/token`` answers an Airflow token the REST API
accepts. ``airflow webauthn login`` leaves it where the real airflowctl 0.1.5 reads it. Deny, reuse and
``users disable`` are refused.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from test_airflowctl import airflowctl, disable_and_wait_until_refused, new_person
from test_passkey_login import enroll, sign_in

from support.stack import airflow_bin

if TYPE_CHECKING:
    from pathlib import Path

    from support.soft_authenticator import SoftAuthenticator
    from support.stack import Stack

GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def ask(stack: Stack) -> dict[str, Any]:
    with httpx.Client(base_url=stack.origin, timeout=30) as client:
        started = client.post("/auth/device/code", data={"client_id": "airflow-cli"})
    assert started.status_code == 200, started.text
    assert started.headers["cache-control"] == "no-store"
    return started.json()


def poll(stack: Stack, device_code: str) -> httpx.Response:
    with httpx.Client(base_url=stack.origin, timeout=30) as client:
        return client.post(
            "/auth/device/token",
            data={"grant_type": GRANT, "device_code": device_code, "client_id": "airflow-cli"},
        )


def person_browser(stack: Stack, username: str, authenticator: SoftAuthenticator) -> httpx.Client:
    """A signed-in person who has just confirmed with their passkey (what the page's lookup asks for)."""
    browser = httpx.Client(base_url=stack.origin, timeout=30)
    enroll(browser, stack, username, authenticator)
    signed_in = sign_in(browser, stack, authenticator, username=username)
    assert signed_in.status_code == 200, signed_in.text
    confirm(browser, stack, authenticator)
    return browser


def confirm(browser: httpx.Client, stack: Stack, authenticator: SoftAuthenticator) -> None:
    options = browser.post("/auth/step-up/options", json={})
    assert options.status_code == 200, options.text
    assertion = authenticator.get(options.json(), origin=stack.origin)
    assert browser.post("/auth/step-up/verify", json={"response": assertion}).status_code == 200


@pytest.fixture(scope="module")
def person(stack: Stack) -> tuple[str, httpx.Client]:
    username, authenticator = new_person(stack)
    browser = person_browser(stack, username, authenticator)
    return username, browser


def test_a_command_line_is_approved_with_a_passkey_and_its_token_lists_dags(
    stack: Stack, person: tuple[str, httpx.Client]
) -> None:
    """Pending until the person approves; then one Airflow token the REST API accepts; once only."""
    _, browser = person
    started = ask(stack)
    assert started["verification_uri"] == f"{stack.origin}/auth/device"
    assert re.fullmatch(r"[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}", started["user_code"])
    assert poll(stack, started["device_code"]).json()["error"] == "authorization_pending"
    code = started["user_code"]
    view = browser.get(f"/auth/device/requests/{code.lower().replace('-', '')}")
    assert view.status_code == 200, view.text
    assert (view.json()["state"], view.json()["clientId"]) == ("pending", "airflow-cli")
    assert view.json()["access"] == "Your own Airflow role: USER"
    approved = browser.post(f"/auth/device/requests/{code}/approve", json={})
    assert approved.status_code == 200, approved.text
    time.sleep(started.get("interval", 5))
    token = poll(stack, started["device_code"])
    assert token.status_code == 200, token.text
    assert token.json()["token_type"] == "Bearer"
    with httpx.Client(base_url=stack.origin, timeout=30) as client:
        dags = client.get("/api/v2/dags", headers={"Authorization": f"Bearer {token.json()['access_token']}"})
    assert dags.status_code == 200, dags.text
    assert "it_sales_report" in {dag["dag_id"] for dag in dags.json()["dags"]}
    time.sleep(started.get("interval", 5))
    assert poll(stack, started["device_code"]).json()["error"] == "invalid_grant"
    again = browser.post(f"/auth/device/requests/{code}/approve", json={})
    assert again.status_code == 409, again.text


def test_a_denied_request_gets_access_denied(stack: Stack, person: tuple[str, httpx.Client]) -> None:
    _, browser = person
    started = ask(stack)
    denied = browser.post(f"/auth/device/requests/{started['user_code']}/deny", json={})
    assert denied.status_code == 200, denied.text
    refused = poll(stack, started["device_code"])
    assert refused.status_code == 400
    assert refused.json()["error"] == "access_denied"


def test_an_unknown_code_is_404(stack: Stack, person: tuple[str, httpx.Client]) -> None:
    _, browser = person
    assert browser.get("/auth/device/requests/BBBB-BBBB").status_code == 404


# The same login under Airflow's CLI and under the console script that does not import Airflow.
ENTRY_POINTS = pytest.mark.parametrize("entry", ["airflow webauthn", "airflow-webauthn"])


def login_process(stack: Stack, home: Path, entry: str) -> subprocess.Popen[str]:
    """``{entry} login`` as a person runs it: nothing but Airflow's URL; the token goes where airflowctl
    reads it (AIRFLOW_CLI_DEBUG_MODE: airflowctl's own file store, no keyring here)."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),
        "AIRFLOW_HOME": str(home),
        "AIRFLOW_CLI_DEBUG_MODE": "true",
        "AIRFLOW__CORE__AUTH_MANAGER": "airflow_webauthn.auth_manager.WebAuthnAuthManager",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "ERROR",
        "AIRFLOW__WEBAUTHN_AUTH_MANAGER__SERVICE_URL": stack.service.url,
    }
    command = (
        [str(airflow_bin()), "webauthn"]
        if entry == "airflow webauthn"
        else [str(airflow_bin().parent / entry)]
    )
    argv = [*command, "login", "--api-url", stack.origin]
    return subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # noqa: S603


def printed_code(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    for _ in range(40):
        line = process.stdout.readline()
        found = re.search(r"code: ([A-Z]{4}-[A-Z]{4})", line)
        if found:
            return found.group(1)
    raise AssertionError("airflow webauthn login printed no code")


@ENTRY_POINTS
def test_airflow_webauthn_login_then_airflowctl_lists_dags_until_the_person_is_disabled(
    stack: Stack, tmp_path: Path, entry: str
) -> None:
    """The ready client: approve meanwhile, exit 0, then the real airflowctl works with no flag; after
    ``users disable`` its next calls fail within recheck + grace."""
    username, authenticator = new_person(stack)
    browser = person_browser(stack, username, authenticator)
    process = login_process(stack, tmp_path, entry)
    try:
        code = printed_code(process)
        view = browser.get(f"/auth/device/requests/{code}")
        assert view.json()["userAgent"] == "airflow webauthn login", view.text
        approved = browser.post(f"/auth/device/requests/{code}/approve", json={})
        assert approved.status_code == 200, approved.text
        out, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, out + err
    assert "Signed in" in out
    listed = airflowctl(tmp_path, "dags", "list", "--output", "json")
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert "it_sales_report" in {dag["dag_id"] for dag in json.loads(listed.stdout)}
    disable_and_wait_until_refused(stack, username, tmp_path)


@ENTRY_POINTS
def test_airflow_webauthn_login_exits_1_when_denied(
    stack: Stack, person: tuple[str, httpx.Client], tmp_path: Path, entry: str
) -> None:
    _, browser = person
    process = login_process(stack, tmp_path, entry)
    try:
        code = printed_code(process)
        assert browser.post(f"/auth/device/requests/{code}/deny", json={}).status_code == 200
        out, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 1, out + err
    assert "denied" in err
    assert not list(tmp_path.glob("debug_creds_*"))
