"""Agents act for a person (issue 20) on the real Airflow and the real auth service.

An agent (``service-account create --agent``) asks Airflow's ``/auth/device/code`` with HTTP Basic and a
``dag:`` scope; the person approves on ``/auth/device`` with a user-verified passkey (the Python soft
authenticator); the agent polls ``/auth/device/token`` and gets the service's delegated token, which
Airflow's REST API honours at the intersection of the person's current role and the scope: it triggers
finance_daily (the run names both), is refused on marketing_daily and on connections, and is refused
within recheck + grace once the delegation is revoked.
"""

from __future__ import annotations

import base64
import json
import time
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from test_airflowctl import SLACK_SECONDS, new_person
from test_device_flow import GRANT, confirm, person_browser

from support.stack import (
    RECHECK_INTERVAL_SECONDS,
    UNVERIFIED_GRACE_SECONDS,
)

if TYPE_CHECKING:
    from support.stack import Stack

SCOPE = "dag:trigger:id=finance_* dag:read:id=finance_*"


def claims_of(token: str) -> dict[str, Any]:
    """The payload of a JWT, unverified (Airflow verified it; the test only reads what it carries)."""
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


@pytest.fixture(scope="module")
def agent(stack: Stack) -> dict[str, Any]:
    created: dict[str, Any] = stack.service.cli("service-account", "create", "--name", "copilot", "--agent")
    return created


@pytest.fixture(scope="module")
def approved(stack: Stack, agent: dict[str, Any]) -> dict[str, Any]:
    """The agent asks, the person approves with a passkey, the agent polls: the token answer, and who."""
    username, authenticator = new_person(stack)
    browser = person_browser(stack, username, authenticator)
    basic = (agent["clientId"], agent["clientSecret"])
    with httpx.Client(base_url=stack.origin, timeout=30, auth=basic) as client:
        started = client.post("/auth/device/code", data={"scope": SCOPE})
        assert started.status_code == 200, started.text
        code = started.json()["user_code"]
        view = browser.get(f"/auth/device/requests/{code}")
        assert view.status_code == 200, view.text
        approval = browser.post(f"/auth/device/requests/{code}/approve", json={})
        assert approval.status_code == 200, approval.text
        deadline = time.monotonic() + 60
        while True:
            time.sleep(started.json().get("interval", 5))
            polled = client.post(
                "/auth/device/token",
                data={
                    "grant_type": GRANT,
                    "device_code": started.json()["device_code"],
                },
            )
            if polled.status_code == 200 or time.monotonic() > deadline:
                break
            assert polled.json()["error"] in {"authorization_pending", "slow_down"}, polled.text
    assert polled.status_code == 200, polled.text
    assert polled.headers["cache-control"] == "no-store"
    return {
        "username": username,
        "answer": polled.json(),
        "browser": browser,
        "authenticator": authenticator,
    }


def bearer(approved: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {approved['answer']['access_token']}"}


def trigger(stack: Stack, headers: dict[str, str], dag_id: str) -> httpx.Response:
    with httpx.Client(base_url=stack.origin, timeout=30) as client:
        return client.post(
            f"/api/v2/dags/{dag_id}/dagRuns",
            json={"logical_date": None},
            headers=headers,
        )


def test_the_device_answer_is_the_services_delegated_token(
    approved: dict[str, Any], agent: dict[str, Any]
) -> None:
    """Not a plain person token: act names the agent, the scope is what the person approved, and the
    agent can refresh it at the service (a refresh token bound to its client authentication)."""
    answer = approved["answer"]
    assert answer["token_type"] == "Bearer"  # noqa: S105 (an OAuth token type, not a secret)
    assert answer["refresh_token"]
    assert set(answer["scope"].split()) == set(SCOPE.split())
    claims = claims_of(answer["access_token"])
    assert claims["act"] == {"sub": agent["clientId"]}
    assert claims["preferred_username"] == approved["username"]
    assert claims["delegation_id"]


def test_the_agent_triggers_within_its_scope_and_airflow_names_both(
    stack: Stack, approved: dict[str, Any], service_token: Any
) -> None:
    """The DAG run and Airflow's event log both say "copilot (for <person>)"."""
    triggered = trigger(stack, bearer(approved), "finance_daily")
    assert triggered.status_code == 200, triggered.text
    expected = f"copilot (for {approved['username']})"
    assert triggered.json()["triggering_user_name"] == expected
    with httpx.Client(base_url=stack.origin, timeout=30) as client:
        run = client.get(
            f"/api/v2/dags/finance_daily/dagRuns/{triggered.json()['dag_run_id']}",
            headers=bearer(approved),
        )
    assert run.status_code == 200, run.text  # trigger implies read of the same DAGs
    assert run.json()["triggering_user_name"] == expected
    with httpx.Client(base_url=stack.origin, timeout=30) as client:
        logs = client.get(
            "/api/v2/eventLogs",
            params={"dag_id": "finance_daily", "owner": expected},
            headers={"Authorization": f"Bearer {service_token('admin')}"},
        )
    assert logs.status_code == 200, logs.text
    assert logs.json()["total_entries"] >= 1, logs.text
    assert {entry["owner"] for entry in logs.json()["event_logs"]} == {expected}


def test_the_agent_is_refused_outside_its_scope(stack: Stack, approved: dict[str, Any]) -> None:
    """The person (USER) may read and trigger marketing_daily; their agent may not. Pausing, connections,
    variables, pools and configuration are outside every scope: 403. Lists show only the scope's DAGs."""
    headers = bearer(approved)
    assert trigger(stack, headers, "marketing_daily").status_code == 403
    with httpx.Client(base_url=stack.origin, timeout=30, headers=headers) as client:
        assert client.get("/api/v2/dags/marketing_daily").status_code == 403
        assert client.patch("/api/v2/dags/finance_daily", json={"is_paused": True}).status_code == 403
        for path in (
            "/api/v2/connections",
            "/api/v2/variables",
            "/api/v2/pools",
            "/api/v2/config",
        ):
            assert client.get(path).status_code == 403, path
        listed = client.get("/api/v2/dags")
    assert listed.status_code == 200, listed.text
    assert {dag["dag_id"] for dag in listed.json()["dags"]} == {"finance_daily"}


def test_revoking_on_the_passkeys_page_refuses_the_agent_within_recheck_and_grace(
    stack: Stack, approved: dict[str, Any]
) -> None:
    """The person lists "Agents acting for you" (after a passkey confirmation) and revokes copilot."""
    headers = bearer(approved)
    with httpx.Client(base_url=stack.origin, timeout=30, headers=headers) as client:
        assert client.get("/api/v2/dags/finance_daily").status_code == 200
    browser: httpx.Client = approved["browser"]
    confirm(browser, stack, approved["authenticator"])
    delegation_id = claims_of(approved["answer"]["access_token"])["delegation_id"]
    listed = browser.get("/auth/api/me/delegations")
    assert listed.status_code == 200, listed.text
    [row] = [row for row in listed.json()["delegations"] if row["id"] == delegation_id]
    assert (row["agentName"], row["state"]) == ("copilot", "live")
    assert set(row["scope"].split()) == set(SCOPE.split())
    revoked = browser.request("DELETE", f"/auth/api/me/delegations/{delegation_id}", json={})
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["state"] == "revoked"
    revoked_at = time.monotonic()
    allowed = RECHECK_INTERVAL_SECONDS + UNVERIFIED_GRACE_SECONDS + SLACK_SECONDS
    with httpx.Client(base_url=stack.origin, timeout=30, headers=headers) as client:
        while True:
            answer = client.get("/api/v2/dags/finance_daily")
            waited = time.monotonic() - revoked_at
            if answer.status_code != 200 or waited > allowed + 10:
                break
            time.sleep(0.2)
    assert answer.status_code == 401, answer.text
    assert "revoked" in answer.text
    assert waited <= allowed, f"refused only {waited:.1f}s after the revocation"
    assert trigger(stack, headers, "finance_daily").status_code == 401
