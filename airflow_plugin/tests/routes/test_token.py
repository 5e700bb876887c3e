"""``POST /auth/token``: client credentials in, a service access token out (201)."""

from __future__ import annotations

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
    "body",
    [{}, {"client_id": "x"}, {"grant_type": "password", "client_id": "x", "client_secret": "y"}],
)
def test_malformed_requests_are_422(client: TestClient, body: dict[str, str]) -> None:
    """Missing fields or other grant types are refused up front."""
    assert client.post("/token", json=body).status_code == 422


def test_service_down_is_503(client: TestClient, fake_service: FakeAuthService) -> None:
    """Service outage: 503 with a clear message."""
    fake_service.up = False
    response = client.post("/token", json={"client_id": "ci-bot", "client_secret": "bot-secret"})
    assert response.status_code == 503
    assert "unavailable" in response.json()["detail"]
