"""Configuration is validated once, with one clear line per problem, and secrets are never echoed."""

from __future__ import annotations

import pytest

from airflow_webauthn.config import WebAuthnConfigError, WebAuthnSettings
from airflow_webauthn.services.roles import Role


def test_defaults() -> None:
    """Only service_url is required; the documented defaults apply to everything else."""
    settings = WebAuthnSettings.from_values({"service_url": "http://127.0.0.1:3000/"})
    assert settings.service_url == "http://127.0.0.1:3000"
    assert settings.issuer == "http://127.0.0.1:3000"
    assert settings.audience == "airflow"
    assert settings.recheck_interval_seconds == 300
    assert settings.allowed_algorithms == ("EdDSA", "ES256")
    assert settings.jwks_url == "http://127.0.0.1:3000/.well-known/jwks.json"
    assert settings.role_mapping["airflow-admins"] is Role.ADMIN
    assert settings.service_credentials is None


def test_parses_everything() -> None:
    """Explicit values are parsed into typed settings."""
    settings = WebAuthnSettings.from_values(
        {
            "service_url": "http://auth:3000",
            "issuer": "https://auth.example.com",
            "audience": "my-airflow",
            "role_mapping": '{"team-a": "op", "root": "ADMIN"}',
            "session_ttl_seconds": "3600",
            "recheck_interval_seconds": "0",
            "service_credentials": "airflow:se:cret",
            "allowed_algorithms": "ES256",
        }
    )
    assert settings.role_mapping == {"team-a": Role.OP, "root": Role.ADMIN}
    assert settings.service_credentials is not None
    assert settings.service_credentials.client_secret == "se:cret"
    assert settings.allowed_algorithms == ("ES256",)
    assert settings.recheck_interval_seconds == 0


def test_reports_every_problem_at_once() -> None:
    """A broken section is reported in one error listing every wrong value."""
    with pytest.raises(WebAuthnConfigError) as info:
        WebAuthnSettings.from_values(
            {
                "service_url": "ftp://x",
                "role_mapping": '{"g": "GOD"}',
                "session_ttl_seconds": "-1",
                "allowed_algorithms": "none,HS256",
            }
        )
    message = str(info.value)
    for name in ("service_url", "role_mapping", "session_ttl_seconds", "allowed_algorithms"):
        assert name in message


def test_missing_service_url_is_explained() -> None:
    """Without service_url the error says what to set."""
    with pytest.raises(WebAuthnConfigError, match="service_url is required"):
        WebAuthnSettings.from_values({})


@pytest.mark.parametrize("algorithms", ["none", "HS256", "HS512,EdDSA", ""])
def test_symmetric_or_none_algorithms_are_refused(algorithms: str) -> None:
    """Configuration can never enable alg none or HS*."""
    raw = {"service_url": "http://a", "allowed_algorithms": algorithms or " , "}
    with pytest.raises(WebAuthnConfigError, match="allowed_algorithms"):
        WebAuthnSettings.from_values(raw)


def test_bad_credentials_are_reported_without_the_secret() -> None:
    """A malformed service_credentials value is reported, but its content is not echoed."""
    with pytest.raises(WebAuthnConfigError) as info:
        WebAuthnSettings.from_values(
            {"service_url": "http://a", "service_credentials": "only-a-secret-value"}
        )
    assert "only-a-secret-value" not in str(info.value)
    assert "service_credentials" in str(info.value)


def test_credentials_are_not_in_repr() -> None:
    """The client secret never appears in logs that print the settings."""
    settings = WebAuthnSettings.from_values(
        {"service_url": "http://a", "service_credentials": "id:topsecret"}
    )
    assert "topsecret" not in repr(settings)
