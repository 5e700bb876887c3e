"""The auth service client: admin token caching, error mapping, outage handling."""

from __future__ import annotations

import httpx
import pytest

from airflow_webauthn.services.service_client import (
    AuthServiceClient,
    AuthServiceError,
    AuthServiceNotConfiguredError,
    AuthServiceUnavailableError,
)

from support import FakeAuthService, make_settings

pytestmark = pytest.mark.anyio


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def client(
    service: FakeAuthService, clock: Clock | None = None, credentials: bool = True
) -> AuthServiceClient:
    settings = make_settings()
    return AuthServiceClient(
        base_url=settings.service_url,
        timeout_seconds=1,
        credentials=settings.service_credentials if credentials else None,
        transport=service.transport(),
        async_transport=service.transport(),
        clock=clock or Clock(),
    )


def test_admin_token_is_cached_until_shortly_before_expiry() -> None:
    """One client-credentials grant serves many admin calls; a new one is fetched before expiry."""
    service, clock = FakeAuthService(), Clock()
    service.add_user("u-1")
    c = client(service, clock)
    for _ in range(5):
        c.get_user("u-1")
    assert service.admin_tokens_issued == 1
    clock.now += 900 - 29  # within the 30 s renewal margin
    c.get_user("u-1")
    assert service.admin_tokens_issued == 2


def test_admin_calls_need_credentials() -> None:
    """Without service_credentials the error names the missing setting."""
    with pytest.raises(AuthServiceNotConfiguredError, match="service_credentials"):
        client(FakeAuthService(), credentials=False).get_user("u-1")


def test_missing_user_is_none_and_refusals_are_errors() -> None:
    """404 on a user means gone; other 4xx keep the service's message."""
    service = FakeAuthService()
    c = client(service)
    assert c.get_user("nope") is None
    with pytest.raises(AuthServiceError) as info:
        c.admin("POST", "/invites", json={})
    assert info.value.status_code == 400
    assert "username should not be empty" in info.value.message


def test_outage_and_5xx_are_unavailable() -> None:
    """Connection failures and 5xx answers are 'unavailable', distinct from refusals."""
    service = FakeAuthService(up=False)
    with pytest.raises(AuthServiceUnavailableError):
        client(service).get_user("u-1")
    failing = AuthServiceClient(
        base_url="http://auth.test",
        timeout_seconds=1,
        credentials=make_settings().service_credentials,
        transport=httpx.MockTransport(lambda request: httpx.Response(502)),
    )
    with pytest.raises(AuthServiceUnavailableError):
        failing.admin("GET", "/users")


async def test_forward_passes_client_ip_and_user_agent() -> None:
    """The ceremony proxy tells the service who the browser is (for its audit log and rate limits)."""
    service = FakeAuthService()
    reply = await client(service).forward(
        "/v1/authentication/options", {}, client_ip="203.0.113.9", user_agent="Firefox/130"
    )
    assert reply.status_code == 200
    sent = service.last("/v1/authentication/options")
    assert sent.headers["x-forwarded-for"] == "203.0.113.9"
    assert sent.headers["user-agent"] == "Firefox/130"


async def test_client_credentials_refusal_keeps_rfc6749_error() -> None:
    """A wrong client secret surfaces as the service's invalid_client error."""
    with pytest.raises(AuthServiceError) as info:
        await client(FakeAuthService()).client_credentials_token(client_id="ci-bot", client_secret="wrong")
    assert (info.value.status_code, info.value.error) == (401, "invalid_client")
