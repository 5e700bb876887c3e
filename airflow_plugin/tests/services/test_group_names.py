"""Airflow's settings name groups by the service's rule, so a group compares equal on both sides or nowhere."""

from __future__ import annotations

import unicodedata

import pytest

from airflow_webauthn.config import WebAuthnConfigError, WebAuthnSettings
from airflow_webauthn.services.group_names import canonical_group_name
from airflow_webauthn.services.roles import Role


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        (" airflow-admins", "airflow-admins"),
        ("\tops\n", "ops"),
        ("Airflow-Admins", "Airflow-Admins"),  # case is kept: compared exactly, as the service does
        (unicodedata.normalize("NFD", "équipe-données"), "équipe-données"),
    ],
)
def test_canonical_name_trims_and_composes_but_keeps_case(raw: str, canonical: str) -> None:
    """Surrounding whitespace goes and Unicode is NFC: the same string the service stores and signs."""
    assert canonical_group_name(raw) == canonical


@pytest.mark.parametrize(
    "raw", ["", "   ", "airflow admins", "ops\u0000", "ops\u200b", "-ops", "a/b", "x" * 129]
)
def test_names_the_service_refuses_are_refused_here_too(raw: str) -> None:
    """Inner whitespace, control or invisible characters are never normalised away: the name is refused."""
    with pytest.raises(ValueError, match="is not a group name"):
        canonical_group_name(raw)


def test_role_mapping_groups_are_canonical() -> None:
    """A role_mapping key written with spaces around it maps the group the token carries, not a lookalike."""
    settings = WebAuthnSettings.from_values(
        {"service_url": "http://127.0.0.1:3000", "role_mapping": '{" airflow-admins ": "ADMIN", "Ops": "OP"}'}
    )
    assert settings.role_mapping == {"airflow-admins": Role.ADMIN, "Ops": Role.OP}


@pytest.mark.parametrize(
    "mapping",
    ['{"airflow admins": "ADMIN"}', '{"ops": "OP", " ops": "ADMIN"}'],
)
def test_role_mapping_with_an_unusable_or_repeated_group_does_not_start(mapping: str) -> None:
    """A key that could never match a token's group, or two keys for one group, is a settings error."""
    with pytest.raises(WebAuthnConfigError, match="role_mapping"):
        WebAuthnSettings.from_values({"service_url": "http://127.0.0.1:3000", "role_mapping": mapping})


def test_dag_access_groups_are_canonical() -> None:
    """dag_access rules name groups by the same rule; an unusable one is reported."""
    base = {"service_url": "http://127.0.0.1:3000"}
    rule = '[{"groups": [" etl "], "dag_ids": ["etl_*"], "role": "USER"}]'
    settings = WebAuthnSettings.from_values({**base, "dag_access": rule})
    assert settings.dag_access[0].groups == frozenset({"etl"})
    with pytest.raises(WebAuthnConfigError, match="dag_access"):
        WebAuthnSettings.from_values({**base, "dag_access": rule.replace(" etl ", "e t l")})
