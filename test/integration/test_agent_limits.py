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
import pytest
from test_agents import claims_of, trigger
from test_airflowctl import SLACK_SECONDS
from test_device_flow import GRANT, confirm, person_browser

from support.soft_authenticator import SoftAuthenticator
from support.stack import (
    RECHECK_INTERVAL_SECONDS,
    REPO_ROOT,
    UNVERIFIED_GRACE_SECONDS,
    client_credentials_token,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from support.stack import Stack

EXAMPLE_AGENT = REPO_ROOT / "examples/agent/agent.py"
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"  # noqa: S105 (a grant type URN)
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"  # noqa: S105 (a token type URN)
FINANCE = "dag:trigger:id=finance_* dag:read:id=finance_*"
FINANCE_CANONICAL = "dag:read:id=finance_* dag:trigger:id=finance_*"  # the service orders items by action
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


class Admin:
    """Each test's people and agents, made on the service's admin API by a service account with the ``admin``
    scope: a few milliseconds each, where the admin CLI takes 2-4 s a call (a Node start each)."""

    def __init__(self, stack: Stack, client: httpx.Client) -> None:
        self.stack = stack
        self.client = client

    def agent(self, prefix: str = "agent") -> dict[str, Any]:
        """An agent with its own client credentials and no groups (no access of its own)."""
        created = self.client.post("/v1/admin/service-accounts", json={"name": unique(prefix), "agent": True})
        assert created.status_code == 201, created.text
        account: dict[str, Any] = created.json()
        return account

    def person(self) -> tuple[str, SoftAuthenticator]:
        """An invited person in it-users (Airflow's USER role) with a user-verifying authenticator."""
        username = unique("person")
        invited = self.client.post("/v1/admin/invites", json={"username": username, "groups": ["it-users"]})
        assert invited.status_code == 201, invited.text
        self.stack.invites[username] = invited.json()
        return username, SoftAuthenticator(alg="EdDSA")

    def delegation_state(self, delegation_id: str) -> tuple[str, str | None]:
        """What the service says of a delegation: its state and, for an ended one, why."""
        view = self.client.get(f"/v1/admin/delegations/{delegation_id}")
        assert view.status_code == 200, view.text
        return view.json()["state"], view.json()["endedBecause"]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


@pytest.fixture(scope="module")
def admin(stack: Stack) -> Iterator[Admin]:
    name = unique("limits-admin")
    account = stack.service.cli(
        "service-account", "create", "--name", name, "--groups", "airflow-admins", "--scopes", "admin"
    )
    token = client_credentials_token(stack.service.url, account)
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=stack.service.url, headers=headers, timeout=30) as client:
        yield Admin(stack, client)


def approve(stack: Stack, browser: httpx.Client, user_code: str) -> None:
    """What the person does on /auth/device: look the request up, approve it (the browser just confirmed)."""
    looked_up = browser.get(f"/auth/device/requests/{user_code}")
    assert looked_up.status_code == 200, looked_up.text
    approved = browser.post(f"/auth/device/requests/{user_code}/approve", json={})
    assert approved.status_code == 200, approved.text


def delegate(stack: Stack, admin: Admin, scope: str) -> Grant:
    """A new person approves ``scope`` for a new agent: the agent's first token answer.

    The agent polls at once after the approval: RFC 8628 limits only the time BETWEEN polls, so the first
    poll needs no wait (the example agent, which cannot know when the person approves, does wait)."""
    agent = admin.agent()
    username, authenticator = admin.person()
    browser = person_browser(stack, username, authenticator)
    basic = (agent["clientId"], agent["clientSecret"])
    with httpx.Client(base_url=stack.origin, timeout=30, auth=basic) as client:
        asked = client.post("/auth/device/code", data={"scope": scope})
        assert asked.status_code == 200, asked.text
        approve(stack, browser, asked.json()["user_code"])
        polled = client.post(
            "/auth/device/token", data={"grant_type": GRANT, "device_code": asked.json()["device_code"]}
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


def refresh(stack: Stack, grant: Grant, client: dict[str, Any] | None = None) -> httpx.Response:
    """The grant's first refresh token presented by ``client`` (the agent it was issued to by default)."""
    return service_grant(
        stack, client or grant.agent, grant_type="refresh_token", refresh_token=grant.answer["refresh_token"]
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
    print(f"delegation ended ({why}): refused by Airflow {waited:.1f}s later: {answer.text}")


def events_by(stack: Stack, service_token: Any, owner: str) -> list[str]:
    """The events of finance_daily in Airflow's own event log whose owner is ``owner`` (read by an admin)."""
    logs = httpx.get(
        f"{stack.origin}/api/v2/eventLogs",
        params={"dag_id": "finance_daily", "owner": owner},
        headers={"Authorization": f"Bearer {service_token('admin')}"},
        timeout=30,
    )
    assert logs.status_code == 200, logs.text
    events = [entry["event"] for entry in logs.json()["event_logs"]]
    print(f"event log of {owner}: {events}")
    return events


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


# ---- sub-agents (RFC 8693 token exchange at the service) ----


def test_a_sub_agents_narrower_token_works_only_within_it_and_names_both_agents(
    stack: Stack, admin: Admin
) -> None:
    """The sub-agent's token says who acts (nested ``act``: the sub-agent, for the agent, for the person)
    and may only read finance_daily, though the agent it came from may trigger it."""
    grant = delegate(stack, admin, FINANCE)
    helper = admin.agent("helper")
    exchanged = exchange(stack, helper, grant.answer["access_token"], "dag:read:id=finance_daily")
    assert exchanged.status_code == 200, exchanged.text
    token = exchanged.json()["access_token"]
    claims = claims_of(token)
    assert claims["act"] == {"sub": helper["clientId"], "act": {"sub": grant.agent["clientId"]}}
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


def test_an_exchange_wider_than_the_delegation_is_refused(stack: Stack, admin: Admin) -> None:
    """Never wider: another action, another DAG, or a broader glob is ``invalid_scope``; nothing is issued."""
    grant = delegate(stack, admin, "dag:read:id=finance_*")
    helper = admin.agent("helper")
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


def test_a_third_level_of_agents_is_refused(stack: Stack, admin: Admin) -> None:
    """Depth 2 at most: a sub-agent's token cannot be exchanged again, even for the same scope."""
    grant = delegate(stack, admin, FINANCE)
    helper, third = admin.agent("helper"), admin.agent("third")
    second = exchange(stack, helper, grant.answer["access_token"], "dag:read:id=finance_daily")
    assert second.status_code == 200, second.text
    refused = exchange(stack, third, second.json()["access_token"], "dag:read:id=finance_daily")
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"] == "invalid_grant", refused.text


# ---- what ends a delegation on Airflow, within recheck + grace ----


def test_an_expired_grant_ends_it(stack: Stack, admin: Admin) -> None:
    """The delegation's end passes: Airflow refuses its token, and the agent cannot refresh it.

    The service has no clock to move from outside its process (its clock is injectable only in-process), so
    the test moves the delegation's ``expires_at`` (epoch milliseconds) into the past in the stack's
    database, as if its 30 days had passed."""
    grant = delegate(stack, admin, FINANCE)
    assert (
        httpx.get(f"{stack.origin}/api/v2/dags/finance_daily", headers=grant.headers, timeout=30).status_code
        == 200
    )
    past = int(time.time() * 1000) - 1000
    with sqlite3.connect(stack.service.database or stack.workdir / "auth.sqlite") as db:
        moved = db.execute("UPDATE delegations SET expires_at = ? WHERE id = ?", (past, grant.delegation_id))
        assert moved.rowcount == 1
    assert_ended_on_airflow(stack, grant, time.monotonic(), "expired")
    assert admin.delegation_state(grant.delegation_id) == ("expired", None)
    refreshed = refresh(stack, grant)
    assert refreshed.status_code == 400, refreshed.text
    assert refreshed.json()["error"] == "invalid_grant"


def test_disabling_the_agent_ends_it(stack: Stack, admin: Admin) -> None:
    """``service-account disable`` on the agent: its delegated token is refused on Airflow, and refreshing
    is refused (the client itself no longer authenticates)."""
    grant = delegate(stack, admin, FINANCE)
    assert trigger(stack, grant.headers, "finance_daily").status_code == 200
    stack.service.cli("service-account", "disable", grant.agent["clientId"])
    assert_ended_on_airflow(stack, grant, time.monotonic(), "agent disabled")
    assert admin.delegation_state(grant.delegation_id) == ("ended", "agent_disabled")
    refreshed = refresh(stack, grant)
    assert refreshed.status_code == 401, refreshed.text
    assert refreshed.json()["error"] == "invalid_client"


def test_disabling_the_person_ends_it(stack: Stack, admin: Admin) -> None:
    """``users disable`` on the person who approved: the agent acting for them is refused, and its refresh
    token no longer gives tokens."""
    grant = delegate(stack, admin, FINANCE)
    assert trigger(stack, grant.headers, "finance_daily").status_code == 200
    stack.service.cli("users", "disable", grant.username)
    assert_ended_on_airflow(stack, grant, time.monotonic(), "the account is disabled")
    assert admin.delegation_state(grant.delegation_id) == ("ended", "person_disabled")
    refreshed = refresh(stack, grant)
    assert refreshed.status_code == 400, refreshed.text
    assert refreshed.json()["error"] == "invalid_grant"


# ---- clearing task instances, refresh bound to the agent ----


def clear(stack: Stack, headers: dict[str, str], run_id: str) -> httpx.Response:
    body = {"dry_run": False, "only_failed": False, "dag_run_id": run_id, "task_ids": ["work"]}
    return httpx.post(
        f"{stack.origin}/api/v2/dags/finance_daily/clearTaskInstances", json=body, headers=headers, timeout=30
    )


def test_clearing_a_task_instance_needs_a_dag_clear_grant(
    stack: Stack, admin: Admin, service_token: Any
) -> None:
    """With ``dag:clear`` the agent clears finance_daily's task (the event log names both); with only
    ``trigger`` it may start the run but not clear its tasks (403)."""
    with_clear = delegate(stack, admin, "dag:trigger:id=finance_* dag:clear:id=finance_*")
    run = trigger(stack, with_clear.headers, "finance_daily")
    assert run.status_code == 200, run.text
    cleared = clear(stack, with_clear.headers, run.json()["dag_run_id"])
    assert cleared.status_code == 200, cleared.text
    assert [ti["task_id"] for ti in cleared.json()["task_instances"]] == ["work"]
    owner = f"{with_clear.agent['name']} (for {with_clear.username})"
    assert "post_clear_task_instances" in events_by(stack, service_token, owner)

    without = delegate(stack, admin, FINANCE)
    run = trigger(stack, without.headers, "finance_daily")
    assert run.status_code == 200, run.text
    assert clear(stack, without.headers, run.json()["dag_run_id"]).status_code == 403


def test_a_refresh_token_is_refused_with_another_clients_credentials(stack: Stack, admin: Admin) -> None:
    """A stolen refresh token alone is useless: another agent's valid credentials get ``invalid_grant`` and
    do not use it up; the agent it was issued to still refreshes with it once."""
    grant = delegate(stack, admin, FINANCE)
    thief = admin.agent("thief")
    stolen = refresh(stack, grant, thief)
    assert stolen.status_code == 400, stolen.text
    assert stolen.json()["error"] == "invalid_grant"
    assert "access_token" not in stolen.json()
    own = refresh(stack, grant)
    assert own.status_code == 200, own.text
    assert claims_of(own.json()["access_token"])["act"] == {"sub": grant.agent["clientId"]}
