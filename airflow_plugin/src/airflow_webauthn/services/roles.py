"""Airflow roles: group → role resolution and the VIEWER < USER < OP < ADMIN permission ladder.

The ladder mirrors Airflow's SimpleAuthManager so operators get familiar behaviour:
VIEWER reads everything a user can see; USER also changes Dags, runs and tasks; OP also manages
configuration, assets, pools, connections and variables; ADMIN may do everything.
"""

from __future__ import annotations

from enum import IntEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping


class Role(IntEnum):
    """Airflow roles, ordered: a higher role includes every permission of the lower ones.

    ``NONE`` is never written in ``role_mapping``: it is the global role of a person whose groups appear
    only in ``dag_access`` rules. They may sign in, but every permission comes from those rules.
    """

    NONE = -1
    VIEWER = 0
    USER = 1
    OP = 2
    ADMIN = 3


def resolve_role(groups: Iterable[str], mapping: Mapping[str, Role]) -> Role | None:
    """Return the highest role any of ``groups`` maps to, or None when no group is mapped (no access)."""
    roles = [mapping[group] for group in groups if group in mapping]
    return max(roles) if roles else None


# Roles an administrator may grant in role_mapping (globally) and in dag_access rules (per DAG).
GLOBAL_ROLES = (Role.VIEWER, Role.USER, Role.OP, Role.ADMIN)
DAG_RULE_ROLES = (Role.VIEWER, Role.USER, Role.OP)


def parse_role(name: str | None) -> Role | None:
    """Role from its serialized name; unknown or missing names give None, which grants nothing."""
    if not name:
        return None
    return Role.__members__.get(name.upper())


def is_allowed(*, role: Role | None, method: str, write_role: Role, read_role: Role | None = None) -> bool:
    """Return whether ``role`` may perform ``method``.

    :param write_role: lowest role allowed to change the resource (any method other than GET/MENU)
    :param read_role: lowest role allowed to read it (GET, or MENU for menu entries); defaults to write_role
    """
    if role is None:
        return False
    return role >= needed_role(method=method, read_role=read_role, write_role=write_role)


def needed_role(*, method: str, write_role: Role, read_role: Role | None = None) -> Role:
    """The lowest role that may perform ``method`` (see ``is_allowed``)."""
    if method in {"GET", "MENU"}:
        return read_role if read_role is not None else write_role
    return write_role
