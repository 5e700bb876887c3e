"""The Passkeys page's "Agents acting for you" API: listed and revoked only with the person's own token
(after a passkey confirmation), and nothing beyond the shown fields reaches the page."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from support import (
    JSON_HEADERS,
    PERSON_TOKEN,
    FakeAuthService,
    assert_step_up_required,
    service_delegation,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from fastapi.testclient import TestClient

DELEGATION = service_delegation()


def test_the_list_needs_a_passkey_confirmation_and_shows_only_its_fields(
    mounted: TestClient,
    sign_in: Callable[..., Any],
    step_up: Callable[..., None],
    fake_service: FakeAuthService,
) -> None:
    user = sign_in()
    assert mounted.get("/auth/api/me/delegations").json() == {"delegations": None}
    assert fake_service.sent_to("GET", "/v1/me/delegations") == []
    step_up(user)
    fake_service.reply("GET", "/v1/me/delegations", 200, [DELEGATION, "junk"])
    listed = mounted.get("/auth/api/me/delegations")
    assert listed.status_code == 200
    assert listed.headers["cache-control"] == "no-store"
    [row] = listed.json()["delegations"]
    assert (row["agentName"], row["scope"], row["state"]) == ("copilot", "dag:trigger:id=finance_*", "live")
    assert "userId" not in row
    assert "revokedReason" not in row
    assert fake_service.last("/v1/me/delegations").headers["authorization"] == f"Bearer {PERSON_TOKEN}"


def test_revoking_needs_a_confirmation_is_made_as_the_person_and_checks_the_id(
    mounted: TestClient,
    sign_in: Callable[..., Any],
    step_up: Callable[..., None],
    fake_service: FakeAuthService,
) -> None:
    user = sign_in()
    refused = mounted.request("DELETE", "/auth/api/me/delegations/d-1", json={}, headers=JSON_HEADERS)
    assert_step_up_required(refused, fake_service)
    step_up(user)
    fake_service.reply("DELETE", "/v1/me/delegations/d-1", 200, {**DELEGATION, "state": "revoked"})
    response = mounted.request("DELETE", "/auth/api/me/delegations/d-1", json={}, headers=JSON_HEADERS)
    assert response.status_code == 200
    assert response.json()["state"] == "revoked"
    assert fake_service.last("/v1/me/delegations/d-1").headers["authorization"] == f"Bearer {PERSON_TOKEN}"
    cross_site = mounted.request(
        "DELETE", "/auth/api/me/delegations/d-1", json={}, headers={"Origin": "https://evil.example"}
    )
    assert cross_site.status_code in {400, 403}
    bad = mounted.request("DELETE", "/auth/api/me/delegations/..%2F..", json={}, headers=JSON_HEADERS)
    assert bad.status_code in {400, 404}


def test_a_refusal_of_the_service_is_relayed(
    mounted: TestClient, confirmed: Callable[..., Any], fake_service: FakeAuthService
) -> None:
    confirmed()
    fake_service.reply("DELETE", "/v1/me/delegations/d-9", 404, {"message": "no such delegation"})
    response = mounted.request("DELETE", "/auth/api/me/delegations/d-9", json={}, headers=JSON_HEADERS)
    assert response.status_code == 404


GRANT = {"agent": "copilot", "scope": "dag:trigger:id=finance_* dag:read:tag=finance", "days": 7}


def test_the_agents_to_choose_need_a_confirmation_and_carry_names_and_client_ids_only(
    mounted: TestClient,
    sign_in: Callable[..., Any],
    step_up: Callable[..., None],
    fake_service: FakeAuthService,
) -> None:
    user = sign_in()
    refused = mounted.get("/auth/api/me/delegations/agents")
    assert refused.status_code == 401
    assert refused.json()["error"] == "step_up_required"
    step_up(user)
    agents = [{"name": "copilot", "clientId": "sa_copilot", "clientSecret": "leak", "groups": ["x"]}, "junk"]
    fake_service.reply("GET", "/v1/me/agents", 200, agents)
    listed = mounted.get("/auth/api/me/delegations/agents")
    assert listed.status_code == 200
    assert listed.json() == [{"name": "copilot", "clientId": "sa_copilot"}]
    assert listed.headers["cache-control"] == "no-store"
    assert fake_service.last("/v1/me/agents").headers["authorization"] == f"Bearer {PERSON_TOKEN}"


def test_a_grant_is_made_as_the_person_and_shows_the_agents_refresh_token_once(
    mounted: TestClient,
    confirmed: Callable[..., Any],
    fake_service: FakeAuthService,
) -> None:
    """The body is forwarded as validated; the answer keeps the page's fields and the first refresh token."""
    confirmed(role="USER")
    fake_service.reply(
        "POST",
        "/v1/me/delegations",
        201,
        {"delegation": {**DELEGATION, "revokedReason": "x"}, "refresh_token": "afdr_first"},
    )
    response = mounted.post("/auth/api/me/delegations", json=GRANT, headers=JSON_HEADERS)
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["refreshToken"] == "afdr_first"
    assert body["delegation"]["agentName"] == "copilot"
    assert "revokedReason" not in body["delegation"]
    [sent] = fake_service.sent_to("POST", "/v1/me/delegations")
    assert sent.headers["authorization"] == f"Bearer {PERSON_TOKEN}"
    assert json.loads(sent.content) == GRANT


def test_a_grant_needs_a_confirmation_a_role_this_origin_and_a_valid_body(
    mounted: TestClient,
    sign_in: Callable[..., Any],
    step_up: Callable[..., None],
    fake_service: FakeAuthService,
) -> None:
    """No step-up: 401; no Airflow role: 403 no_role; cross-site or a bad body: refused; none reach the service."""
    user = sign_in(role="USER")
    refused = mounted.post("/auth/api/me/delegations", json=GRANT, headers=JSON_HEADERS)
    assert refused.status_code == 401
    roleless = sign_in(role=None)
    step_up(roleless)
    no_role = mounted.post("/auth/api/me/delegations", json=GRANT, headers=JSON_HEADERS)
    assert no_role.status_code == 403
    assert no_role.json()["error"] == "no_role"
    assert "no role in Airflow" in no_role.json()["detail"]
    user = sign_in(role="USER")
    step_up(user)
    cross_site = mounted.post(
        "/auth/api/me/delegations", json=GRANT, headers={"Origin": "https://evil.example"}
    )
    assert cross_site.status_code in {400, 403}
    for bad in (
        {**GRANT, "days": 0},
        {**GRANT, "days": 366},
        {**GRANT, "days": "many"},
        {**GRANT, "agent": ""},
        {**GRANT, "scope": ""},
        {**GRANT, "extra": True},
        {"scope": GRANT["scope"]},
    ):
        response = mounted.post("/auth/api/me/delegations", json=bad, headers=JSON_HEADERS)
        assert response.status_code in {400, 422}, bad
    assert fake_service.sent_to("POST", "/v1/me/delegations") == []


def test_a_refused_grant_is_relayed_clearly(
    mounted: TestClient,
    confirmed: Callable[..., Any],
    fake_service: FakeAuthService,
) -> None:
    confirmed()
    fake_service.reply(
        "POST", "/v1/me/delegations", 400, {"message": "days must be a whole number from 1 to 30"}
    )
    response = mounted.post("/auth/api/me/delegations", json=GRANT, headers=JSON_HEADERS)
    assert response.status_code == 400
    assert "refreshToken" not in response.text
