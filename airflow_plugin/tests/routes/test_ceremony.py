"""The ceremony proxy and the login finish: cookie handling, redirects, error mapping."""

from __future__ import annotations

import jwt
import pytest
from fastapi.testclient import TestClient

from airflow_webauthn.auth_manager import WebAuthnAuthManager

from support import ISSUER, FakeAuthService, ed25519_key, user_claims

GOOD = {"response": {"id": "good-credential", "type": "public-key"}}


@pytest.fixture
def client(manager: WebAuthnAuthManager) -> TestClient:
    return TestClient(manager.get_fastapi_app())


def test_login_sets_airflow_cookie_and_never_exposes_service_jwt(
    client: TestClient, manager: WebAuthnAuthManager, fake_service: FakeAuthService
) -> None:
    """After a good assertion the browser gets Airflow's httponly cookie, not the service's JWT."""
    response = client.post("/webauthn/authentication/verify", json={**GOOD, "next": "/dags"})
    assert response.status_code == 200
    assert response.json() == {"redirect": "/dags"}
    assert "access_token" not in response.text
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("_token=")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Path=/" in cookie
    assert "Secure" not in cookie  # plain http in this test
    token = cookie.split(";")[0].removeprefix("_token=")
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims.get("iss") != ISSUER  # minted by Airflow, not the service
    assert jwt.get_unverified_header(token).get("typ") != "at+jwt"
    assert (claims["sub"], claims["role"], claims["passkey_id"]) == (user_claims()["sub"], "USER", "pk-1")


def test_policy_notice_reaches_the_login_page(client: TestClient, fake_service: FakeAuthService) -> None:
    """A passkey in its authenticator-policy grace period signs in, and the page gets the notice to show."""
    message = "This passkey is not allowed for your role after 2026-11-14 (synced passkeys are not allowed for your role)"
    fake_service.login_policy_notice = {
        "reason": "synced_passkey",
        "message": message,
        "notAllowedAfter": "2026-11-14T00:00:00.000Z",
    }
    response = client.post("/webauthn/authentication/verify", json={**GOOD, "next": "/dags"})
    assert response.status_code == 200
    assert response.json() == {"redirect": "/dags", "notice": message}
    assert response.headers["set-cookie"].startswith("_token=")


def test_cookie_is_secure_over_https(manager: WebAuthnAuthManager) -> None:
    """On https the session cookie carries the Secure flag."""
    client = TestClient(manager.get_fastapi_app(), base_url="https://airflow.test")
    response = client.post("/webauthn/authentication/verify", json=GOOD)
    assert "Secure" in response.headers["set-cookie"]


@pytest.mark.parametrize("target", ["//evil.test/x", "https://evil.test/", "javascript:alert(1)", "\\\\evil"])
def test_unsafe_next_falls_back_to_airflow(client: TestClient, target: str) -> None:
    """An attacker-supplied next cannot send a freshly signed-in user to another site."""
    response = client.post("/webauthn/authentication/verify", json={**GOOD, "next": target})
    assert response.json() == {"redirect": "/"}


def test_same_origin_absolute_next_is_kept(client: TestClient) -> None:
    """An absolute URL on the request's own origin is allowed."""
    response = client.post("/webauthn/authentication/verify", json={**GOOD, "next": "http://testserver/dags"})
    assert response.json() == {"redirect": "http://testserver/dags"}


def test_user_without_role_gets_403_and_no_cookie(client: TestClient, fake_service: FakeAuthService) -> None:
    """A valid passkey for a user in no mapped group: clear 403 message, no session."""
    fake_service.login_claims = user_claims(groups=["strangers"])
    response = client.post("/webauthn/authentication/verify", json=GOOD)
    assert response.status_code == 403
    assert response.json()["error"] == "no_role"
    assert "no Airflow role" in response.json()["detail"]
    assert "set-cookie" not in response.headers


def test_service_token_that_does_not_verify_is_not_trusted(
    client: TestClient, fake_service: FakeAuthService
) -> None:
    """Even from the service, a token that fails verification does not open a session."""
    fake_service.login_key = ed25519_key(kid=fake_service.keys[0].kid)  # wrong key, right kid
    response = client.post("/webauthn/authentication/verify", json=GOOD)
    assert response.status_code == 502
    assert "set-cookie" not in response.headers


def test_refused_assertion_is_relayed_as_4xx(client: TestClient) -> None:
    """The service's refusal reaches the page as the same 4xx with its reason, and no cookie."""
    response = client.post("/webauthn/authentication/verify", json={"response": {"id": "bad"}})
    assert response.status_code == 401
    # The service's ``code`` names the refusal (never its HTTP reason phrase).
    assert response.json() == {"detail": "passkey not recognised", "error": "authentication_failed"}
    assert "set-cookie" not in response.headers


@pytest.mark.parametrize(
    "path",
    [
        "/webauthn/authentication/options",
        "/webauthn/authentication/verify",
        "/webauthn/registration/options",
        "/webauthn/registration/verify",
    ],
)
def test_service_outage_is_503_with_message(
    client: TestClient, fake_service: FakeAuthService, path: str
) -> None:
    """If the auth service is down every ceremony call answers 503 with a readable message."""
    fake_service.up = False
    body = GOOD if path.endswith("verify") else {}
    response = client.post(path, json=body)
    assert response.status_code == 503
    assert response.json()["error"] == "service_unavailable"
    assert "unavailable" in response.json()["detail"]


def test_options_are_proxied_with_client_details(client: TestClient, fake_service: FakeAuthService) -> None:
    """Options come from the service unchanged; the browser's IP and user agent are forwarded."""
    response = client.post(
        "/webauthn/authentication/options", json={"username": "ada"}, headers={"User-Agent": "UA/1"}
    )
    assert response.status_code == 200
    assert response.json()["challenge"] == "Y2hhbGxlbmdl"
    assert response.headers["cache-control"] == "no-store"
    sent = fake_service.last("/v1/authentication/options")
    assert sent.headers["user-agent"] == "UA/1"
    assert sent.headers["x-forwarded-for"] == "testclient"


def test_next_is_not_forwarded_to_the_service(client: TestClient, fake_service: FakeAuthService) -> None:
    """Only the assertion goes to the service; Airflow keeps its own redirect target."""
    client.post("/webauthn/authentication/verify", json={**GOOD, "next": "/x"})
    assert b"next" not in fake_service.last("/v1/authentication/verify").content


def test_registration_flow_is_relayed(client: TestClient) -> None:
    """Invite-based registration: options with a valid invite, then a 201 from verify."""
    assert (
        client.post("/webauthn/registration/options", json={"inviteToken": "valid-invite"}).status_code == 200
    )
    bad = client.post("/webauthn/registration/options", json={"inviteToken": "expired"})
    assert bad.status_code == 400
    assert "invite" in bad.json()["detail"]
    saved = client.post("/webauthn/registration/verify", json={"response": {"id": "x"}, "label": "Laptop"})
    assert saved.status_code == 201
    assert saved.json()["label"] == "Laptop"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/webauthn/authentication/options", {"username": "x" * 1000}),
        ("/webauthn/authentication/options", {"unexpected": True}),
        ("/webauthn/authentication/verify", {}),
        ("/webauthn/registration/verify", {"response": "not-an-object"}),
    ],
)
def test_malformed_bodies_are_422_and_not_forwarded(
    client: TestClient, fake_service: FakeAuthService, path: str, body: dict[str, object]
) -> None:
    """Bad input is refused by Airflow before reaching the service."""
    assert client.post(path, json=body).status_code == 422
    assert fake_service.requests == []
