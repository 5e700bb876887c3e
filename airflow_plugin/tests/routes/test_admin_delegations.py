"""The administration page's delegations: an admin lists agents acting for people (per person, per agent)
and revokes one, with their own step-up token; only the page's fields come back."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from support import JSON_HEADERS, PERSON_TOKEN, FakeAuthService, service_delegation

if TYPE_CHECKING:
    from collections.abc import Callable

    from fastapi.testclient import TestClient

DELEGATION = service_delegation(lastRefreshedAt="2026-01-02T00:00:00.000Z")


@pytest.fixture
def admin(sign_in: Callable[..., Any], step_up: Callable[..., None]) -> Any:
    user = sign_in(role="ADMIN", groups=("airflow-admins",))
    step_up(user)
    return user


def test_an_admin_lists_delegations_filtered_per_person_or_agent_with_the_page_fields_only(
    mounted: TestClient, admin: Any, fake_service: FakeAuthService
) -> None:
    fake_service.reply("GET", "/v1/admin/delegations", 200, [DELEGATION, "junk"])
    response = mounted.get("/auth/api/admin/delegations", params={"user": "alice", "agent": ""})
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    [row] = response.json()
    assert (row["username"], row["agentName"], row["scope"]) == (
        "alice",
        "copilot",
        "dag:trigger:id=finance_*",
    )
    assert "userId" not in row
    assert "revokedReason" not in row
    sent = fake_service.last("/v1/admin/delegations")
    assert dict(sent.url.params) == {"user": "alice"}
    assert sent.headers["authorization"] == f"Bearer {PERSON_TOKEN}"
    mounted.get("/auth/api/admin/delegations", params={"agent": "copilot"})
    assert dict(fake_service.last("/v1/admin/delegations").url.params) == {"agent": "copilot"}
    too_long = mounted.get("/auth/api/admin/delegations", params={"user": "x" * 129})
    assert too_long.status_code in {400, 422}
    assert fake_service.admin_tokens_issued == 0


def test_an_admin_revokes_a_delegation_as_themselves(
    mounted: TestClient, admin: Any, fake_service: FakeAuthService
) -> None:
    fake_service.reply("DELETE", "/v1/admin/delegations/d-1", 200, {**DELEGATION, "state": "revoked"})
    response = mounted.request("DELETE", "/auth/api/admin/delegations/d-1", json={}, headers=JSON_HEADERS)
    assert response.status_code == 200, response.text
    assert response.json()["state"] == "revoked"
    assert fake_service.last("/v1/admin/delegations/d-1").headers["authorization"] == f"Bearer {PERSON_TOKEN}"
    bad = mounted.request("DELETE", "/auth/api/admin/delegations/a;b", json={}, headers=JSON_HEADERS)
    assert bad.status_code == 400
    cross_site = mounted.request(
        "DELETE", "/auth/api/admin/delegations/d-1", json={}, headers={"Origin": "https://evil.example"}
    )
    assert cross_site.status_code in {400, 403}
    assert len(fake_service.sent_to("DELETE", "/v1/admin/delegations/d-1")) == 1


@pytest.mark.parametrize("role", ["VIEWER", "USER", "OP"])
def test_the_delegations_need_airflows_admin_role_and_a_step_up(
    mounted: TestClient,
    sign_in: Callable[..., Any],
    step_up: Callable[..., None],
    fake_service: FakeAuthService,
    role: str,
) -> None:
    sign_in(role="ADMIN")
    assert mounted.get("/auth/api/admin/delegations").json()["error"] == "step_up_required"
    user = sign_in(role=role)
    step_up(user)
    assert mounted.get("/auth/api/admin/delegations").status_code == 403
    revoke = mounted.request("DELETE", "/auth/api/admin/delegations/d-1", json={}, headers=JSON_HEADERS)
    assert revoke.status_code == 403
    assert fake_service.requests == []
