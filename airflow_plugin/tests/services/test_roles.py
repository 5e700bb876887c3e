"""Group → role resolution: the highest mapped role wins; no mapped group means no access."""

from __future__ import annotations

import pytest

from airflow_webauthn.services.roles import Role, is_allowed, parse_role, resolve_role

MAPPING = {"viewers": Role.VIEWER, "users": Role.USER, "ops": Role.OP, "admins": Role.ADMIN}


@pytest.mark.parametrize(
    ("groups", "expected"),
    [
        (["viewers"], Role.VIEWER),
        (["viewers", "ops"], Role.OP),
        (["ops", "users", "admins", "viewers"], Role.ADMIN),
        (["unmapped", "users"], Role.USER),
    ],
)
def test_highest_mapped_role_wins(groups: list[str], expected: Role) -> None:
    """A user in several mapped groups gets the highest of their roles, never a lower one."""
    assert resolve_role(groups, MAPPING) is expected


@pytest.mark.parametrize("groups", [[], ["unmapped"], ["Admins"], ["admins "]])
def test_unmapped_groups_give_no_role(groups: list[str]) -> None:
    """No mapped group (group names match exactly) means no role, hence no access."""
    assert resolve_role(groups, MAPPING) is None


def test_no_role_is_never_allowed() -> None:
    """A user without a role is denied even the lowest read permission."""
    assert not is_allowed(role=None, method="GET", read_role=Role.VIEWER, write_role=Role.VIEWER)


@pytest.mark.parametrize("name", [None, "", "SUPERUSER", "root"])
def test_unknown_serialized_roles_grant_nothing(name: str | None) -> None:
    """A role name that is not on the ladder (e.g. from a stale cookie) parses to no role."""
    assert parse_role(name) is None


def test_serialized_roles_parse_case_insensitively() -> None:
    """Role names round-trip whatever their case."""
    assert parse_role("op") is Role.OP
