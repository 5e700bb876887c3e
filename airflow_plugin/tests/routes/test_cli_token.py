"""``POST /auth/token/cli`` (airflowctl's sign-in): a person's one-time code or a service account's
secret in, Airflow's own token with the CLI lifetime out (201), re-checked like a browser session."""

from __future__ import annotations

import jwt
import pytest
from airflow.configuration import conf
from fastapi.testclient import TestClient

from airflow_webauthn.auth_manager import WebAuthnAuthManager
from airflow_webauthn.services.session_end import SessionEndedError

from support import GOOD_CLI_CODE, SERVICE_ACCOUNT_ID, FakeAuthService

pytestmark = pytest.mark.anyio


@pytest.fixture
def client(manager: WebAuthnAuthManager) -> TestClient:
    return TestClient(manager.get_fastapi_app())


def lifetime(token: str) -> int:
    claims = jwt.decode(token, options={"verify_signature": False})
    return int(claims["exp"]) - int(claims["iat"])


async def test_a_one_time_code_gives_an_airflow_token_naming_the_command_line(
    client: TestClient, manager: WebAuthnAuthManager
) -> None:
    """The token is Airflow's own (not the service's), lasts jwt_cli_expiration_time, and carries the
    command line, so revoking it on the Passkeys page ends it on the next re-check."""
    response = client.post("/token/cli", json={"username": "ada", "password": GOOD_CLI_CODE})
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    token = response.json()["access_token"]
    assert not manager.token_verifier.is_ours(token)
    assert lifetime(token) == conf.getint("api_auth", "jwt_cli_expiration_time")
    user = await manager.get_user_from_token(token)
    assert (user.username, user.cli_sign_in_id, user.passkey_id) == ("ada", "cli-1", "pk-1")


def test_a_used_or_wrong_code_is_a_401_airflowctl_prints(client: TestClient) -> None:
    """airflowctl shows a JSON body only when the content type is exactly application/json."""
    assert client.post("/token/cli", json={"username": "ada", "password": GOOD_CLI_CODE}).status_code == 201
    again = client.post("/token/cli", json={"username": "ada", "password": GOOD_CLI_CODE})
    assert again.status_code == 401
    assert again.headers["content-type"] == "application/json"
    assert again.json()["error"] == "invalid_cli_code"
    assert "wrong, used, expired" in again.json()["detail"]


def test_a_code_never_reaches_the_client_credentials_grant_nor_a_secret_the_code_endpoint(
    client: TestClient, fake_service: FakeAuthService
) -> None:
    """The password's shape picks the path; a secret is never sent where codes are checked."""
    client.post("/token/cli", json={"username": "ci-bot", "password": "afcli_" + "x" * 32})
    client.post("/token/cli", json={"username": "ada", "password": "bot-secret"})
    assert [
        r.url.path for r in fake_service.requests if r.url.path in {"/v1/cli/token", "/v1/oauth/token"}
    ] == [
        "/v1/cli/token",
        "/v1/oauth/token",
    ]
    assert b"bot-secret" not in fake_service.sent_to("POST", "/v1/cli/token")[0].content


async def test_a_service_account_signs_in_with_its_secret_and_is_refused_once_disabled(
    client: TestClient, manager: WebAuthnAuthManager, fake_service: FakeAuthService
) -> None:
    """Client credentials behind it; the Airflow token is checked against the service's accounts, so
    disabling the account ends it (not only its 15-minute service tokens)."""
    response = client.post("/token/cli", json={"username": "ci-bot", "password": "bot-secret"})
    assert response.status_code == 201, response.text
    token = response.json()["access_token"]
    assert lifetime(token) == conf.getint("api_auth", "jwt_cli_expiration_time")
    user = await manager.get_user_from_token(token)
    assert (user.username, user.is_service_account) == ("ci-bot", True)
    fake_service.service_accounts[SERVICE_ACCOUNT_ID]["disabled"] = True
    fresh = WebAuthnAuthManager(settings=manager.settings, service_transport=fake_service.transport())
    with pytest.raises(SessionEndedError, match="the service account is disabled") as ended:
        await fresh.get_user_from_token(token)
    assert ended.value.status_code == 401


def test_a_wrong_secret_is_a_401(client: TestClient) -> None:
    response = client.post("/token/cli", json={"username": "ci-bot", "password": "nope"})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


@pytest.mark.parametrize("body", [{}, {"username": "ada"}, {"username": "ada", "password": "x", "extra": 1}])
def test_malformed_bodies_are_refused_up_front(client: TestClient, body: dict[str, object]) -> None:
    assert client.post("/token/cli", json=body).status_code == 422
