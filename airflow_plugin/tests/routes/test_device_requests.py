"""The approval page and its routes: signed-in people only, with a role; every call carries the person's
own passkey-confirmed token; approve and deny only from this origin; a bad code never reaches a service
URL."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from support import JSON_HEADERS, PERSON_TOKEN, FakeAuthService, assert_step_up_required

if TYPE_CHECKING:
    from collections.abc import Callable

    from fastapi.testclient import TestClient

VIEW = {
    "userCode": "BCDF-GHJK",
    "clientId": "airflow-cli",
    "clientName": "Airflow command line",
    "kind": "command_line",
    "scope": "",
    "requestedFrom": "203.0.113.7",
    "userAgent": "python-httpx/0.28",
    "requestedAt": "2026-12-07T18:00:00.000Z",
    "expiresAt": "2026-12-07T18:10:00.000Z",
    "state": "pending",
}


def test_the_page_sends_a_signed_out_person_to_sign_in_and_back_with_the_code(mounted: TestClient) -> None:
    response = mounted.get("/auth/device?user_code=BCDF-GHJK")
    assert response.status_code == 303
    assert response.headers["location"] == "/auth/login?next=/auth/device%3Fuser_code%3DBCDF-GHJK"


def test_the_page_prefills_the_code_warns_and_is_never_framed(
    mounted: TestClient, sign_in: Callable[..., Any]
) -> None:
    sign_in()
    response = mounted.get("/auth/device?user_code=BCDF-GHJK")
    assert response.status_code == 200
    assert 'value="BCDF-GHJK"' in response.text
    assert "Approve only a request you started yourself, just now." in response.text
    assert ">Approve</button>" in response.text
    assert ">Deny</button>" in response.text
    assert response.headers["x-frame-options"] == "DENY"


def test_a_person_without_a_role_is_told_and_refused(
    mounted: TestClient, confirmed: Callable[..., Any], fake_service: FakeAuthService
) -> None:
    """No role, nothing to hand on: the page says so, and the routes answer 403 without asking the service."""
    confirmed(role=None)
    page = mounted.get("/auth/device")
    assert "You have no role in Airflow" in page.text
    assert 'id="code-form"' not in page.text
    response = mounted.post("/auth/device/requests/BCDF-GHJK/approve", json={}, headers=JSON_HEADERS)
    assert response.status_code == 403
    assert response.json()["error"] == "no_role"
    assert fake_service.sent_to("POST", "/v1/me/device-requests/BCDF-GHJK/approve") == []


def test_looking_a_code_up_needs_the_passkey_confirmation(
    mounted: TestClient, sign_in: Callable[..., Any], fake_service: FakeAuthService
) -> None:
    sign_in()
    response = mounted.get("/auth/device/requests/BCDF-GHJK")
    assert_step_up_required(response, fake_service)


def test_the_request_is_read_as_the_person_with_the_code_normalised_and_the_access_in_words(
    mounted: TestClient, confirmed: Callable[..., Any], fake_service: FakeAuthService
) -> None:
    confirmed(role="OP")
    fake_service.reply("GET", "/v1/me/device-requests/BCDF-GHJK", 200, VIEW)
    response = mounted.get("/auth/device/requests/bcdfghjk")
    assert response.status_code == 200, response.text
    assert response.json() == {**VIEW, "access": "Your own Airflow role: OP"}
    assert (
        fake_service.last("/v1/me/device-requests/BCDF-GHJK").headers["authorization"]
        == f"Bearer {PERSON_TOKEN}"
    )


def test_a_malformed_code_is_unknown_and_never_reaches_the_service(
    mounted: TestClient, confirmed: Callable[..., Any], fake_service: FakeAuthService
) -> None:
    confirmed()
    for code in ("..%2F..%2Fadmin", "BCDF-GHJK-LMNP", "1234-5678"):
        response = mounted.get(f"/auth/device/requests/{code}")
        assert response.status_code == 404, code
    assert not [r for r in fake_service.requests if r.url.path.startswith("/v1/me/device-requests")]


def test_approve_and_deny_relay_as_the_person_and_a_decided_code_is_a_409(
    mounted: TestClient, confirmed: Callable[..., Any], fake_service: FakeAuthService
) -> None:
    confirmed()
    fake_service.reply("POST", "/v1/me/device-requests/BCDF-GHJK/approve", 200, {**VIEW, "state": "approved"})
    approved = mounted.post("/auth/device/requests/BCDF-GHJK/approve", json={}, headers=JSON_HEADERS)
    assert approved.status_code == 200
    assert approved.json()["state"] == "approved"
    fake_service.reply(
        "POST",
        "/v1/me/device-requests/BCDF-GHJK/approve",
        409,
        {"statusCode": 409, "error": "Conflict", "message": "This request was already approved."},
    )
    again = mounted.post("/auth/device/requests/BCDF-GHJK/approve", json={}, headers=JSON_HEADERS)
    assert again.status_code == 409
    assert again.json()["detail"] == "This request was already approved."
    fake_service.reply("POST", "/v1/me/device-requests/BCDF-GHJK/deny", 200, {**VIEW, "state": "denied"})
    denied = mounted.post("/auth/device/requests/BCDF-GHJK/deny", json={}, headers=JSON_HEADERS)
    assert denied.json()["state"] == "denied"


def test_approve_refuses_a_cross_site_request_and_one_without_confirmation(
    mounted: TestClient,
    sign_in: Callable[..., Any],
    step_up: Callable[..., None],
    fake_service: FakeAuthService,
) -> None:
    user = sign_in()
    cross = mounted.post(
        "/auth/device/requests/BCDF-GHJK/approve", json={}, headers={"Origin": "https://evil.example"}
    )
    assert cross.status_code == 403
    unconfirmed = mounted.post("/auth/device/requests/BCDF-GHJK/approve", json={}, headers=JSON_HEADERS)
    assert unconfirmed.json()["error"] == "step_up_required"
    step_up(user)
    form = mounted.post("/auth/device/requests/BCDF-GHJK/approve", data={"x": "1"}, headers=JSON_HEADERS)
    assert form.status_code == 403
    assert fake_service.sent_to("POST", "/v1/me/device-requests/BCDF-GHJK/approve") == []


AGENT_VIEW = {
    **VIEW,
    "clientId": "sa_copilot",
    "clientName": "copilot",
    "kind": "agent",
    "scope": "dag:trigger:id=finance_*",
    "maxDays": 30,
    "days": None,
}


def test_an_agents_request_shows_the_most_days_and_approving_forwards_the_days_chosen(
    mounted: TestClient,
    confirmed: Callable[..., Any],
    fake_service: FakeAuthService,
) -> None:
    confirmed()
    fake_service.reply("GET", "/v1/me/device-requests/BCDF-GHJK", 200, AGENT_VIEW)
    shown = mounted.get("/auth/device/requests/BCDF-GHJK").json()
    assert (shown["maxDays"], shown["access"]) == (30, "Only: dag:trigger:id=finance_*")
    approve = "/v1/me/device-requests/BCDF-GHJK/approve"
    fake_service.reply("POST", approve, 200, {**AGENT_VIEW, "state": "approved", "days": 7})
    approved = mounted.post("/auth/device/requests/BCDF-GHJK/approve", json={"days": 7}, headers=JSON_HEADERS)
    assert approved.status_code == 200, approved.text
    assert approved.json()["days"] == 7
    assert json.loads(fake_service.last(approve).content) == {"days": 7}


def test_bad_days_are_refused_before_the_service_and_its_own_refusal_is_relayed(
    mounted: TestClient,
    confirmed: Callable[..., Any],
    fake_service: FakeAuthService,
) -> None:
    """Days outside 1..365 or not a whole number never reach the service; its 400 (over the max) is shown."""
    confirmed()
    approve = "/v1/me/device-requests/BCDF-GHJK/approve"
    for days in (0, -1, 366, 1.5, "many"):
        response = mounted.post(
            "/auth/device/requests/BCDF-GHJK/approve", json={"days": days}, headers=JSON_HEADERS
        )
        assert response.status_code in {400, 422}, days
    assert fake_service.sent_to("POST", approve) == []
    fake_service.reply("POST", approve, 400, {"message": "days must be a whole number from 1 to 30"})
    over = mounted.post("/auth/device/requests/BCDF-GHJK/approve", json={"days": 31}, headers=JSON_HEADERS)
    assert over.status_code == 400
    assert "1 to 30" in over.json()["detail"]
