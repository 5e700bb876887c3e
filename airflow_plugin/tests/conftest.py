"""Shared fixtures. Airflow reads its configuration at import time, so the environment is set first."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="airflow-webauthn-tests-"))
os.environ.setdefault(
    "AIRFLOW__API_AUTH__JWT_SECRET",
    "unit-test-airflow-jwt-secret-that-is-long-enough-for-hs512-0123456789abcdef",
)
os.environ.setdefault("AIRFLOW__CORE__AUTH_MANAGER", "airflow_webauthn.auth_manager.WebAuthnAuthManager")

import pytest

from airflow_webauthn.auth_manager import WebAuthnAuthManager

from support import FakeAuthService, make_settings


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def fake_service() -> FakeAuthService:
    return FakeAuthService()


@pytest.fixture
def no_revocations(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unit tests have no metadata database; nothing is revoked there."""
    from airflow.models.revoked_token import RevokedToken

    monkeypatch.setattr(RevokedToken, "is_revoked", classmethod(lambda cls, jti, session=None: False))


@pytest.fixture
def manager(fake_service: FakeAuthService, no_revocations: None) -> WebAuthnAuthManager:
    transport = fake_service.transport()
    return WebAuthnAuthManager(
        settings=make_settings(),
        service_transport=transport,
    )
