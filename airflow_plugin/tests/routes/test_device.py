"""RFC 8628 on Airflow's origin: ``/auth/device/code`` and ``/auth/device/token`` relay the OAuth form
(client authentication passed through, the caller's address forwarded), refusals stay RFC 6749 JSON,
and the token a command line gets is AIRFLOW's own with the CLI lifetime, never the service's."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

import jwt
import pytest
from airflow.configuration import conf

from airflow_webauthn.auth_manager import WebAuthnAuthManager

from support import FakeAuthService, mint, user_claims

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

pytestmark = pytest.mark.anyio

GRANT = "urn:ietf:params:oauth:grant-type:device_code"
STARTED = {
    "device_code": "d" * 43,
    "user_code": "BCDF-GHJK",
    "verification_uri": "http://testserver/auth/device",
    "verification_uri_complete": "http://testserver/auth/device?user_code=BCDF-GHJK",
    "expires_in": 600,
    "interval": 5,
}
POLL = {"grant_type": GRANT, "device_code": "d" * 43, "client_id": "airflow-cli"}


def form_sent(fake_service: FakeAuthService, path: str) -> dict[str, list[str]]:
    return parse_qs(fake_service.last(path).content.decode(), keep_blank_values=True)


def test_device_code_relays_the_form_and_the_answer_uncached(
    mounted: TestClient, fake_service: FakeAuthService
) -> None:
    """The service's RFC 8628 answer comes back as is; the caller's User-Agent goes on to the service."""
    fake_service.reply("POST", "/v1/oauth/device_authorization", 200, STARTED)
    response = mounted.post(
        "/auth/device/code", data={"client_id": "airflow-cli", "scope": ""}, headers={"User-Agent": "term/1"}
    )
    assert response.status_code == 200, response.text
    assert response.json() == STARTED
    assert response.headers["cache-control"] == "no-store"
    assert form_sent(fake_service, "/v1/oauth/device_authorization") == {
        "client_id": ["airflow-cli"],
        "scope": [""],
    }
    assert fake_service.last("/v1/oauth/device_authorization").headers["user-agent"] == "term/1"


def test_a_confidential_clients_basic_credentials_pass_through_and_a_refusal_stays_oauth_json(
    mounted: TestClient, fake_service: FakeAuthService
) -> None:
    """Airflow never reads the secret; the service's invalid_client is a 401 with a Basic challenge."""
    fake_service.reply(
        "POST",
        "/v1/oauth/device_authorization",
        401,
        {"error": "invalid_client", "error_description": "client authentication failed"},
    )
    basic = "Basic " + base64.b64encode(b"agent-1:wrong").decode()
    response = mounted.post(
        "/auth/device/code", data={"client_id": "agent-1"}, headers={"Authorization": basic}
    )
    assert response.status_code == 401
    assert response.json() == {"error": "invalid_client", "error_description": "client authentication failed"}
    assert response.headers["www-authenticate"] == 'Basic realm="airflow"'
    assert fake_service.last("/v1/oauth/device_authorization").headers["authorization"] == basic


ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def test_a_client_assertion_passes_through_unchanged_to_both_endpoints(
    mounted: TestClient, fake_service: FakeAuthService
) -> None:
    """private_key_jwt (RFC 7523): Airflow relays client_assertion_type and client_assertion as sent, without
    a client_id (the assertion's sub names the client); the service alone verifies the signature and the jti."""
    assertion = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJzYV9hZ2VudCJ9.c2ln"
    auth = {"client_assertion_type": ASSERTION_TYPE, "client_assertion": assertion}
    fake_service.reply("POST", "/v1/oauth/device_authorization", 200, STARTED)
    response = mounted.post("/auth/device/code", data={"scope": "dag:read:id=finance_*", **auth})
    assert response.status_code == 200, response.text
    assert form_sent(fake_service, "/v1/oauth/device_authorization") == {
        "scope": ["dag:read:id=finance_*"],
        "client_assertion_type": [ASSERTION_TYPE],
        "client_assertion": [assertion],
    }
    fake_service.reply(
        "POST", "/v1/oauth/token", 400, {"error": "authorization_pending", "error_description": "wait"}
    )
    poll = mounted.post("/auth/device/token", data={"grant_type": GRANT, "device_code": "d" * 43, **auth})
    assert poll.json()["error"] == "authorization_pending"
    assert form_sent(fake_service, "/v1/oauth/token") == {
        "grant_type": [GRANT],
        "device_code": ["d" * 43],
        "client_assertion_type": [ASSERTION_TYPE],
        "client_assertion": [assertion],
    }


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({}, "invalid_request"),
        ({"client_id": "airflow-cli", "device_code": "x"}, "unsupported_grant_type"),
        ({"client_id": "airflow-cli", "grant_type": "client_credentials"}, "unsupported_grant_type"),
        ({"client_id": "airflow-cli", "grant_type": GRANT}, "invalid_request"),
    ],
)
def test_bad_token_requests_are_refused_before_the_service_is_asked(
    mounted: TestClient, fake_service: FakeAuthService, data: dict[str, str], error: str
) -> None:
    response = mounted.post("/auth/device/token", data=data)
    assert response.status_code == 400
    assert response.json()["error"] == error
    assert fake_service.sent_to("POST", "/v1/oauth/token") == []


def test_json_bodies_and_repeated_parameters_are_refused(
    mounted: TestClient, fake_service: FakeAuthService
) -> None:
    assert (
        mounted.post("/auth/device/code", json={"client_id": "airflow-cli"}).json()["error"]
        == "invalid_request"
    )
    repeated = mounted.post(
        "/auth/device/code",
        content="client_id=airflow-cli&client_id=other",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert repeated.status_code == 400
    assert fake_service.sent_to("POST", "/v1/oauth/device_authorization") == []


@pytest.mark.parametrize(
    "error", ["authorization_pending", "slow_down", "expired_token", "access_denied", "invalid_grant"]
)
def test_polling_errors_are_relayed_as_rfc6749_json_with_status_400(
    mounted: TestClient, fake_service: FakeAuthService, error: str
) -> None:
    fake_service.device_answers.append(error)
    response = mounted.post("/auth/device/token", data=POLL)
    assert response.status_code == 400
    assert response.json()["error"] == error
    assert response.headers["cache-control"] == "no-store"


async def test_an_approved_request_gets_an_airflow_token_naming_the_command_line(
    mounted: TestClient, manager: WebAuthnAuthManager, fake_service: FakeAuthService
) -> None:
    """RFC 6749 §5.1; the token is Airflow's (not the service's), lasts jwt_cli_expiration_time and names
    the command line, so the Passkeys page and re-checks treat it like a one-time-code sign-in."""
    fake_service.device_answers.extend(["authorization_pending", "approved"])
    assert mounted.post("/auth/device/token", data=POLL).json()["error"] == "authorization_pending"
    response = mounted.post("/auth/device/token", data=POLL)
    assert response.status_code == 200, response.text
    body = response.json()
    lifetime = conf.getint("api_auth", "jwt_cli_expiration_time")
    assert (body["token_type"], body["expires_in"]) == ("Bearer", lifetime)
    assert response.headers["cache-control"] == "no-store"
    token = body["access_token"]
    assert not manager.token_verifier.is_ours(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert int(claims["exp"]) - int(claims["iat"]) == lifetime
    user = await manager.get_user_from_token(token)
    assert (user.username, user.cli_sign_in_id) == ("ada", "cli-device")
    assert form_sent(fake_service, "/v1/oauth/token")["grant_type"] == [GRANT]


def delegated_answer(fake_service: FakeAuthService, **overrides: object) -> dict[str, object]:
    claims = {
        **user_claims(amr=["hwk", "user"]),
        "client_id": "sa_copilot",
        "act": {"sub": "sa_copilot"},
        "agent_name": "copilot",
        "delegation_id": "d-1",
        "scope": "dag:trigger:id=finance_*",
        **overrides,
    }
    claims = {name: value for name, value in claims.items() if value is not None}
    return {
        "access_token": mint(fake_service.keys[0], claims),
        "token_type": "Bearer",
        "expires_in": 300,
        "scope": "dag:trigger:id=finance_*",
        "refresh_token": "rt-1",
        "extra": "not relayed",
    }


async def test_an_agents_approved_request_gets_the_services_delegated_token(
    mounted: TestClient, manager: WebAuthnAuthManager, fake_service: FakeAuthService
) -> None:
    """An agent's answer is relayed, not turned into Airflow's own JWT: the short-lived delegated token
    (honoured by the REST API within its scope) and the refresh token the agent renews it with."""
    answer = delegated_answer(fake_service)
    fake_service.reply("POST", "/v1/oauth/token", 200, answer)
    response = mounted.post("/auth/device/token", data=POLL)
    assert response.status_code == 200, response.text
    assert response.json() == {
        name: answer[name] for name in ("access_token", "token_type", "expires_in", "scope", "refresh_token")
    }
    assert response.headers["cache-control"] == "no-store"
    assert manager.token_verifier.is_ours(response.json()["access_token"])


@pytest.mark.parametrize("broken", [{"delegation_id": None}, {"scope": "everything"}])
def test_a_malformed_delegated_answer_gives_no_token(
    mounted: TestClient, fake_service: FakeAuthService, broken: dict[str, object]
) -> None:
    fake_service.reply("POST", "/v1/oauth/token", 200, delegated_answer(fake_service, **broken))
    response = mounted.post("/auth/device/token", data=POLL)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert "access_token" not in response.json()


def test_a_person_without_a_role_gets_no_token(
    mounted: TestClient, fake_service: FakeAuthService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The service approved, but Airflow maps no role: access_denied, no token."""
    fake_service.device_answers.append("approved")
    from airflow_webauthn.services import login
    from airflow_webauthn.services.users import NoRoleError

    def no_role(*args: object, **kwargs: object) -> None:
        raise NoRoleError("ada")

    monkeypatch.setattr(login, "user_from_service_claims", no_role)
    response = mounted.post("/auth/device/token", data=POLL)
    assert response.status_code == 403
    assert response.json()["error"] == "access_denied"
    assert "access_token" not in response.json()


def test_the_service_down_is_temporarily_unavailable(
    mounted: TestClient, fake_service: FakeAuthService
) -> None:
    fake_service.up = False
    response = mounted.post("/auth/device/token", data=POLL)
    assert response.status_code == 503
    assert response.json()["error"] == "temporarily_unavailable"
