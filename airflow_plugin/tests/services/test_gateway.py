"""The gateway to the auth service: one pooled client, one error table, one token check, and who is
named as the caller (a relay forwards the caller's address; Airflow's own calls forward nothing)."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest

from airflow_webauthn.services.errors import (
    SERVICE_CODES,
    ServiceRefusedError,
    ServiceUnavailableError,
    refusal_from,
)
from airflow_webauthn.services.gateway import Caller, CredentialsMissingError, ServiceGateway

from support import FakeAuthService, make_settings, mint, user_claims

pytestmark = pytest.mark.anyio

BROWSER = Caller(address="203.0.113.9", user_agent="Firefox/130")


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def gateway(service: FakeAuthService, clock: Clock | None = None, credentials: bool = True) -> ServiceGateway:
    from airflow_webauthn.auth_manager import WebAuthnAuthManager

    settings = make_settings()
    manager = WebAuthnAuthManager(settings=settings, service_transport=service.transport())
    return ServiceGateway(
        base_url=settings.service_url,
        timeout_seconds=1,
        credentials=settings.service_credentials if credentials else None,
        token_verifier=manager.token_verifier,
        transport=service.transport(),
        clock=clock or Clock(),
    )


# ---- the one table ----


@pytest.mark.parametrize(("code", "error"), sorted(SERVICE_CODES.items()))
def test_every_service_code_has_one_plugin_error(code: str, error: str) -> None:
    """The service's ``code`` decides the plugin's error, whatever the reason phrase says."""
    refusal = refusal_from(400, {"statusCode": 400, "error": "Teapot", "message": "m", "code": code})
    assert refusal.error == error
    assert refusal.message == "m"


def test_rfc6749_errors_are_read_from_the_token_endpoint() -> None:
    refusal = refusal_from(
        401, {"error": "invalid_client", "error_description": "client authentication failed"}
    )
    assert (refusal.status_code, refusal.error, refusal.message) == (
        401,
        "invalid_client",
        "client authentication failed",
    )


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (429, {"statusCode": 429, "error": "Too Many Requests", "message": "slow down"}, "rate_limited"),
        (413, {"statusCode": 413, "error": "Payload Too Large", "message": "big"}, "request_too_large"),
        (404, {"statusCode": 404, "error": "Not Found", "message": "no route"}, "not_found"),
        (400, None, "invalid_request"),
        (418, {"error": "i_am_a_teapot"}, "request_refused"),
    ],
)
def test_refusals_without_a_code_are_named_by_status(status: int, body: Any, error: str) -> None:
    """No code (throttler, body parser, a proxy): the status decides; a reason phrase never becomes a code."""
    assert refusal_from(status, body).error == error


def test_unknown_codes_and_reason_phrases_are_never_reflected() -> None:
    """A code the table does not know, or any ``error`` text, cannot become the plugin's error."""
    refusal = refusal_from(403, {"error": "<script>", "message": "x", "code": "made_up_by_someone"})
    assert refusal.error == "forbidden"


def test_only_4xx_keep_their_status() -> None:
    assert refusal_from(302, {}).status_code == 502


# ---- Airflow's own credential ----


async def test_airflow_token_is_cached_until_shortly_before_expiry() -> None:
    """One client-credentials grant serves many status reads; a new one is fetched before expiry."""
    service, clock = FakeAuthService(), Clock()
    service.add_user("u-1")
    g = gateway(service, clock)
    for _ in range(5):
        await g.user_status("u-1")
    assert service.admin_tokens_issued == 1
    clock.now += 900 - 29  # within the 30 s renewal margin
    await g.user_status("u-1")
    assert service.admin_tokens_issued == 2


@pytest.mark.parametrize(("scopes", "logged"), [("", True), ("dag:read:tag=etl", True), ("admin", False)])
async def test_a_grant_that_cannot_read_status_is_logged_as_an_error(
    scopes: str, logged: bool, caplog: pytest.LogCaptureFixture
) -> None:
    """A credential granted neither sessions:read nor admin makes every session check fail closed: an error
    line says so. An admin credential (the `airflow webauthn` CLI's) reads status too: no error line for it."""
    g = gateway(FakeAuthService(airflow_scopes=scopes))
    with caplog.at_level(logging.ERROR, logger="airflow_webauthn"):
        assert await g.airflow_scopes() == frozenset(scopes.split())
    assert ("was granted no sessions:read scope" in caplog.text) is logged


async def test_status_reads_need_credentials() -> None:
    """Without service_credentials the error names the missing setting."""
    with pytest.raises(CredentialsMissingError, match="service_credentials"):
        await gateway(FakeAuthService(), credentials=False).user_status("u-1")


async def test_missing_user_is_none_and_refusals_keep_the_service_message() -> None:
    service = FakeAuthService()
    g = gateway(service)
    assert await g.user_status("nope") is None
    with pytest.raises(ServiceRefusedError) as info:
        await g.admin("POST", "/invites", json={})
    assert (info.value.status_code, info.value.error) == (400, "invalid_request")
    assert "username should not be empty" in info.value.message


@pytest.mark.parametrize("failure", ["down", "502", "not-json"])
async def test_outage_5xx_and_garbage_are_unavailable(failure: str) -> None:
    """Connection failures, 5xx and unparseable answers are 'unavailable', distinct from refusals."""
    service = FakeAuthService()
    service.add_user("u-1")
    if failure == "down":
        service.up = False
    elif failure == "502":
        service.reply("GET", "/v1/admin/users/u-1", 502)
    else:
        service.reply("GET", "/v1/admin/users/u-1", 200, "<html>proxy</html>")
    with pytest.raises(ServiceUnavailableError):
        await gateway(service).user_status("u-1")


async def test_status_reads_forward_no_address() -> None:
    """Airflow's server-to-server calls carry no X-Forwarded-For: the service limits them by client id,
    never in a bucket a caller's flood could fill."""
    service = FakeAuthService()
    service.add_user("u-1")
    g = gateway(service)
    await g.user_status("u-1")
    await g.service_accounts()
    assert service.requests
    assert all("x-forwarded-for" not in request.headers for request in service.requests)


# ---- relays ----


async def test_relays_forward_the_callers_address_and_user_agent() -> None:
    """Ceremony relays tell the service who the browser is (audit log, and its own rate-limit bucket)."""
    service = FakeAuthService()
    reply = await gateway(service).relay("/v1/authentication/options", {}, caller=BROWSER)
    assert reply.status_code == 200
    sent = service.last("/v1/authentication/options")
    assert sent.headers["x-forwarded-for"] == "203.0.113.9"
    assert sent.headers["user-agent"] == "Firefox/130"


async def test_client_credentials_relay_forwards_the_address_and_keeps_rfc6749_errors() -> None:
    """POST /auth/token: a wrong secret is invalid_client, and the flood lands in the caller's bucket."""
    service = FakeAuthService()
    with pytest.raises(ServiceRefusedError) as info:
        await gateway(service).client_credentials(client_id="ci-bot", client_secret="wrong", caller=BROWSER)
    assert (info.value.status_code, info.value.error) == (401, "invalid_client")
    assert service.last("/v1/oauth/token").headers["x-forwarded-for"] == "203.0.113.9"


# ---- the one token check ----


async def test_verify_service_token_returns_claims() -> None:
    service = FakeAuthService()
    verified = await gateway(service).verify_service_token(
        {"access_token": mint(service.keys[0]), "expires_in": 600}
    )
    assert verified.claims["sub"] == user_claims()["sub"]
    assert verified.expires_in == 600


async def test_verify_service_token_refuses_what_does_not_verify() -> None:
    """A token signed by a key the service does not publish is a 502, never trusted."""
    from support import ed25519_key

    service = FakeAuthService()
    with pytest.raises(ServiceRefusedError) as info:
        await gateway(service).verify_service_token({"access_token": mint(ed25519_key("other"))})
    assert (info.value.status_code, info.value.error) == (502, "invalid_service_token")


@pytest.mark.parametrize("body", [None, {}, {"access_token": 5}])
async def test_an_answer_without_a_token_is_unavailable(body: Any) -> None:
    with pytest.raises(ServiceUnavailableError):
        await gateway(FakeAuthService()).verify_service_token(body)


async def test_keys_unreachable_is_unavailable() -> None:
    service = FakeAuthService()
    token = mint(service.keys[0])
    service.up = False
    with pytest.raises(ServiceUnavailableError):
        await gateway(service).verify_service_token({"access_token": token})


# ---- one pooled client, tied to the app ----


async def test_one_pooled_client_is_reused_and_closed_with_the_app() -> None:
    """Every call goes through the same client; leaving the app's lifespan closes it."""
    service = FakeAuthService()
    service.add_user("u-1")
    g = gateway(service)
    async with g.lifespan():
        first = g.client
        await g.user_status("u-1")
        await g.relay("/v1/authentication/options", {}, caller=BROWSER)
        assert g.client is first
    assert first.is_closed


def test_the_gateway_is_the_only_http_client_in_the_plugin() -> None:
    """No per-call clients, no sync client: only gateway.py constructs an httpx client for the service.

    The one other client is ``airflow webauthn login``'s, on a person's terminal: it talks to Airflow's
    public URL (the device flow), never to the service, and lives for that one command."""
    from pathlib import Path

    import airflow_webauthn

    root = Path(airflow_webauthn.__file__).parent
    makers = [
        path.relative_to(root).as_posix()
        for path in root.rglob("*.py")
        if "httpx.AsyncClient(" in path.read_text() or "httpx.Client(" in path.read_text()
    ]
    assert sorted(makers) == ["cli/device_login.py", "services/gateway.py"]


def test_httpx_mock_transport_is_async() -> None:
    assert isinstance(FakeAuthService().transport(), httpx.AsyncBaseTransport)
