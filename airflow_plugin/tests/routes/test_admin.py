"""The administration API: an allow-list of admin operations, made with the admin's own step-up token."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from airflow_webauthn.services.step_up import STEP_UP_COOKIE

from support import JSON_HEADERS, PERSON_TOKEN, FakeAuthService, assert_step_up_required

if TYPE_CHECKING:
    from collections.abc import Callable

    from fastapi.testclient import TestClient

# (method, Airflow path, body, service method, service path)
OPERATIONS = [
    ("GET", "/auth/api/admin/users", None, "GET", "/v1/admin/users"),
    ("GET", "/auth/api/admin/users/u-1/passkeys", None, "GET", "/v1/admin/users/u-1/passkeys"),
    ("POST", "/auth/api/admin/users/u-1/disable", {}, "POST", "/v1/admin/users/u-1/disable"),
    ("POST", "/auth/api/admin/users/alice/enable", {}, "POST", "/v1/admin/users/alice/enable"),
    ("PATCH", "/auth/api/admin/users/u-1", {"groups": ["ops", "viewers"]}, "PATCH", "/v1/admin/users/u-1"),
    ("PATCH", "/auth/api/admin/users/u-1", {"groups": []}, "PATCH", "/v1/admin/users/u-1"),
    ("DELETE", "/auth/api/admin/passkeys/pk-9", {}, "DELETE", "/v1/admin/passkeys/pk-9"),
    ("POST", "/auth/api/admin/passkeys/pk-9/unflag", {}, "POST", "/v1/admin/passkeys/pk-9/unflag"),
    ("GET", "/auth/api/admin/invites", None, "GET", "/v1/admin/invites"),
    ("DELETE", "/auth/api/admin/invites/inv-1", {}, "DELETE", "/v1/admin/invites/inv-1"),
    ("GET", "/auth/api/admin/service-accounts", None, "GET", "/v1/admin/service-accounts"),
    (
        "POST",
        "/auth/api/admin/service-accounts",
        {"name": "ci-deployer", "groups": ["airflow-ops"]},
        "POST",
        "/v1/admin/service-accounts",
    ),
    (
        "POST",
        "/auth/api/admin/service-accounts",
        {"name": "copilot", "agent": True},
        "POST",
        "/v1/admin/service-accounts",
    ),
    (
        "POST",
        "/auth/api/admin/service-accounts/sa-1/disable",
        {},
        "POST",
        "/v1/admin/service-accounts/sa-1/disable",
    ),
    (
        "POST",
        "/auth/api/admin/service-accounts/sa-1/enable",
        {},
        "POST",
        "/v1/admin/service-accounts/sa-1/enable",
    ),
    (
        "POST",
        "/auth/api/admin/service-accounts/ci-bot/rotate-secret",
        {},
        "POST",
        "/v1/admin/service-accounts/ci-bot/rotate-secret",
    ),
    ("GET", "/auth/api/admin/keys", None, "GET", "/v1/admin/keys"),
    ("POST", "/auth/api/admin/keys/rotate", {}, "POST", "/v1/admin/keys/rotate"),
    ("GET", "/auth/api/admin/audit", None, "GET", "/v1/admin/audit"),
]
OPERATION_IDS = [f"{op[0]} {op[1]}" for op in OPERATIONS]
# Every call of the administration page (method, Airflow path, body): the proxied operations above and the
# ones that reshape the service's answer (tested in their own modules).
ADMIN_CALLS = [op[:3] for op in OPERATIONS] + [
    ("GET", "/auth/api/admin/users/u-1/command-lines", None),
    ("DELETE", "/auth/api/admin/users/u-1/command-lines/0b6f1c1e-4a57-4f0e-9d7e-1f2a3b4c5d6e", {}),
]
ADMIN_CALL_IDS = [f"{call[0]} {call[1]}" for call in ADMIN_CALLS]


def _call(client: TestClient, method: str, path: str, body: Any, **kwargs: Any) -> Any:
    if body is None:
        return client.request(method, path, **kwargs)
    return client.request(method, path, json=body, headers=JSON_HEADERS, **kwargs)


@pytest.mark.parametrize(
    ("method", "path", "body", "service_method", "service_path"), OPERATIONS, ids=OPERATION_IDS
)
def test_each_operation_is_proxied_with_the_admins_own_token(
    mounted: TestClient,
    admin: Any,
    fake_service: FakeAuthService,
    method: str,
    path: str,
    body: Any,
    service_method: str,
    service_path: str,
) -> None:
    """The service sees the admin's step-up token (it checks its admin group and audits the person)."""
    fake_service.reply(service_method, service_path, 200, {"ok": service_path})
    response = _call(mounted, method, path, body)
    assert response.status_code == 200, response.text
    assert response.json() == {"ok": service_path}
    sent = fake_service.sent_to(service_method, service_path)
    assert len(sent) == 1
    assert sent[0].headers["authorization"] == f"Bearer {PERSON_TOKEN}"
    if body:
        assert json.loads(sent[0].content) == body
    assert fake_service.admin_tokens_issued == 0  # never Airflow's own admin credentials
    assert PERSON_TOKEN not in response.text
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_CALLS, ids=ADMIN_CALL_IDS)
def test_each_operation_needs_a_step_up(
    mounted: TestClient,
    sign_in: Callable[..., Any],
    fake_service: FakeAuthService,
    method: str,
    path: str,
    body: Any,
) -> None:
    """Even an admin's reads need a fresh passkey confirmation: 401 step_up_required, service not called."""
    sign_in(role="ADMIN")
    response = _call(mounted, method, path, body)
    assert_step_up_required(response, fake_service)


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_CALLS, ids=ADMIN_CALL_IDS)
@pytest.mark.parametrize("role", ["VIEWER", "USER", "OP"])
def test_each_operation_needs_airflows_admin_role(
    mounted: TestClient,
    confirmed: Callable[..., Any],
    fake_service: FakeAuthService,
    role: str,
    method: str,
    path: str,
    body: Any,
) -> None:
    """A non-admin, even freshly confirmed, gets 403 from Airflow before the service is asked."""
    confirmed(role=role)
    response = _call(mounted, method, path, body)
    assert response.status_code == 403
    assert response.json()["error"] == "admin_role_required"
    assert fake_service.requests == []


def test_without_a_session_the_admin_api_is_401(mounted: TestClient, fake_service: FakeAuthService) -> None:
    """No Airflow session: 401 not_signed_in."""
    response = mounted.get("/auth/api/admin/users")
    assert response.status_code == 401
    assert response.json()["error"] == "not_signed_in"
    assert fake_service.requests == []


def test_invite_answer_carries_airflows_enrollment_link(
    mounted: TestClient, admin: Any, fake_service: FakeAuthService
) -> None:
    """The link points at this Airflow's /auth/enroll (the RP origin), not at the service."""
    fake_service.reply(
        "POST",
        "/v1/admin/invites",
        201,
        {
            "id": "inv-1",
            "username": "alice",
            "token": "tok_123-abc",
            "url": "http://auth.internal:3000/enroll?invite=tok_123-abc",
            "expiresAt": "2030-01-01T00:00:00.000Z",
        },
    )
    body = {"username": "alice", "displayName": "Alice", "groups": ["airflow-users"], "ttlSeconds": 3600}
    response = mounted.post("/auth/api/admin/invites", json=body, headers=JSON_HEADERS)
    assert response.status_code == 201
    assert response.json() == {
        "id": "inv-1",
        "username": "alice",
        "expiresAt": "2030-01-01T00:00:00.000Z",
        "link": "http://testserver/auth/enroll?invite=tok_123-abc",
    }
    assert json.loads(fake_service.last("/v1/admin/invites").content) == body
    assert "auth.internal" not in response.text


def test_invite_link_uses_the_configured_base_url(
    mounted: TestClient, admin: Any, fake_service: FakeAuthService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Behind a proxy, [api] base_url decides the link's origin, not the Host header."""
    monkeypatch.setenv("AIRFLOW__API__BASE_URL", "https://airflow.example.com")
    fake_service.reply(
        "POST", "/v1/admin/invites", 201, {"id": "i", "username": "bo", "token": "t", "expiresAt": "x"}
    )
    response = mounted.post(
        "/auth/api/admin/invites", json={"username": "bo"}, headers={"Origin": "https://airflow.example.com"}
    )
    assert response.json()["link"] == "https://airflow.example.com/auth/enroll?invite=t"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"username": ""},
        {"username": "a", "ttlSeconds": 10},
        {"username": "a", "ttlSeconds": 31 * 24 * 3600},
        {"username": "a", "groups": "not-a-list"},
        {"username": "a", "isAdmin": True},
    ],
)
def test_bad_invites_are_refused_before_the_service(
    mounted: TestClient, admin: Any, fake_service: FakeAuthService, body: dict[str, Any]
) -> None:
    """Invite bodies are checked with the service's bounds; unknown fields are not forwarded."""
    response = mounted.post("/auth/api/admin/invites", json=body, headers=JSON_HEADERS)
    assert response.status_code == 422
    assert fake_service.requests == []


def test_service_account_secret_is_passed_to_the_page_once(
    mounted: TestClient, admin: Any, fake_service: FakeAuthService
) -> None:
    """The one-time secret reaches the admin's page (that is its only chance to see it), uncached."""
    fake_service.reply(
        "POST",
        "/v1/admin/service-accounts",
        201,
        {"id": "sa-2", "name": "ci", "clientId": "c2", "clientSecret": "s2-secret", "groups": []},
    )
    response = mounted.post("/auth/api/admin/service-accounts", json={"name": "ci"}, headers=JSON_HEADERS)
    assert response.status_code == 201
    assert response.json()["clientSecret"] == "s2-secret"
    assert response.headers["cache-control"] == "no-store"


def test_audit_filters_are_forwarded_and_validated(
    mounted: TestClient, admin: Any, fake_service: FakeAuthService
) -> None:
    """Only the known filters go to the service; empty ones are dropped; a cursor pages on."""
    fake_service.reply("GET", "/v1/admin/audit", 200, {"items": [{"type": "login"}], "nextCursor": "c_2"})
    params = {
        "type": "passkey.revoked",
        "outcome": "failure",
        "actor": "u-1",
        "subject": "",
        "since": "2025-01-01T00:00:00Z",
        "cursor": "c_1",
        "limit": "20",
        "evil": "1",
    }
    response = mounted.get("/auth/api/admin/audit", params=params)
    assert response.status_code == 200
    assert response.json()["nextCursor"] == "c_2"
    sent = dict(fake_service.last("/v1/admin/audit").url.params)
    assert sent == {
        "type": "passkey.revoked",
        "outcome": "failure",
        "actor": "u-1",
        "since": "2025-01-01T00:00:00Z",
        "cursor": "c_1",
        "limit": "20",
    }


@pytest.mark.parametrize(
    "params",
    [
        {"outcome": "maybe"},
        {"type": "Passkey Revoked"},
        {"cursor": "../../users"},
        {"limit": "0"},
        {"limit": "10000"},
        {"actor": "x" * 200},
    ],
)
def test_bad_audit_filters_are_refused(
    mounted: TestClient, admin: Any, fake_service: FakeAuthService, params: dict[str, str]
) -> None:
    """Malformed filters are a 422 from Airflow, not forwarded."""
    assert mounted.get("/auth/api/admin/audit", params=params).status_code == 422
    assert fake_service.requests == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/auth/api/admin/users/u-1/delete"),
        ("POST", "/auth/api/admin/service-accounts/sa-1/promote"),
        ("PATCH", "/auth/api/admin/users/u-1"),
        ("PATCH", "/auth/api/admin/passkeys/pk-1"),
        ("GET", "/auth/api/admin/audit/export"),
        ("POST", "/auth/api/admin/keys/delete"),
        ("GET", "/auth/api/admin/users/u-1"),
    ],
)
def test_only_allow_listed_operations_exist(
    mounted: TestClient, admin: Any, fake_service: FakeAuthService, method: str, path: str
) -> None:
    """There is no generic pass-through: operations the page does not use are not reachable."""
    response = mounted.request(method, path, json={}, headers=JSON_HEADERS)
    assert response.status_code in {404, 405, 422}
    assert fake_service.requests == []


@pytest.mark.parametrize(
    "path",
    [
        "/auth/api/admin/users/..x/disable",
        "/auth/api/admin/users/a%20b/disable",
        "/auth/api/admin/users/%2e%2e/passkeys",
        "/auth/api/admin/passkeys/a;b",
        "/auth/api/admin/invites/-x",
        "/auth/api/admin/service-accounts/a%3Fb/disable",
    ],
)
def test_ids_cannot_reach_other_service_paths(
    mounted: TestClient, admin: Any, fake_service: FakeAuthService, path: str
) -> None:
    """Path injection: ids are single plain segments or the request is refused before the service."""
    method = "DELETE" if "/passkeys/a;b" in path or "/invites/" in path else "POST"
    if path.endswith("/passkeys"):
        method = "GET"
    response = _call(mounted, method, path, None if method == "GET" else {})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_id"
    assert fake_service.requests == []


@pytest.mark.parametrize(
    ("status", "service_body", "expected_status", "expected"),
    [
        (
            403,
            {"statusCode": 403, "error": "Forbidden", "message": "this needs membership of airflow-admins"},
            403,
            {"detail": "this needs membership of airflow-admins", "error": "forbidden"},
        ),
        (
            404,
            {"statusCode": 404, "error": "Not Found", "message": "no such user"},
            404,
            {"detail": "no such user", "error": "not_found"},
        ),
        (
            409,
            {"statusCode": 409, "error": "Conflict", "message": "user alice exists"},
            409,
            {"detail": "user alice exists", "error": "conflict"},
        ),
        (
            400,
            {"statusCode": 400, "error": "Bad Request", "message": ["name must be ...", "groups ..."]},
            400,
            {"detail": "name must be ...; groups ...", "error": "invalid_request"},
        ),
        (400, None, 400, {"detail": "The request was refused.", "error": "invalid_request"}),
    ],
)
def test_service_refusals_become_clear_4xx(
    mounted: TestClient,
    admin: Any,
    fake_service: FakeAuthService,
    status: int,
    service_body: Any,
    expected_status: int,
    expected: dict[str, str],
) -> None:
    """Refusals keep their status and reason as {detail, error}; the step-up cookie is kept."""
    fake_service.reply("POST", "/v1/admin/users/u-1/disable", status, service_body)
    response = mounted.post("/auth/api/admin/users/u-1/disable", json={}, headers=JSON_HEADERS)
    assert response.status_code == expected_status
    assert response.json() == expected
    assert STEP_UP_COOKIE not in response.headers.get("set-cookie", "")


def test_service_401_asks_for_a_new_step_up(
    mounted: TestClient, admin: Any, fake_service: FakeAuthService
) -> None:
    """A token the service no longer accepts (expired, disabled account): step_up_required, cookie cleared."""
    fake_service.reply(
        "GET", "/v1/admin/keys", 401, {"statusCode": 401, "error": "Unauthorized", "message": "token expired"}
    )
    response = mounted.get("/auth/api/admin/keys")
    assert response.status_code == 401
    assert response.json() == {"detail": "token expired", "error": "step_up_required"}
    assert "max-age=0" in response.headers["set-cookie"].lower()


@pytest.mark.parametrize("failure", ["500", "502", "down", "not-json"])
def test_service_failures_are_503_never_500(
    mounted: TestClient, admin: Any, fake_service: FakeAuthService, failure: str
) -> None:
    """Outage, 5xx or garbage from the service: 503 with the usual message."""
    if failure == "down":
        fake_service.up = False
    elif failure == "not-json":
        fake_service.reply("GET", "/v1/admin/users", 200, "<html>proxy error</html>")
    else:
        fake_service.reply("GET", "/v1/admin/users", int(failure))
    response = mounted.get("/auth/api/admin/users")
    assert response.status_code == 503
    assert response.json()["error"] == "service_unavailable"


@pytest.mark.parametrize(
    ("headers", "content"),
    [
        ({"Origin": "https://evil.test", "Content-Type": "application/json"}, b"{}"),
        ({"Content-Type": "text/plain"}, b"{}"),
        ({"Content-Type": "multipart/form-data; boundary=x"}, b"--x--"),
        ({"Content-Type": "application/json", "Sec-Fetch-Site": "cross-site"}, b"{}"),
    ],
)
def test_admin_changes_refuse_cross_site_requests(
    mounted: TestClient,
    admin: Any,
    fake_service: FakeAuthService,
    headers: dict[str, str],
    content: bytes,
) -> None:
    """CSRF: a forged form post or a foreign Origin cannot rotate keys, even with a step-up cookie."""
    response = mounted.post("/auth/api/admin/keys/rotate", content=content, headers=headers)
    assert response.status_code == 403
    assert response.json()["error"] == "csrf_rejected"
    assert fake_service.requests == []


@pytest.mark.parametrize(
    "body",
    [{"groups": "ops"}, {"groups": [""]}, {"groups": ["ok"], "disabled": False}, {}, {"groups": ["x" * 200]}],
    ids=["not-a-list", "empty-name", "extra-field", "missing", "too-long"],
)
def test_group_edits_are_validated_before_the_service_is_called(
    mounted: TestClient, admin: Any, fake_service: FakeAuthService, body: Any
) -> None:
    """Only a list of group names is forwarded; anything else (an extra field included) is a 422."""
    response = mounted.patch("/auth/api/admin/users/u-1", json=body, headers=JSON_HEADERS)
    assert response.status_code == 422
    assert fake_service.sent_to("PATCH", "/v1/admin/users/u-1") == []
