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
            "service_url": "https://auth:3000",
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
        {"service_url": "https://a", "service_credentials": "id:topsecret"}
    )
    assert "topsecret" not in repr(settings)


@pytest.mark.parametrize(
    "url", ["http://auth.internal:3000", "http://10.0.0.5:3000", "http://127.0.0.1.evil.test"]
)
def test_plain_http_to_a_remote_service_is_refused(url: str) -> None:
    """Airflow's credential and every session's status cross this link: TLS unless it stays on the host."""
    with pytest.raises(WebAuthnConfigError, match="loopback"):
        WebAuthnSettings.from_values({"service_url": url})
    with pytest.raises(WebAuthnConfigError, match="jwks_url"):
        WebAuthnSettings.from_values({"service_url": "https://auth.test", "jwks_url": f"{url}/jwks"})


@pytest.mark.parametrize("url", ["http://127.0.0.1:3000", "http://localhost:3000", "http://[::1]:3000"])
def test_plain_http_on_loopback_is_allowed(url: str) -> None:
    assert WebAuthnSettings.from_values({"service_url": url}).service_url == url


def test_grace_defaults_to_the_recheck_interval_and_is_validated() -> None:
    """unverified_grace_seconds: default = recheck_interval_seconds; negative or junk is refused."""
    settings = WebAuthnSettings.from_values({"service_url": "https://a", "recheck_interval_seconds": "42"})
    assert settings.unverified_grace_seconds == 42
    explicit = {"service_url": "https://a", "unverified_grace_seconds": "5"}
    assert WebAuthnSettings.from_values(explicit).unverified_grace_seconds == 5
    for bad in ("-1", "soon"):
        with pytest.raises(WebAuthnConfigError, match="unverified_grace_seconds"):
            WebAuthnSettings.from_values({"service_url": "https://a", "unverified_grace_seconds": bad})


def test_unchecked_sessions_must_be_asked_for_explicitly() -> None:
    """allow_unchecked_sessions is off by default and accepts only clear booleans."""
    assert WebAuthnSettings.from_values({"service_url": "https://a"}).allow_unchecked_sessions is False
    on = {"service_url": "https://a", "allow_unchecked_sessions": "True"}
    assert WebAuthnSettings.from_values(on).allow_unchecked_sessions is True
    with pytest.raises(WebAuthnConfigError, match="allow_unchecked_sessions"):
        WebAuthnSettings.from_values({"service_url": "https://a", "allow_unchecked_sessions": "maybe"})


def test_cli_credentials_are_separate_and_hidden() -> None:
    """The CLI's admin credential is its own setting, never printed."""
    settings = WebAuthnSettings.from_values(
        {"service_url": "https://a", "service_credentials": "af:s1", "cli_credentials": "ops:s2"}
    )
    assert settings.cli_credentials is not None
    assert (settings.cli_credentials.client_id, settings.service_credentials) != ("af", None)
    assert "s2" not in repr(settings)
