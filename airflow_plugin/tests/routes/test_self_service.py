"""The person's own passkeys: listing without a prompt, every change with their own step-up token."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from fastapi.testclient import TestClient

from airflow_webauthn.auth_manager import WebAuthnAuthManager
from airflow_webauthn.services.step_up import STEP_UP_COOKIE

from support import (
    ADMIN_CLIENT_ID,
    JSON_HEADERS,
    PERSON_TOKEN,
    FakeAuthService,
    assert_step_up_required,
    make_settings,
    user_claims,
)

if TYPE_CHECKING:
    from collections.abc import Callable

SUB = user_claims()["sub"]
PASSKEYS = [
    {
        "id": "pk-1",
        "label": "Work laptop",
        "createdAt": "2025-01-01T00:00:00.000Z",
        "lastUsedAt": "2025-02-01T00:00:00.000Z",
        "revokedAt": None,
        "flaggedAt": None,
        "flagReason": None,
        "backedUp": True,
        "deviceType": "multiDevice",
        "aaguid": "ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4",
        "authenticator": "Google Password Manager",
    },
    {
        "id": "pk-2",
        "label": "YubiKey 5",
        "createdAt": "2025-01-02T00:00:00.000Z",
        "lastUsedAt": None,
        "revokedAt": None,
        "flaggedAt": "2025-03-01T00:00:00.000Z",
        "flagReason": "counter_regressed",
        "backedUp": False,
        "deviceType": "singleDevice",
        "aaguid": None,
        "authenticator": None,
    },
]


def _bearer(request: Any) -> str:
    return str(request.headers.get("authorization", ""))


def test_listing_uses_airflows_credentials_and_needs_no_step_up(
    mounted: TestClient, sign_in: Callable[..., Any], fake_service: FakeAuthService
) -> None:
    """Opening the page shows the person's passkeys without a passkey prompt (Airflow's admin token)."""
    sign_in()
    fake_service.add_user(SUB, passkeys=PASSKEYS)
    response = mounted.get("/auth/api/me/passkeys")
    assert response.status_code == 200
    body = response.json()
    assert body["username"] == "ada"
    assert [(p["id"], p["label"], p["current"]) for p in body["passkeys"]] == [
        ("pk-1", "Work laptop", True),  # the session was opened with pk-1
        ("pk-2", "YubiKey 5", False),
    ]
    assert body["passkeys"][1]["flagReason"] == "counter_regressed"
    assert "aaguid" not in body["passkeys"][0]  # only the fields the page shows
    sent = fake_service.last(f"/v1/admin/users/{SUB}")
    assert _bearer(sent) != f"Bearer {PERSON_TOKEN}"
    assert fake_service.admin_tokens_issued == 1
    assert response.headers["cache-control"] == "no-store"


def test_listing_is_only_ever_for_the_session_user(
    mounted: TestClient, sign_in: Callable[..., Any], fake_service: FakeAuthService
) -> None:
    """There is no way to name another user: the id comes from the session cookie."""
    sign_in(user_id="22222222-0000-4000-8000-000000000002", username="bob")
    fake_service.add_user(SUB, passkeys=PASSKEYS)
    fake_service.add_user("22222222-0000-4000-8000-000000000002", username="bob", passkeys=[])
    response = mounted.get("/auth/api/me/passkeys", params={"user": SUB})
    assert response.json()["passkeys"] == []
    assert fake_service.count(f"/v1/admin/users/{SUB}") == 0


def test_sessions_work_on_an_airflow_without_the_trust_sentinel(
    mounted: TestClient,
    sign_in: Callable[..., Any],
    fake_service: FakeAuthService,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Airflow 3.2 has no USER_INJECTED_BY_TRUSTED_MIDDLEWARE: the pages still find the session user (from
    the validated cookie) instead of failing with a 500, and still refuse a request without one."""
    from airflow.api_fastapi.core_api import security as airflow_security

    monkeypatch.delattr(airflow_security, "USER_INJECTED_BY_TRUSTED_MIDDLEWARE", raising=False)
    assert mounted.get("/auth/api/me/passkeys").status_code == 401
    sign_in(user_id="22222222-0000-4000-8000-000000000002", username="bob")
    fake_service.add_user("22222222-0000-4000-8000-000000000002", username="bob", passkeys=[])
    response = mounted.get("/auth/api/me/passkeys")
    assert response.status_code == 200
    assert response.json()["passkeys"] == []


def test_listing_without_a_session_is_401(mounted: TestClient, fake_service: FakeAuthService) -> None:
    """No Airflow session: 401 not_signed_in, and the service is not asked."""
    response = mounted.get("/auth/api/me/passkeys")
    assert response.status_code == 401
    assert response.json()["error"] == "not_signed_in"
    assert fake_service.requests == []


def test_listing_without_service_credentials_uses_the_persons_step_up(
    fake_service: FakeAuthService, no_revocations: None, sign_in: Callable[..., Any]
) -> None:
    """Without service_credentials, the list needs a step-up and is read with the person's token."""
    from fastapi import FastAPI

    from support import session_user

    transport = fake_service.transport()
    manager = WebAuthnAuthManager(
        settings=make_settings(service_credentials=""),
        service_transport=transport,
    )
    root = FastAPI()
    root.mount("/auth", manager.get_fastapi_app())
    client = TestClient(root)
    user = session_user()
    client.cookies.set("_token", manager.generate_jwt(user), domain="testserver.local", path="/")
    first = client.get("/auth/api/me/passkeys")
    assert first.status_code == 401
    assert first.json()["error"] == "step_up_required"
    blob = manager.step_up.seal(
        user_id=user.user_id, session_id=user.session_id, token=PERSON_TOKEN, max_age_seconds=300
    )
    client.cookies.set(STEP_UP_COOKIE, blob, domain="testserver.local", path="/auth")
    fake_service.reply("GET", "/v1/me", 200, {"username": "ada", "passkeys": PASSKEYS})
    second = client.get("/auth/api/me/passkeys")
    assert second.status_code == 200
    assert len(second.json()["passkeys"]) == 2
    assert _bearer(fake_service.last("/v1/me")) == f"Bearer {PERSON_TOKEN}"


def test_listing_when_the_service_is_down_is_503(
    mounted: TestClient, sign_in: Callable[..., Any], fake_service: FakeAuthService
) -> None:
    """Service down: 503 with the usual message."""
    sign_in()
    fake_service.up = False
    response = mounted.get("/auth/api/me/passkeys")
    assert response.status_code == 503
    assert "unavailable" in response.json()["detail"]


# ---- changes need a step-up ----

CHANGES = [
    ("PATCH", "/auth/api/me/passkeys/pk-2", {"label": "Backup key"}, "PATCH", "/v1/me/passkeys/pk-2"),
    ("DELETE", "/auth/api/me/passkeys/pk-2", {}, "DELETE", "/v1/me/passkeys/pk-2"),
    ("POST", "/auth/api/me/passkeys/registration/options", {}, "POST", "/v1/registration/options"),
    (
        "POST",
        "/auth/api/me/passkeys/registration/verify",
        {"response": {"id": "new", "type": "public-key"}},
        "POST",
        "/v1/registration/verify",
    ),
]


@pytest.mark.parametrize(("method", "path", "body", "service_method", "service_path"), CHANGES)
def test_changes_without_step_up_are_401_step_up_required(
    mounted: TestClient,
    sign_in: Callable[..., Any],
    fake_service: FakeAuthService,
    method: str,
    path: str,
    body: dict[str, Any],
    service_method: str,
    service_path: str,
) -> None:
    """Rename, remove and add all need a fresh passkey confirmation; the service is not called."""
    sign_in()
    response = mounted.request(method, path, json=body, headers=JSON_HEADERS)
    assert_step_up_required(response, fake_service)


@pytest.mark.parametrize(("method", "path", "body", "service_method", "service_path"), CHANGES)
def test_changes_are_made_with_the_persons_own_token(
    mounted: TestClient,
    confirmed: Callable[..., Any],
    fake_service: FakeAuthService,
    method: str,
    path: str,
    body: dict[str, Any],
    service_method: str,
    service_path: str,
) -> None:
    """The service gets the person's step-up token (its audit names them), and exactly the body sent."""
    confirmed()
    fake_service.reply(service_method, service_path, 200, {"id": "pk-2", "label": "Backup key"})
    response = mounted.request(method, path, json=body, headers=JSON_HEADERS)
    assert response.status_code == 200
    assert response.json() == {"id": "pk-2", "label": "Backup key"}
    sent = fake_service.sent_to(service_method, service_path)
    assert len(sent) == 1
    assert _bearer(sent[0]) == f"Bearer {PERSON_TOKEN}"
    if method != "DELETE":
        import json

        assert json.loads(sent[0].content) == body
    assert PERSON_TOKEN not in response.text


def test_added_passkey_without_a_name_is_named_by_the_service(
    mounted: TestClient, confirmed: Callable[..., Any], fake_service: FakeAuthService
) -> None:
    """No label is invented by Airflow: the service names a new passkey after its authenticator model."""
    confirmed()
    fake_service.reply("POST", "/v1/registration/verify", 201, {"id": "pk-3", "label": "iCloud Keychain"})
    response = mounted.post(
        "/auth/api/me/passkeys/registration/verify",
        json={"response": {"id": "new"}},
        headers=JSON_HEADERS,
    )
    assert response.status_code == 201
    assert b"label" not in fake_service.last("/v1/registration/verify").content


def test_removing_the_last_passkey_refusal_is_relayed(
    mounted: TestClient, confirmed: Callable[..., Any], fake_service: FakeAuthService
) -> None:
    """The service's refusal (last passkey) reaches the page as the same 4xx with its reason."""
    confirmed()
    fake_service.reply(
        "DELETE",
        "/v1/me/passkeys/pk-1",
        409,
        {"statusCode": 409, "error": "Conflict", "message": "this is your last passkey"},
    )
    response = mounted.request("DELETE", "/auth/api/me/passkeys/pk-1", json={}, headers=JSON_HEADERS)
    assert response.status_code == 409
    assert response.json() == {"detail": "this is your last passkey", "error": "conflict"}


def test_a_stale_token_means_step_up_again(
    mounted: TestClient, confirmed: Callable[..., Any], fake_service: FakeAuthService
) -> None:
    """The service's own freshness rule (401 step_up_required) asks the page to confirm again."""
    confirmed()
    fake_service.reply(
        "POST",
        "/v1/registration/options",
        401,
        {"statusCode": 401, "error": "step_up_required", "message": "confirm it's you again"},
    )
    response = mounted.post("/auth/api/me/passkeys/registration/options", json={}, headers=JSON_HEADERS)
    assert response.status_code == 401
    assert response.json() == {"detail": "confirm it's you again", "error": "step_up_required"}
    assert f"{STEP_UP_COOKIE}=" in response.headers["set-cookie"]  # the useless cookie is removed
    assert "max-age=0" in response.headers["set-cookie"].lower()


def test_step_up_cookie_of_another_user_does_not_work(
    mounted: TestClient,
    sign_in: Callable[..., Any],
    confirmed: Callable[..., Any],
    fake_service: FakeAuthService,
) -> None:
    """A sealed token is bound to the user it was issued to: lifted into another session, it is useless."""
    confirmed()
    sign_in(user_id="33333333-0000-4000-8000-000000000003", username="mallory")
    response = mounted.patch("/auth/api/me/passkeys/pk-1", json={"label": "x"}, headers=JSON_HEADERS)
    assert_step_up_required(response, fake_service)


def test_tampered_or_expired_step_up_cookies_are_refused_and_cleared(
    mounted: TestClient,
    sign_in: Callable[..., Any],
    step_up: Callable[..., None],
    manager: WebAuthnAuthManager,
    fake_service: FakeAuthService,
) -> None:
    """Any change to the sealed blob, or its expiry, means step_up_required (and the cookie goes)."""
    user = sign_in()
    blob = manager.step_up.seal(user_id=user.user_id, token=PERSON_TOKEN, max_age_seconds=300)
    tampered = blob[:-2] + ("AA" if not blob.endswith("AA") else "BB")
    for value in (tampered, "garbage", ""):
        mounted.cookies.set(STEP_UP_COOKIE, value, domain="testserver.local", path="/auth")
        response = mounted.patch("/auth/api/me/passkeys/pk-1", json={"label": "x"}, headers=JSON_HEADERS)
        assert response.status_code == 401
        assert response.json()["error"] == "step_up_required"
    step_up(user, max_age=0)
    response = mounted.patch("/auth/api/me/passkeys/pk-1", json={"label": "x"}, headers=JSON_HEADERS)
    assert response.json()["error"] == "step_up_required"
    assert "max-age=0" in response.headers["set-cookie"].lower()
    assert fake_service.requests == []


@pytest.mark.parametrize("bad_id", ["..hidden", "a b", "-dash", "x" * 200, "a;b", "a%2Fb", "%2e%2e"])
def test_ids_cannot_reach_other_service_paths(
    mounted: TestClient, confirmed: Callable[..., Any], fake_service: FakeAuthService, bad_id: str
) -> None:
    """Path injection: an id that is not one plain segment never reaches the service."""
    confirmed()
    response = mounted.patch(f"/auth/api/me/passkeys/{bad_id}", json={"label": "x"}, headers=JSON_HEADERS)
    assert response.status_code in {400, 404, 405}
    if response.status_code == 400:
        assert response.json()["error"] == "invalid_id"
    assert fake_service.requests == []


@pytest.mark.parametrize(
    "body", [{"label": ""}, {"label": "x" * 129}, {"label": "ok", "userId": "someone"}, {}]
)
def test_bad_rename_bodies_are_refused_before_the_service(
    mounted: TestClient, confirmed: Callable[..., Any], fake_service: FakeAuthService, body: dict[str, Any]
) -> None:
    """Bodies are validated with the service's bounds and nothing unexpected is forwarded."""
    confirmed()
    response = mounted.patch("/auth/api/me/passkeys/pk-1", json=body, headers=JSON_HEADERS)
    assert response.status_code == 422
    assert fake_service.requests == []


def test_changes_refuse_cross_site_requests(
    mounted: TestClient, confirmed: Callable[..., Any], fake_service: FakeAuthService
) -> None:
    """CSRF: a non-JSON body or a foreign Origin is 403 even with a valid step-up cookie."""
    confirmed()
    foreign = mounted.request(
        "DELETE", "/auth/api/me/passkeys/pk-1", json={}, headers={"Origin": "https://evil.test"}
    )
    assert foreign.status_code == 403
    no_json = mounted.request("DELETE", "/auth/api/me/passkeys/pk-1", headers=JSON_HEADERS)
    assert no_json.status_code == 403
    assert {foreign.json()["error"], no_json.json()["error"]} == {"csrf_rejected"}
    assert fake_service.requests == []


def test_service_outage_during_a_change_is_503(
    mounted: TestClient, confirmed: Callable[..., Any], fake_service: FakeAuthService
) -> None:
    """Service down or failing: 503 with the usual message, never 500."""
    confirmed()
    fake_service.reply("PATCH", "/v1/me/passkeys/pk-1", 500)
    failing = mounted.patch("/auth/api/me/passkeys/pk-1", json={"label": "x"}, headers=JSON_HEADERS)
    fake_service.up = False
    down = mounted.patch("/auth/api/me/passkeys/pk-1", json={"label": "x"}, headers=JSON_HEADERS)
    for response in (failing, down):
        assert response.status_code == 503
        assert response.json()["error"] == "service_unavailable"


def test_admin_credentials_are_not_used_for_changes(
    mounted: TestClient, confirmed: Callable[..., Any], fake_service: FakeAuthService
) -> None:
    """Airflow's own admin service account never makes a person's change (the audit names the person)."""
    confirmed()
    fake_service.reply("PATCH", "/v1/me/passkeys/pk-1", 200, {"id": "pk-1"})
    mounted.patch("/auth/api/me/passkeys/pk-1", json={"label": "x"}, headers=JSON_HEADERS)
    assert fake_service.admin_tokens_issued == 0
    assert fake_service.count("/v1/oauth/token") == 0
    assert ADMIN_CLIENT_ID not in fake_service.last("/v1/me/passkeys/pk-1").headers.get("authorization", "")
