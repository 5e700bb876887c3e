"""What ends or narrows an agent's delegation (issue 20), on the real Airflow and the real auth service.

Each test makes its own person, agent and approval (the device flow on Airflow's origin, approved with the
person's passkey), so none depends on another's order. The example agent (examples/agent/agent.py) is run
here as the agent author would run it, so it cannot rot: login, dags, trigger, refresh, refusals explained.
A sub-agent's narrower share (RFC 8693 exchange at the service) works only within it; a wider share, a
third level and another client's refresh are refused; an expired grant, a disabled agent and a disabled
person each end the delegation on Airflow within recheck + grace; clearing a task needs ``dag:clear``.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import stat
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
from test_agents import claims_of
from test_airflowctl import SLACK_SECONDS, new_person
from test_device_flow import GRANT, person_browser

from support.stack import RECHECK_INTERVAL_SECONDS, REPO_ROOT, UNVERIFIED_GRACE_SECONDS

if TYPE_CHECKING:
    from pathlib import Path

    from support.soft_authenticator import SoftAuthenticator
    from support.stack import Stack

EXAMPLE_AGENT = REPO_ROOT / "examples/agent/agent.py"
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"  # noqa: S105 (a grant type URN)
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"  # noqa: S105 (a token type URN)
FINANCE = "dag:trigger:id=finance_* dag:read:id=finance_*"
ENDS_WITHIN = RECHECK_INTERVAL_SECONDS + UNVERIFIED_GRACE_SECONDS + SLACK_SECONDS


@dataclass
class Grant:
    """One approved delegation: who approved it, for which agent, and the agent's first token answer."""

    username: str
    browser: httpx.Client
    authenticator: SoftAuthenticator
    agent: dict[str, Any]
    answer: dict[str, Any]

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.answer['access_token']}"}

    @property
    def delegation_id(self) -> str:
        value: str = claims_of(self.answer["access_token"])["delegation_id"]
        return value


def new_agent(stack: Stack, prefix: str = "agent") -> dict[str, Any]:
    """An agent with its own client credentials and no groups (no access of its own)."""
    name = f"{prefix}-{uuid.uuid4().hex[:6]}"
    created: dict[str, Any] = stack.service.cli("service-account", "create", "--name", name, "--agent")
    return created | {"name": name}


def approve(stack: Stack, browser: httpx.Client, user_code: str) -> None:
    """What the person does on /auth/device: look the request up, approve it (the browser just confirmed)."""
    looked_up = browser.get(f"/auth/device/requests/{user_code}")
    assert looked_up.status_code == 200, looked_up.text
    approved = browser.post(f"/auth/device/requests/{user_code}/approve", json={})
    assert approved.status_code == 200, approved.text


def delegate(stack: Stack, scope: str, agent: dict[str, Any] | None = None) -> Grant:
    """A new person approves ``scope`` for ``agent`` (a new one by default): the agent's first token answer.

    The agent polls at once after the approval: RFC 8628 limits only the time BETWEEN polls, so the first
    poll needs no wait (the example agent, which cannot know when the person approves, does wait)."""
    agent = agent or new_agent(stack)
    username, authenticator = new_person(stack)
    browser = person_browser(stack, username, authenticator)
    basic = (agent["clientId"], agent["clientSecret"])
    with httpx.Client(base_url=stack.origin, timeout=30, auth=basic) as client:
        asked = client.post("/auth/device/code", data={"scope": scope})
        assert asked.status_code == 200, asked.text
        approve(stack, browser, asked.json()["user_code"])
        polled = client.post(
            "/auth/device/token",
            data={"grant_type": GRANT, "device_code": asked.json()["device_code"]},
        )
    assert polled.status_code == 200, polled.text
    return Grant(username, browser, authenticator, agent, polled.json())


def service_grant(stack: Stack, client: dict[str, Any], **form: str) -> httpx.Response:
    """A grant at the service's token endpoint with ``client``'s HTTP Basic authentication."""
    return httpx.post(
        f"{stack.service.url}/v1/oauth/token",
        data=form,
        auth=(client["clientId"], client["clientSecret"]),
        timeout=30,
    )


def exchange(stack: Stack, sub_agent: dict[str, Any], subject_token: str, scope: str) -> httpx.Response:
    return service_grant(
        stack,
        sub_agent,
        grant_type=TOKEN_EXCHANGE,
        subject_token=subject_token,
        subject_token_type=ACCESS_TOKEN_TYPE,
        scope=scope,
    )


def trigger(stack: Stack, headers: dict[str, str], dag_id: str) -> httpx.Response:
    return httpx.post(
        f"{stack.origin}/api/v2/dags/{dag_id}/dagRuns",
        json={"logical_date": None},
        headers=headers,
        timeout=30,
    )


def refused_within(stack: Stack, headers: dict[str, str], since: float) -> tuple[httpx.Response, float]:
    """Poll Airflow (no fixed sleep) until it stops honouring ``headers``: the refusal, and after how long."""
    with httpx.Client(base_url=stack.origin, timeout=30, headers=headers) as client:
        while True:
            answer = client.get("/api/v2/dags/finance_daily")
            waited = time.monotonic() - since
            if answer.status_code != 200 or waited > ENDS_WITHIN + 10:
                return answer, waited
            time.sleep(0.2)


def assert_ended_on_airflow(stack: Stack, grant: Grant, since: float, why: str) -> None:
    answer, waited = refused_within(stack, grant.headers, since)
    assert answer.status_code == 401, answer.text
    assert why in answer.text, answer.text
    assert waited <= ENDS_WITHIN, f"refused only {waited:.1f}s after it ended"
    print(f"delegation ended ({why}): refused by Airflow {waited:.1f}s later")


# ---- the example agent, run as its author would ----


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


def test_the_example_agent_logs_in_lists_triggers_refreshes_and_explains_refusals(
    stack: Stack, tmp_path: Path, service_token: Any
) -> None:
    """``login`` shows the person's URL and code and keeps the refresh token 0600; ``dags`` and ``trigger``
    act within the scope, the run and Airflow's event log naming both; a lapsed access token is refreshed
    (the refresh token rotates); another DAG is a 403 and a wrong secret is ``invalid_client``, each
    explained in one line."""
    agent = new_agent(stack, "example")
    env = example_env(stack, agent, tmp_path)
    username, authenticator = new_person(stack)
    browser = person_browser(stack, username, authenticator)
    argv = [sys.executable, str(EXAMPLE_AGENT), "login"]
    with subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as login:  # noqa: S603
        assert login.stdout is not None
        shown = login.stdout.readline() + login.stdout.readline()
        found = re.search(r"open (\S+)\n.*code ([A-Z]{4}-[A-Z]{4})", shown)
        assert found, shown
        assert found.group(1) == f"{stack.origin}/auth/device?user_code={found.group(2)}"
        approve(stack, browser, found.group(2))
        out, err = login.communicate(timeout=60)
    assert login.returncode == 0, err
    assert "Approved for" in out
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
    logs = httpx.get(
        f"{stack.origin}/api/v2/eventLogs",
        params={"dag_id": "finance_daily", "owner": expected},
        headers={"Authorization": f"Bearer {service_token('admin')}"},
        timeout=30,
    )
    assert logs.status_code == 200, logs.text
    assert logs.json()["total_entries"] >= 1, logs.text

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


# ---- sub-agents (RFC 8693 token exchange at the service) ----


def test_a_sub_agents_narrower_token_works_only_within_it_and_names_both_agents(
    stack: Stack,
) -> None:
    """The sub-agent's token says who acts (nested ``act``: the sub-agent, for the agent, for the person)
    and may only read finance_daily, though the agent it came from may trigger it."""
    grant = delegate(stack, FINANCE)
    helper = new_agent(stack, "helper")
    exchanged = exchange(stack, helper, grant.answer["access_token"], "dag:read:id=finance_daily")
    assert exchanged.status_code == 200, exchanged.text
    token = exchanged.json()["access_token"]
    claims = claims_of(token)
    assert claims["act"] == {
        "sub": helper["clientId"],
        "act": {"sub": grant.agent["clientId"]},
    }
    assert claims["preferred_username"] == grant.username
    assert claims["scope"] == "dag:read:id=finance_daily"
    assert claims["delegation_id"] != grant.delegation_id
    sub = {"Authorization": f"Bearer {token}"}
    read = httpx.get(f"{stack.origin}/api/v2/dags/finance_daily", headers=sub, timeout=30)
    assert read.status_code == 200, read.text
    assert trigger(stack, sub, "finance_daily").status_code == 403
    assert (
        httpx.get(f"{stack.origin}/api/v2/dags/marketing_daily", headers=sub, timeout=30).status_code == 403
    )
    parent = trigger(stack, grant.headers, "finance_daily")
    assert parent.status_code == 200, parent.text
    assert parent.json()["triggering_user_name"] == f"{grant.agent['name']} (for {grant.username})"


def test_an_exchange_wider_than_the_delegation_is_refused(stack: Stack) -> None:
    """Never wider: another action, another DAG, or a broader glob is ``invalid_scope``; nothing is issued."""
    grant = delegate(stack, "dag:read:id=finance_*")
    helper = new_agent(stack, "helper")
    for wider in (
        "dag:trigger:id=finance_daily",
        "dag:read:id=marketing_daily",
        "dag:read:id=*",
        "dag:read:tag=agents-finance",
    ):
        refused = exchange(stack, helper, grant.answer["access_token"], wider)
        assert refused.status_code == 400, f"{wider}: {refused.text}"
        assert refused.json()["error"] == "invalid_scope", f"{wider}: {refused.text}"
        assert "access_token" not in refused.json()


def test_a_third_level_of_agents_is_refused(stack: Stack) -> None:
    """Depth 2 at most: a sub-agent's token cannot be exchanged again, even for the same scope."""
    grant = delegate(stack, FINANCE)
    helper, third = new_agent(stack, "helper"), new_agent(stack, "third")
    second = exchange(stack, helper, grant.answer["access_token"], "dag:read:id=finance_daily")
    assert second.status_code == 200, second.text
    refused = exchange(stack, third, second.json()["access_token"], "dag:read:id=finance_daily")
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"] == "invalid_grant", refused.text


# ---- what ends a delegation on Airflow, within recheck + grace ----


def test_an_expired_grant_ends_it(stack: Stack) -> None:
    """The delegation's end passes: Airflow refuses its token, and the agent cannot refresh it.

    The service has no clock to move from outside its process (its clock is injectable only in-process), so
    the test moves the delegation's ``expires_at`` (epoch milliseconds) into the past in the stack's
    database, as if its 30 days had passed."""
    grant = delegate(stack, FINANCE)
    assert (
        httpx.get(
            f"{stack.origin}/api/v2/dags/finance_daily",
            headers=grant.headers,
            timeout=30,
        ).status_code
        == 200
    )
    past = int(time.time() * 1000) - 1000
    with sqlite3.connect(stack.service.database or stack.workdir / "auth.sqlite") as db:
        moved = db.execute(
            "UPDATE delegations SET expires_at = ? WHERE id = ?",
            (past, grant.delegation_id),
        )
        assert moved.rowcount == 1
    assert_ended_on_airflow(stack, grant, time.monotonic(), "expired")
    refreshed = service_grant(
        stack,
        grant.agent,
        grant_type="refresh_token",
        refresh_token=grant.answer["refresh_token"],
    )
    assert refreshed.status_code == 400, refreshed.text
    assert refreshed.json()["error"] == "invalid_grant"


def test_disabling_the_agent_ends_it(stack: Stack) -> None:
    """``service-account disable`` on the agent: its delegated token is refused on Airflow, and refreshing
    is refused (the client itself no longer authenticates)."""
    grant = delegate(stack, FINANCE)
    assert trigger(stack, grant.headers, "finance_daily").status_code == 200
    stack.service.cli("service-account", "disable", grant.agent["clientId"])
    assert_ended_on_airflow(stack, grant, time.monotonic(), "disabled")
    refreshed = service_grant(
        stack,
        grant.agent,
        grant_type="refresh_token",
        refresh_token=grant.answer["refresh_token"],
    )
    assert refreshed.status_code in {400, 401}, refreshed.text
    assert refreshed.json()["error"] in {"invalid_client", "invalid_grant"}


def test_disabling_the_person_ends_it(stack: Stack) -> None:
    """``users disable`` on the person who approved: the agent acting for them is refused, and its refresh
    token no longer gives tokens."""
    grant = delegate(stack, FINANCE)
    assert trigger(stack, grant.headers, "finance_daily").status_code == 200
    stack.service.cli("users", "disable", grant.username)
    assert_ended_on_airflow(stack, grant, time.monotonic(), "disabled")
    refreshed = service_grant(
        stack,
        grant.agent,
        grant_type="refresh_token",
        refresh_token=grant.answer["refresh_token"],
    )
    assert refreshed.status_code == 400, refreshed.text
    assert refreshed.json()["error"] == "invalid_grant"


# ---- clearing task instances, refresh bound to the agent ----


def clear(stack: Stack, headers: dict[str, str], run_id: str) -> httpx.Response:
    body = {
        "dry_run": False,
        "only_failed": False,
        "dag_run_id": run_id,
        "task_ids": ["work"],
    }
    return httpx.post(
        f"{stack.origin}/api/v2/dags/finance_daily/clearTaskInstances",
        json=body,
        headers=headers,
        timeout=30,
    )


def test_clearing_a_task_instance_needs_a_dag_clear_grant(stack: Stack, service_token: Any) -> None:
    """With ``dag:clear`` the agent clears finance_daily's task (the event log names both); with only
    ``trigger`` it may start the run but not clear its tasks (403), though the person could."""
    with_clear = delegate(stack, "dag:trigger:id=finance_* dag:clear:id=finance_*")
    run = trigger(stack, with_clear.headers, "finance_daily")
    assert run.status_code == 200, run.text
    cleared = clear(stack, with_clear.headers, run.json()["dag_run_id"])
    assert cleared.status_code == 200, cleared.text
    assert [ti["task_id"] for ti in cleared.json()["task_instances"]] == ["work"]
    owner = f"{with_clear.agent['name']} (for {with_clear.username})"
    logs = httpx.get(
        f"{stack.origin}/api/v2/eventLogs",
        params={"dag_id": "finance_daily", "owner": owner},
        headers={"Authorization": f"Bearer {service_token('admin')}"},
        timeout=30,
    )
    assert logs.status_code == 200, logs.text
    assert any("clear" in entry["event"] for entry in logs.json()["event_logs"]), logs.text

    without = delegate(stack, FINANCE)
    run = trigger(stack, without.headers, "finance_daily")
    assert run.status_code == 200, run.text
    assert clear(stack, without.headers, run.json()["dag_run_id"]).status_code == 403


def test_a_refresh_token_is_refused_with_another_clients_credentials(
    stack: Stack,
) -> None:
    """A stolen refresh token alone is useless: another agent's valid credentials get ``invalid_grant`` and
    do not use it up; the agent it was issued to still refreshes with it once."""
    grant = delegate(stack, FINANCE)
    thief = new_agent(stack, "thief")
    refresh_token = grant.answer["refresh_token"]
    stolen = service_grant(stack, thief, grant_type="refresh_token", refresh_token=refresh_token)
    assert stolen.status_code == 400, stolen.text
    assert stolen.json()["error"] == "invalid_grant"
    assert "access_token" not in stolen.json()
    own = service_grant(stack, grant.agent, grant_type="refresh_token", refresh_token=refresh_token)
    assert own.status_code == 200, own.text
    assert claims_of(own.json()["access_token"])["act"] == {"sub": grant.agent["clientId"]}
