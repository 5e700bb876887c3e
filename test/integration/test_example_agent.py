"""The example agent (examples/agent/agent.py) run as its author would run it, against the real Airflow
and the real auth service, so it cannot rot: ``login`` (the person approves or denies with a passkey),
``dags``, ``trigger``, a refresh when the access token lapses, and each refusal explained in one line.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import time
from typing import TYPE_CHECKING, Any

import pytest
from test_agent_limits import (
    ENDS_WITHIN,
    FINANCE,
    Admin,
    admin_session,
    approve,
    events_by,
)
from test_agents import claims_of
from test_device_flow import confirm, person_browser

from support.stack import REPO_ROOT

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from support.stack import Stack

EXAMPLE_AGENT = REPO_ROOT / "examples/agent/agent.py"
FINANCE_CANONICAL = "dag:read:id=finance_* dag:trigger:id=finance_*"  # the service orders items by action


@pytest.fixture(scope="module")
def admin(stack: Stack) -> Iterator[Admin]:
    yield from admin_session(stack)


def run_example(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, str(EXAMPLE_AGENT), *args]
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60, check=False)  # noqa: S603


def example_env(stack: Stack, agent: dict[str, Any], home: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),
        "AIRFLOW_URL": stack.origin,
        "AGENT_CLIENT_ID": agent["clientId"],
        "AGENT_CLIENT_SECRET": agent["clientSecret"],
        "AGENT_SCOPE": FINANCE,
        "AGENT_STATE_FILE": str(home / "agent" / "state.json"),
    }


def example_login(
    stack: Stack, env: dict[str, str], decide: Callable[[str], None]
) -> subprocess.CompletedProcess[str]:
    """``agent.py login`` as a person would meet it: the URL and code it prints, then ``decide(user_code)``
    (approve or deny) while it polls; its outcome once it has seen the decision."""
    argv = [sys.executable, str(EXAMPLE_AGENT), "login"]
    with subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as login:  # noqa: S603
        assert login.stdout is not None
        shown = login.stdout.readline() + login.stdout.readline()
        found = re.search(r"open (\S+)\n.*code ([A-Z]{4}-[A-Z]{4})", shown)
        assert found, shown
        assert found.group(1) == f"{stack.origin}/auth/device?user_code={found.group(2)}"
        decide(found.group(2))
        out, err = login.communicate(timeout=60)
    return subprocess.CompletedProcess(argv, login.returncode, shown + out, err)


def test_the_example_agent_logs_in_lists_triggers_refreshes_and_explains_refusals(
    stack: Stack, admin: Admin, tmp_path: Path, service_token: Any
) -> None:
    """``login`` shows the person's URL and code and keeps the refresh token 0600; ``dags`` and ``trigger``
    act within the scope, the run and Airflow's event log naming both; a lapsed access token is refreshed
    (the refresh token rotates); another DAG is a 403 and a wrong secret is ``invalid_client``, each
    explained in one line."""
    agent = admin.agent("example")
    env = example_env(stack, agent, tmp_path)
    username, authenticator = admin.person()
    browser = person_browser(stack, username, authenticator)
    login = example_login(stack, env, lambda user_code: approve(stack, browser, user_code))
    assert login.returncode == 0, login.stderr
    assert f"Approved for {FINANCE_CANONICAL}" in login.stdout
    state_file = tmp_path / "agent" / "state.json"
    assert stat.S_IMODE(state_file.stat().st_mode) == 0o600
    state = json.loads(state_file.read_text())
    assert state["token_endpoint"] == f"{stack.service.url}/v1/oauth/token"  # found by discovery at `iss`

    listed = run_example(env, "dags")
    assert (listed.returncode, listed.stdout) == (0, "finance_daily\n"), listed.stderr
    triggered = run_example(env, "trigger", "finance_daily")
    assert triggered.returncode == 0, triggered.stderr
    expected = f"{agent['name']} (for {username})"
    assert triggered.stdout.strip().endswith(f"triggered by {expected}"), triggered.stdout
    assert "trigger_dag_run" in events_by(stack, service_token, expected)

    refused = run_example(env, "trigger", "marketing_daily")
    assert refused.returncode == 1
    assert "Airflow refused (403): not within what the person approved" in refused.stderr

    # The access token lapses (moved in the agent's own file): the next call refreshes first.
    state_file.write_text(json.dumps(state | {"access_expires_at": 0}))
    assert run_example(env, "dags").returncode == 0
    refreshed = json.loads(state_file.read_text())
    assert refreshed["refresh_token"] != state["refresh_token"]
    assert stat.S_IMODE(state_file.stat().st_mode) == 0o600

    state_file.write_text(json.dumps(refreshed | {"access_expires_at": 0}))
    wrong = run_example(env | {"AGENT_CLIENT_SECRET": "not-the-secret"}, "dags")
    assert wrong.returncode == 1
    assert "invalid_client: this agent's client id or secret is wrong" in wrong.stderr, wrong.stderr

    # The person revokes it: once Airflow refuses the token (recheck + grace), the agent's refresh says why.
    state_file.write_text(json.dumps(refreshed))
    confirm(browser, stack, authenticator)
    delegation_id = claims_of(refreshed["access_token"])["delegation_id"]
    revoked = browser.request("DELETE", f"/auth/api/me/delegations/{delegation_id}", json={})
    assert revoked.status_code == 200, revoked.text
    revoked_at = time.monotonic()
    while (
        after := run_example(env, "dags")
    ).returncode == 0 and time.monotonic() - revoked_at < ENDS_WITHIN + 10:
        time.sleep(0.2)
    assert after.returncode == 1, after.stdout
    assert "Airflow refused the token" in after.stderr, after.stderr
    assert "invalid_grant: the device code or refresh token is unknown" in after.stderr, after.stderr


def test_the_example_agent_explains_a_malformed_scope_and_a_denial(
    stack: Stack, admin: Admin, tmp_path: Path
) -> None:
    """A scope that is no ``dag:`` item is ``invalid_scope`` at once; a person's denial is ``access_denied``
    at the agent's next poll; neither leaves tokens behind."""
    agent = admin.agent("example")
    env = example_env(stack, agent, tmp_path)
    malformed = run_example(env, "login", "--scope", "dag:delete:id=finance_daily")
    assert malformed.returncode == 1
    assert "invalid_scope: the scope is malformed" in malformed.stderr, malformed.stderr
    username, authenticator = admin.person()
    browser = person_browser(stack, username, authenticator)

    def deny(user_code: str) -> None:
        assert browser.get(f"/auth/device/requests/{user_code}").status_code == 200
        denied = browser.post(f"/auth/device/requests/{user_code}/deny", json={})
        assert denied.status_code == 200, denied.text

    denial = example_login(stack, env, deny)
    assert denial.returncode == 1
    assert "access_denied: the person denied the request" in denial.stderr, denial.stderr
    assert not (tmp_path / "agent" / "state.json").exists()
