"""``POST /auth/token``: client credentials in, a service access token out (201)."""

from __future__ import annotations

import base64

import pytest
from fastapi.testclient import TestClient

from airflow_webauthn.auth_manager import WebAuthnAuthManager

from support import FakeAuthService, service_account_claims

pytestmark = pytest.mark.anyio


@pytest.fixture
def client(manager: WebAuthnAuthManager) -> TestClient:
    return TestClient(manager.get_fastapi_app())


async def test_valid_credentials_give_a_token_the_api_accepts(
    client: TestClient, manager: WebAuthnAuthManager
) -> None:
    """The returned token is accepted by get_user_from_token as the service account."""
    response = client.post(
        "/token",
        json={"grant_type": "client_credentials", "client_id": "ci-bot", "client_secret": "bot-secret"},
    )
    assert response.status_code == 201
    user = await manager.get_user_from_token(response.json()["access_token"])
    assert (user.username, user.role, user.is_service_account) == ("ci-bot", "OP", True)


def test_grant_type_is_optional(client: TestClient) -> None:
    """{client_id, client_secret} alone is enough."""
    assert (
        client.post("/token", json={"client_id": "ci-bot", "client_secret": "bot-secret"}).status_code == 201
    )


def test_wrong_secret_is_401(client: TestClient) -> None:
    """Bad client credentials are a 401 with the service's reason."""
    response = client.post("/token", json={"client_id": "ci-bot", "client_secret": "nope"})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_account_without_role_is_403(client: TestClient, fake_service: FakeAuthService) -> None:
    """Valid credentials for an account in no mapped group: 403, and no token handed out."""
    fake_service.token_claims = service_account_claims(groups=["nothing"])
    response = client.post("/token", json={"client_id": "ci-bot", "client_secret": "bot-secret"})
    assert response.status_code == 403
    assert "access_token" not in response.json()


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({}, "invalid_request"),
        ({"client_id": "x"}, "invalid_request"),
        ({"grant_type": "password", "client_id": "x", "client_secret": "y"}, "unsupported_grant_type"),
    ],
)
def test_malformed_json_requests_are_rfc6749_400s(
    client: TestClient, fake_service: FakeAuthService, body: dict[str, str], error: str
) -> None:
    """Missing fields or other grant types are refused up front as RFC 6749 §5.2 errors."""
    response = client.post("/token", json=body)
    assert response.status_code == 400
    assert response.json()["error"] == error
    assert response.json()["error_description"]
    assert fake_service.requests == []


def test_service_down_is_503(client: TestClient, fake_service: FakeAuthService) -> None:
    """Service outage: 503 with a clear message."""
    fake_service.up = False
    response = client.post("/token", json={"client_id": "ci-bot", "client_secret": "bot-secret"})
    assert response.status_code == 503
    assert response.json()["error"] == "temporarily_unavailable"
    assert "unavailable" in response.json()["error_description"]


# ---- the OAuth form body (RFC 6749 §4.4.2), client authenticated by HTTP Basic or form fields ----

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _basic(client_id: str, secret: str) -> dict[str, str]:
    from urllib.parse import quote_plus

    encoded = base64.b64encode(f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()).decode()
    return {"Authorization": f"Basic {encoded}", **FORM}


async def test_form_body_with_http_basic_gives_a_token(
    client: TestClient, manager: WebAuthnAuthManager
) -> None:
    """What ``curl -u id:secret -d grant_type=client_credentials`` sends is accepted."""
    response = client.post(
        "/token", content="grant_type=client_credentials", headers=_basic("ci-bot", "bot-secret")
    )
    assert response.status_code == 201, response.text
    user = await manager.get_user_from_token(response.json()["access_token"])
    assert user.username == "ci-bot"


def test_form_body_with_client_id_and_secret_gives_a_token(client: TestClient) -> None:
    """client_id and client_secret may be form fields instead (RFC 6749 §2.3.1)."""
    response = client.post(
        "/token",
        content="grant_type=client_credentials&client_id=ci-bot&client_secret=bot-secret",
        headers=FORM,
    )
    assert response.status_code == 201, response.text


def test_wrong_basic_secret_is_401_with_a_basic_challenge(client: TestClient) -> None:
    """A client that authenticated with Basic and failed gets 401 invalid_client and WWW-Authenticate."""
    response = client.post(
        "/token", content="grant_type=client_credentials", headers=_basic("ci-bot", "nope")
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response.headers["www-authenticate"].startswith("Basic")
    assert "access_token" not in response.text


@pytest.mark.parametrize(
    ("form", "basic", "error"),
    [
        ("client_id=ci-bot&client_secret=bot-secret", False, "invalid_request"),
        ("grant_type=password&username=a&password=b", True, "unsupported_grant_type"),
        ("grant_type=client_credentials&client_id=ci-bot", True, "invalid_request"),
        ("grant_type=client_credentials&grant_type=client_credentials", True, "invalid_request"),
        ("grant_type=client_credentials", False, "invalid_request"),
    ],
    ids=[
        "no-grant-type",
        "password-grant",
        "two-client-auth-methods",
        "repeated-parameter",
        "no-credentials",
    ],
)
def test_malformed_form_requests_are_rfc6749_400s(
    client: TestClient, fake_service: FakeAuthService, form: str, basic: bool, error: str
) -> None:
    """A form body must name the grant, authenticate the client exactly one way, repeat nothing."""
    headers = _basic("ci-bot", "bot-secret") if basic else FORM
    response = client.post("/token", content=form, headers=headers)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == error
    assert fake_service.requests == []


@pytest.mark.parametrize(
    "authorization", ["Basic !!!notbase64", "Basic " + base64.b64encode(b"no-colon").decode(), "Bearer x"]
)
def test_unreadable_authorization_is_400(
    client: TestClient, fake_service: FakeAuthService, authorization: str
) -> None:
    """Basic credentials that cannot be read (or another scheme) are invalid_request, never a 5xx."""
    response = client.post(
        "/token", content="grant_type=client_credentials", headers={**FORM, "Authorization": authorization}
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert fake_service.requests == []


def test_cross_site_form_post_is_refused(client: TestClient, fake_service: FakeAuthService) -> None:
    """A page on another site posting the form (its Origin gives it away) is 403 before the service."""
    response = client.post(
        "/token",
        content="grant_type=client_credentials&client_id=ci-bot&client_secret=bot-secret",
        headers={**FORM, "Origin": "https://evil.test"},
    )
    assert response.status_code == 403
    assert response.json()["error"] == "csrf_rejected"
    assert fake_service.requests == []
