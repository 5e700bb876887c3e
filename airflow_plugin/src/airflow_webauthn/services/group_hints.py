"""What each configured group gives, in words, for the invite form (which group to type for which access)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from airflow_webauthn.services.roles import Role

if TYPE_CHECKING:
    from airflow_webauthn.config import WebAuthnSettings


@dataclass(frozen=True)
class GroupHint:
    group: str
    grants: str  # e.g. "ADMIN", "OP on teams a, b", "USER on DAGs tagged finance"


def group_hints(settings: WebAuthnSettings) -> list[GroupHint]:
    """One entry per group named in ``role_mapping`` (roles and team roles) and ``dag_access``, sorted."""
    grants: dict[str, list[str]] = {}
    for group, role in settings.role_mapping.items():
        if role is not Role.NONE:
            grants.setdefault(group, []).append(role.name)
    for group, grant in settings.team_roles.grants.items():
        grants.setdefault(group, []).append(f"{grant.role.name} on teams {', '.join(sorted(grant.teams))}")
    for rule in settings.dag_access:
        matches = [f"tagged {tag}" for tag in sorted(rule.dag_tags)] + [f"id {glob}" for glob in rule.dag_ids]
        for group in rule.groups:
            grants.setdefault(group, []).append(f"{rule.role.name} on DAGs {' or '.join(matches)}")
    return [GroupHint(group=group, grants="; ".join(parts)) for group, parts in sorted(grants.items())]
