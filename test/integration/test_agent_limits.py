"""What ends or narrows an agent's delegation (issue 20), on the real Airflow and the real auth service.

Each test makes its own person, agent and approval (the device flow on Airflow's origin, approved with the
person's passkey), so none depends on another's order (test_example_agent.py uses the same helpers).
A sub-agent's narrower share (RFC 8693 exchange at the service) works only within it; a wider share, a
third level and another client's refresh are refused; an expired grant, a disabled agent and a disabled
person each end the delegation on Airflow within recheck + grace; clearing a task needs ``dag:clear``.
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from test_agents import claims_of, trigger
from test_airflowctl import SLACK_SECONDS
from test_device_flow import GRANT, person_browser

from support.soft_authenticator import SoftAuthenticator
from support.stack import (
    RECHECK_INTERVAL_SECONDS,
    UNVERIFIED_GRACE_SECONDS,
    client_credentials_token,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from support.stack import Stack

EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"
SUBJECT_IS_ACCESS = "urn:ietf:params:oauth:token-type:access_token"  # RFC 8693 §3
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


def admin_session(stack: Stack) -> Iterator[Admin]:
    """The body of each module's ``admin`` fixture: one admin-scoped service account (the CLI, once)."""
    name = unique("limits-admin")
    account = stack.service.cli(
        "service-account", "create", "--name", name, "--groups", "airflow-admins", "--scopes", "admin"
    )
    token = client_credentials_token(stack.service.url, account)
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=stack.service.url, headers=headers, timeout=30) as client:
        yield Admin(stack, client)


@pytest.fixture(scope="module")
def admin(stack: Stack) -> Iterator[Admin]:
    yield from admin_session(stack)


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
        grant_type=EXCHANGE_GRANT,
        subject_token=subject_token,
        subject_token_type=SUBJECT_IS_ACCESS,
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
