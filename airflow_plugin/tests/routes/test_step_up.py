"""Step-up: a fresh passkey assertion by the signed-in person, kept server-side in a sealed cookie."""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any

import pytest
from fastapi.testclient import TestClient

from airflow_webauthn.auth_manager import WebAuthnAuthManager
from airflow_webauthn.services.step_up import STEP_UP_COOKIE

from support import JSON_HEADERS, FakeAuthService, ed25519_key, user_claims

if TYPE_CHECKING:
    from collections.abc import Callable

GOOD = {"response": {"id": "good-credential", "type": "public-key"}}


def _cookie_header(response: Any) -> str:
    cookies = [value for name, value in response.headers.multi_items() if name == "set-cookie"]
    matching = [cookie for cookie in cookies if cookie.startswith(f"{STEP_UP_COOKIE}=")]
    assert len(matching) == 1, cookies
    return matching[0]


def test_options_are_for_the_session_user_only(
    mounted: TestClient, sign_in: Callable[..., Any], fake_service: FakeAuthService
) -> None:
    """The ceremony is always for the signed-in person's username, never a usernameless one."""
    sign_in(username="ada")
    response = mounted.post("/auth/step-up/options", json={}, headers=JSON_HEADERS)
    assert response.status_code == 200
    assert response.json()["challenge"] == "Y2hhbGxlbmdl"
    assert json.loads(fake_service.last("/v1/authentication/options").content)["username"] == "ada"


def test_options_demand_user_verification(
    mounted: TestClient, sign_in: Callable[..., Any], fake_service: FakeAuthService
) -> None:
    """A step-up always asks the service for a user-verified ceremony (PIN or biometrics), so the service
    stores that demand with the challenge and refuses an assertion without UV; the page gets options that
    say so."""
    sign_in(username="ada")
    response = mounted.post("/auth/step-up/options", json={}, headers=JSON_HEADERS)
    assert response.status_code == 200
    sent = json.loads(fake_service.last("/v1/authentication/options").content)
    assert sent == {"username": "ada", "userVerification": "required"}
    assert response.json()["userVerification"] == "required"


def test_the_browser_cannot_relax_user_verification(
    mounted: TestClient, sign_in: Callable[..., Any], fake_service: FakeAuthService
) -> None:
    """The page cannot ask for a step-up without user verification: the body takes no fields."""
    sign_in()
    response = mounted.post(
        "/auth/step-up/options", json={"userVerification": "discouraged"}, headers=JSON_HEADERS
    )
    assert response.status_code == 422
    assert fake_service.requests == []


def test_options_refuse_a_username_from_the_browser(
    mounted: TestClient, sign_in: Callable[..., Any], fake_service: FakeAuthService
) -> None:
    """The page cannot choose whose passkey confirms the action."""
    sign_in()
    response = mounted.post("/auth/step-up/options", json={"username": "root"}, headers=JSON_HEADERS)
    assert response.status_code == 422
    assert fake_service.requests == []


def test_step_up_needs_an_airflow_session(mounted: TestClient, fake_service: FakeAuthService) -> None:
    """Without a session there is no one to confirm: 401 not_signed_in, nothing forwarded."""
    for path, body in (("/auth/step-up/options", {}), ("/auth/step-up/verify", GOOD)):
        response = mounted.post(path, json=body, headers=JSON_HEADERS)
        assert response.status_code == 401
        assert response.json()["error"] == "not_signed_in"
    assert fake_service.requests == []


def test_verify_sets_a_sealed_httponly_strict_cookie_and_never_returns_the_token(
    mounted: TestClient, sign_in: Callable[..., Any], fake_service: FakeAuthService
) -> None:
    """The service JWT stays server-side: encrypted httponly SameSite=Strict cookie under /auth, not JSON."""
    sign_in()
    response = mounted.post("/auth/step-up/verify", json=GOOD, headers=JSON_HEADERS)
    assert response.status_code == 200
    assert response.json() == {"confirmed": True, "expiresIn": 300}
    assert "access_token" not in response.text
    assert "eyJ" not in response.text  # no JWT of any kind
    cookie = _cookie_header(response)
    attributes = [part.strip().lower() for part in cookie.split(";")]
    assert "httponly" in attributes
    assert "samesite=strict" in attributes
    assert "path=/auth" in attributes
    assert "max-age=300" in attributes
    assert "secure" not in attributes  # plain http here
    value = cookie.split(";")[0].split("=", 1)[1]
    raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    assert b"eyJ" not in raw
    assert b"access_token" not in raw


def test_cookie_is_secure_over_https(manager: WebAuthnAuthManager, sign_in: Callable[..., Any]) -> None:
    """On https the step-up cookie carries the Secure flag."""
    from fastapi import FastAPI

    from support import session_user

    root = FastAPI()
    root.mount("/auth", manager.get_fastapi_app())
    client = TestClient(root, base_url="https://airflow.test")
    user = session_user()
    manager.sessions.remember_login(user)
    client.cookies.set("_token", manager.generate_jwt(user), domain="airflow.test", path="/")
    response = client.post("/auth/step-up/verify", json=GOOD, headers={"Origin": "https://airflow.test"})
    assert response.status_code == 200
    assert "secure" in [part.strip().lower() for part in _cookie_header(response).split(";")]


def test_cookie_lives_no_longer_than_the_token(
    mounted: TestClient, sign_in: Callable[..., Any], fake_service: FakeAuthService
) -> None:
    """Max-Age = min(300, expires_in): the cookie never outlives the token inside it."""
    sign_in()
    fake_service.login_expires_in = 120
    response = mounted.post("/auth/step-up/verify", json=GOOD, headers=JSON_HEADERS)
    assert "max-age=120" in _cookie_header(response).lower()
    assert response.json()["expiresIn"] == 120


def test_another_persons_passkey_does_not_confirm(
    mounted: TestClient, sign_in: Callable[..., Any], fake_service: FakeAuthService
) -> None:
    """A genuine assertion by someone else (their passkey on this device) is refused with 403."""
    sign_in()
    fake_service.login_claims = user_claims(
        sub="11111111-0000-4000-8000-00000000beef", preferred_username="eve"
    )
    response = mounted.post("/auth/step-up/verify", json=GOOD, headers=JSON_HEADERS)
    assert response.status_code == 403
    assert response.json()["error"] == "step_up_wrong_user"
    assert "set-cookie" not in response.headers


def test_refused_assertion_is_not_a_step_up_loop(
    mounted: TestClient, sign_in: Callable[..., Any], fake_service: FakeAuthService
) -> None:
    """A passkey the service rejects: 401 authentication_failed (not step_up_required), no cookie."""
    sign_in()
    response = mounted.post("/auth/step-up/verify", json={"response": {"id": "bad"}}, headers=JSON_HEADERS)
    assert response.status_code == 401
    assert response.json() == {"detail": "passkey not recognised", "error": "authentication_failed"}
    assert "set-cookie" not in response.headers


def test_a_token_that_does_not_verify_is_not_kept(
    mounted: TestClient, sign_in: Callable[..., Any], fake_service: FakeAuthService
) -> None:
    """Even from the service, a token failing verification is not sealed into a cookie."""
    sign_in()
    fake_service.login_key = ed25519_key(kid=fake_service.keys[0].kid)
    response = mounted.post("/auth/step-up/verify", json=GOOD, headers=JSON_HEADERS)
    assert response.status_code == 502
    assert "set-cookie" not in response.headers


@pytest.mark.parametrize("path", ["/auth/step-up/options", "/auth/step-up/verify"])
def test_service_outage_is_503(
    mounted: TestClient, sign_in: Callable[..., Any], fake_service: FakeAuthService, path: str
) -> None:
    """Service down: the usual 503 message, never a 500."""
    sign_in()
    fake_service.up = False
    response = mounted.post(path, json=GOOD if path.endswith("verify") else {}, headers=JSON_HEADERS)
    assert response.status_code == 503
    assert response.json()["error"] == "service_unavailable"


@pytest.mark.parametrize(
    ("headers", "send_as_json"),
    [
        ({"Origin": "https://evil.test"}, True),
        ({"Origin": "http://testserver.evil.test"}, True),
        ({"Origin": "null"}, True),
        ({"Sec-Fetch-Site": "cross-site"}, True),
        ({"Content-Type": "text/plain", "Origin": "http://testserver"}, False),
        ({"Content-Type": "application/x-www-form-urlencoded"}, False),
    ],
)
def test_cross_site_requests_are_refused(
    mounted: TestClient,
    sign_in: Callable[..., Any],
    fake_service: FakeAuthService,
    headers: dict[str, str],
    send_as_json: bool,
) -> None:
    """CSRF: only JSON bodies from Airflow's own origin; anything else is 403 before the service is asked."""
    sign_in()
    if send_as_json:
        response = mounted.post("/auth/step-up/verify", json=GOOD, headers=headers)
    else:
        response = mounted.post("/auth/step-up/verify", content=b'{"response": {}}', headers=headers)
    assert response.status_code == 403
    assert response.json()["error"] == "csrf_rejected"
    assert fake_service.requests == []
    assert "set-cookie" not in response.headers


def test_same_origin_without_origin_header_is_accepted(
    mounted: TestClient, sign_in: Callable[..., Any]
) -> None:
    """Origin is checked when present; a same-origin JSON request without it still works."""
    sign_in()
    assert mounted.post("/auth/step-up/options", json={}).status_code == 200


def test_unusable_signing_key_is_a_clear_503(
    mounted: TestClient,
    sign_in: Callable[..., Any],
    manager: WebAuthnAuthManager,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Any,
) -> None:
    """Asymmetric Airflow keys that cannot be read: step-up refuses clearly (503), never a 500."""
    sign_in()  # before the change: Airflow signs and checks its own session tokens with that key
    assert mounted.get("/auth/passkeys").status_code == 200
    monkeypatch.setenv("AIRFLOW__API_AUTH__JWT_PRIVATE_KEY_PATH", str(tmp_path / "missing.pem"))
    manager.__dict__.pop("step_up", None)
    for response in (
        mounted.post("/auth/step-up/verify", json=GOOD, headers=JSON_HEADERS),
        mounted.patch("/auth/api/me/passkeys/pk-1", json={"label": "x"}, headers=JSON_HEADERS),
    ):
        assert response.status_code == 503
        assert response.json()["error"] == "step_up_unavailable"
        assert "set-cookie" not in response.headers
