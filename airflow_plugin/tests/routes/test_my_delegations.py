"""The Passkeys page's "Agents acting for you" API: listed and revoked only with the person's own token
(after a passkey confirmation), and nothing beyond the shown fields reaches the page."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from support import JSON_HEADERS, PERSON_TOKEN, FakeAuthService, assert_step_up_required

if TYPE_CHECKING:
    from collections.abc import Callable

    from fastapi.testclient import TestClient

DELEGATION = {
    "id": "d-1",
    "state": "live",
    "endedBecause": None,
    "userId": "u-1",
    "username": "ada",
    "agentId": "a-1",
    "agentName": "copilot",
    "agentClientId": "sa_copilot",
    "scope": "dag:trigger:id=finance_*",
    "parentId": None,
    "depth": 1,
    "createdAt": "2026-01-01T00:00:00.000Z",
    "expiresAt": "2026-01-31T00:00:00.000Z",
    "revokedAt": None,
    "revokedReason": None,
}


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
