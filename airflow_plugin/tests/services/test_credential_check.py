"""The api-server's start-up check of Airflow's own credential: without ``sessions:read`` it does not start
(one-line reason), with ``admin`` it warns loudly, and a service that is merely down does not make Airflow
unbootable (a loud warning; sessions fail closed until the service answers)."""

from __future__ import annotations

import logging

import pytest

from airflow_webauthn.auth_manager import WebAuthnAuthManager
from airflow_webauthn.config import WebAuthnConfigError

from support import ADMIN_CLIENT_ID, FakeAuthService, make_settings


def _manager(service: FakeAuthService, **settings: str) -> WebAuthnAuthManager:
    return WebAuthnAuthManager(settings=make_settings(**settings), service_transport=service.transport())


def test_starts_quietly_with_exactly_sessions_read(caplog: pytest.LogCaptureFixture) -> None:
    """The credential Airflow should have: a start, no warning, and the check did ask the service."""
    service = FakeAuthService(airflow_scopes="sessions:read")
    with caplog.at_level(logging.INFO, logger="airflow_webauthn"):
        _manager(service).init()
    assert service.count("/v1/oauth/token") == 1
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert "holds sessions:read" in caplog.text


@pytest.mark.parametrize("scopes", ["", "admin", "dag:read:tag=etl"])
def test_refuses_to_start_without_sessions_read(scopes: str) -> None:
    """Every session check would be refused and every session fail closed: the api-server does not start,
    and the one-line reason names the client, what it holds and what to do."""
    with pytest.raises(WebAuthnConfigError) as refused:
        _manager(FakeAuthService(airflow_scopes=scopes)).init()
    message = str(refused.value)
    assert "\n" not in message
    assert (
        f"client {ADMIN_CLIENT_ID!r} lacks the scope sessions:read (it holds: {scopes or 'none'})" in message
    )
    assert "--scopes sessions:read" in message


def test_refuses_to_start_when_the_service_refuses_the_credential() -> None:
    """A wrong secret (or an unknown or disabled account) is an answer, not an outage: no start."""
    manager = _manager(FakeAuthService(), service_credentials=f"{ADMIN_CLIENT_ID}:wrong-secret")
    with pytest.raises(WebAuthnConfigError, match=f"the auth service refused client {ADMIN_CLIENT_ID!r}"):
        manager.init()


def test_warns_loudly_when_the_credential_holds_admin(caplog: pytest.LogCaptureFixture) -> None:
    """admin on Airflow's credential works, but is far more than it needs: a warning at start."""
    with caplog.at_level(logging.WARNING):
        _manager(FakeAuthService(airflow_scopes="sessions:read admin")).init()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "HOLDS THE SCOPE admin" in warnings[0]


@pytest.mark.parametrize("outage", ["down", "5xx", "429", "no scope listed"])
def test_starts_with_a_loud_warning_when_the_service_cannot_say(
    outage: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The service merely down (or busy, or too old to list scopes) does not make Airflow unbootable;
    the warning says the credential was not checked and that sessions fail closed meanwhile."""
    service = FakeAuthService(airflow_scopes=None if outage == "no scope listed" else "sessions:read")
    if outage == "down":
        service.up = False
    elif outage == "5xx":
        service.reply("POST", "/v1/oauth/token", 503)
    elif outage == "429":
        service.reply("POST", "/v1/oauth/token", 429, {"error": "slow_down", "error_description": "slow"})
    with caplog.at_level(logging.WARNING):
        _manager(service).init()
    assert "COULD NOT BE CHECKED AT START-UP" in caplog.text
    assert "fail closed" in caplog.text


@pytest.mark.anyio
async def test_the_check_runs_when_init_is_called_inside_a_running_event_loop() -> None:
    """uvicorn may build the app inside its event loop: the check runs on a loop of its own, and still
    refuses a credential without sessions:read."""
    with pytest.raises(WebAuthnConfigError, match="lacks the scope sessions:read"):
        _manager(FakeAuthService(airflow_scopes="")).init()
