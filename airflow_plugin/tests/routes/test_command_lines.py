"""The Passkeys page's "Sign in a command line" API: a code only after a passkey confirmation, made with
the person's own token; the command lines signed in listed without a prompt; nothing beyond the shown
fields reaches the page."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from support import (
    JSON_HEADERS,
    PERSON_TOKEN,
    FakeAuthService,
    assert_step_up_required,
    service_command_line,
    user_claims,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from fastapi.testclient import TestClient

SUB = user_claims()["sub"]
LINE = service_command_line(id="cli-1")
PENDING = {**LINE, "id": "cli-2", "state": "pending", "usedAt": None, "lastUsedAt": None}


def test_creating_a_code_needs_a_passkey_confirmation(
    mounted: TestClient, sign_in: Callable[..., Any], fake_service: FakeAuthService
) -> None:
    """Without the step-up cookie: 401 step_up_required, and nothing is asked of the service."""
    sign_in()
    response = mounted.post("/auth/api/me/cli-codes", json={}, headers=JSON_HEADERS)
    assert_step_up_required(response, fake_service)


def test_a_code_is_created_as_the_person_and_comes_with_the_airflowctl_command(
    mounted: TestClient, confirmed: Callable[..., Any], fake_service: FakeAuthService
) -> None:
    confirmed()
    created = {"id": "cli-3", "code": "afcli_" + "c" * 32, "expiresAt": "2026-01-01T00:05:00.000Z"}
    fake_service.reply("POST", "/v1/me/cli-codes", 201, created)
    response = mounted.post("/auth/api/me/cli-codes", json={}, headers=JSON_HEADERS)
    assert response.status_code == 201
    assert response.headers["cache-control"] == "no-store"
    assert response.json() == {
        **created,
        "command": "airflowctl auth login --api-url http://testserver --username ada",
    }
    sent = fake_service.last("/v1/me/cli-codes")
    assert sent.headers["authorization"] == f"Bearer {PERSON_TOKEN}"


def test_the_command_lines_are_listed_without_a_prompt_and_pending_codes_only_after_one(
    mounted: TestClient,
    sign_in: Callable[..., Any],
    step_up: Callable[..., None],
    fake_service: FakeAuthService,
) -> None:
    user = sign_in()
    fake_service.add_user(SUB, commandLines=[LINE])
    listed = mounted.get("/auth/api/me/cli-codes").json()
    assert listed["pending"] is None
    assert [line["id"] for line in listed["commandLines"]] == ["cli-1"]
    assert "codeHash" not in listed["commandLines"][0]
    step_up(user)
    fake_service.reply("GET", "/v1/me/cli-codes", 200, [LINE, PENDING])
    listed = mounted.get("/auth/api/me/cli-codes").json()
    assert [row["id"] for row in listed["pending"]] == ["cli-2"]
    assert listed["commandLines"][0]["lastUsedAt"] == "2026-01-02T00:00:00.000Z"


def test_revoking_is_made_as_the_person_and_checks_the_id(
    mounted: TestClient, confirmed: Callable[..., Any], fake_service: FakeAuthService
) -> None:
    confirmed()
    fake_service.reply("DELETE", "/v1/me/cli-codes/cli-1", 200, {**LINE, "state": "revoked"})
    response = mounted.request("DELETE", "/auth/api/me/cli-codes/cli-1", json={}, headers=JSON_HEADERS)
    assert response.status_code == 200
    assert response.json()["state"] == "revoked"
    assert fake_service.last("/v1/me/cli-codes/cli-1").headers["authorization"] == f"Bearer {PERSON_TOKEN}"
    bad = mounted.request("DELETE", "/auth/api/me/cli-codes/..%2F..", json={}, headers=JSON_HEADERS)
    assert bad.status_code in {400, 404}
