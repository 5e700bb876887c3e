"""Team roles for Airflow's multi-team mode (``[core] multi_team``).

``role_mapping`` may map a group to ``{"role": "USER", "teams": ["data"]}``: its members get that role
on the resources of those teams only (DAGs of the teams' bundles, their connections, variables and
pools). A group mapped to a plain role name keeps a global role, which applies to every team's
resources and to resources of no team; a global ADMIN belongs to every team. Team roles never apply
to resources of no team (those are shared by all teams, so only a global role may decide about them)
nor to another team's resources: those are refused and filtered out of lists. ``dag_access`` rules
are explicit grants on named DAGs and apply whatever team the DAG belongs to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from airflow_webauthn.services.roles import Role


@dataclass(frozen=True)
class TeamGrant:
    role: Role
    teams: frozenset[str]


@dataclass(frozen=True)
class TeamRoles:
    grants: Mapping[str, TeamGrant] = field(default_factory=dict)  # group -> role in its teams

    def role_in(self, groups: Iterable[str], team: str | None) -> Role | None:
        """The highest team role ``groups`` hold in ``team`` (None: no team role there, or no team)."""
        if team is None:
            return None
        roles = [g.role for g in self._grants_of(groups) if team in g.teams]
        return max(roles) if roles else None

    def best(self, groups: Iterable[str]) -> Role | None:
        """The highest team role ``groups`` hold in any team (list endpoints: is any item visible?)."""
        roles = [g.role for g in self._grants_of(groups)]
        return max(roles) if roles else None

    def teams_of(self, groups: Iterable[str]) -> set[str]:
        return {team for g in self._grants_of(groups) for team in g.teams}

    def all_teams(self) -> set[str]:
        return {team for g in self.grants.values() for team in g.teams}

    def _grants_of(self, groups: Iterable[str]) -> list[TeamGrant]:
        return [self.grants[group] for group in groups if group in self.grants]
