"""The administration page's command lines: an admin sees the command lines signed in as a person and
signs one out, with their own step-up token; only the page's fields come back. (That both need the step-up
and Airflow's ADMIN role is checked with every admin call, in test_admin.py.)"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from support import JSON_HEADERS, PERSON_TOKEN, FakeAuthService, service_command_line

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

LINE = service_command_line(id="0b6f1c1e-4a57-4f0e-9d7e-1f2a3b4c5d6e")
REVOKE = f"/auth/api/admin/users/u-1/command-lines/{LINE['id']}"
SERVICE_REVOKE = f"/v1/admin/users/u-1/command-lines/{LINE['id']}"


def test_an_admin_sees_a_persons_command_lines_with_the_page_fields_only(
    mounted: TestClient, admin: Any, fake_service: FakeAuthService
) -> None:
    """The person's record is read with the admin's own token; a pending code or an extra field never shows."""
    pending = {**LINE, "id": "cli-2", "state": "pending", "usedAt": None}
    fake_service.reply("GET", "/v1/admin/users/u-1", 200, {"id": "u-1", "commandLines": [LINE, pending]})
    response = mounted.get("/auth/api/admin/users/u-1/command-lines")
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    listed = response.json()
    assert [line["id"] for line in listed] == [LINE["id"]]
    assert "codeHash" not in listed[0]
    assert listed[0]["usedFrom"] == "198.51.100.8"
    assert fake_service.last("/v1/admin/users/u-1").headers["authorization"] == f"Bearer {PERSON_TOKEN}"
    assert fake_service.admin_tokens_issued == 0


def test_an_admin_signs_a_command_line_out_as_themselves(
    mounted: TestClient, admin: Any, fake_service: FakeAuthService
) -> None:
    """The service's admin route is called with the admin's step-up token (it checks and audits the admin)."""
    fake_service.reply("DELETE", SERVICE_REVOKE, 200, {**LINE, "state": "revoked"})
    response = mounted.request("DELETE", REVOKE, json={}, headers=JSON_HEADERS)
    assert response.status_code == 200, response.text
    assert response.json()["state"] == "revoked"
    assert "codeHash" not in response.json()
    sent = fake_service.sent_to("DELETE", SERVICE_REVOKE)
    assert len(sent) == 1
    assert sent[0].headers["authorization"] == f"Bearer {PERSON_TOKEN}"


def test_a_command_line_of_someone_else_is_a_clear_404(
    mounted: TestClient, admin: Any, fake_service: FakeAuthService
) -> None:
    """The service's 404 (not this person's, or revoked already) reaches the page as it is."""
    refusal = {"statusCode": 404, "error": "Not Found", "message": "no such code or command line"}
    fake_service.reply("DELETE", SERVICE_REVOKE, 404, refusal)
    response = mounted.request("DELETE", REVOKE, json={}, headers=JSON_HEADERS)
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_signing_out_refuses_a_cross_site_request(
    mounted: TestClient, admin: Any, fake_service: FakeAuthService
) -> None:
    """CSRF: another origin cannot sign a person's command line out with the admin's cookies."""
    headers = {"Origin": "https://evil.test", "Content-Type": "application/json"}
    response = mounted.request("DELETE", REVOKE, content=b"{}", headers=headers)
    assert response.status_code == 403
    assert response.json()["error"] == "csrf_rejected"
    assert fake_service.requests == []


@pytest.mark.parametrize(
    "path",
    [
        "/auth/api/admin/users/..x/command-lines/abc",
        "/auth/api/admin/users/u-1/command-lines/a%2F..%2Fb",
        "/auth/api/admin/users/u-1/command-lines/a;b",
    ],
)
def test_ids_cannot_reach_other_service_paths(
    mounted: TestClient, admin: Any, fake_service: FakeAuthService, path: str
) -> None:
    """Path injection: both ids are single plain segments or the request is refused before the service."""
    response = mounted.request("DELETE", path, json={}, headers=JSON_HEADERS)
    assert response.status_code in {400, 404}
    assert fake_service.requests == []
