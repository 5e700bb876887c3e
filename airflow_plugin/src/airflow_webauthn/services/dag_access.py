"""Per-DAG rules (``[webauthn_auth_manager] dag_access``): a role on the DAGs a rule matches.

A rule gives the members of its groups a role (VIEWER, USER or OP) on every DAG whose id matches one of
its globs or that carries one of its tags. It adds to the global role from ``role_mapping``: per DAG,
the higher of the two decides. DAG tags come from Airflow's metadata database in one query, kept for
``dag_tags_cache_seconds`` (new or removed tags apply within that time), so deciding a page of DAGs
costs at most one query, whatever its size.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass
from fnmatch import translate
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from airflow_webauthn.services.group_names import canonical_group_name
from airflow_webauthn.services.roles import DAG_RULE_ROLES, Role

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

# A glob over DAG ids (letters, digits, "_", ".", "-"): "*", "?" and non-empty "[...]" / "[!...]" classes.
_DAG_ID_GLOB = re.compile(r"(?:[A-Za-z0-9_.\-]|\*|\?|\[!?[A-Za-z0-9_.\-]+\])+")
_RULE_KEYS = frozenset({"groups", "dag_tags", "dag_ids", "role"})

TagsByDag = dict[str, frozenset[str]]


@dataclass(frozen=True)
class DagRule:
    groups: frozenset[str]
    role: Role
    dag_tags: frozenset[str] = frozenset()
    dag_ids: tuple[str, ...] = ()


def parse_dag_access(text: str) -> tuple[tuple[DagRule, ...], list[str]]:
    """Rules from the option's JSON, and one message per problem found (every rule is checked)."""
    try:
        data = json.loads(text)
    except ValueError as err:
        return (), [f"is not valid JSON: {err}"]
    if not isinstance(data, list):
        return (), ["must be a JSON list of rules"]
    rules: list[DagRule] = []
    problems: list[str] = []
    for index, item in enumerate(data):
        rule = _parse_rule(item, problems=problems, where=f"rule {index}")
        if rule is not None:
            rules.append(rule)
    return tuple(rules), problems


def _parse_rule(item: Any, *, problems: list[str], where: str) -> DagRule | None:
    if not isinstance(item, dict):
        problems.append(f"{where} must be a JSON object")
        return None
    before = len(problems)
    for key in sorted(set(item) - _RULE_KEYS):
        problems.append(f"{where} has unknown key {key!r} (allowed: {', '.join(sorted(_RULE_KEYS))})")
    names = _strings(item.get("groups"), problems=problems, where=f"{where} groups")
    groups = _group_names(names, problems=problems, where=where)
    tags = _strings(item.get("dag_tags", []), problems=problems, where=f"{where} dag_tags")
    globs = _strings(item.get("dag_ids", []), problems=problems, where=f"{where} dag_ids")
    if groups == ():
        problems.append(f"{where} groups must name at least one group")
    for pattern in globs or ():
        if not _DAG_ID_GLOB.fullmatch(pattern):
            problems.append(
                f"{where} dag_ids has a bad glob {pattern!r} (DAG id characters, *, ? and [...] only)"
            )
    if tags == () and globs == ():
        problems.append(f"{where} matches no DAG: give dag_tags, dag_ids or both")
    role_name = item.get("role")
    role = Role.__members__.get(role_name.upper()) if isinstance(role_name, str) else None
    if role not in DAG_RULE_ROLES:
        allowed = ", ".join(r.name for r in DAG_RULE_ROLES)
        problems.append(f"{where} role {role_name!r} is not one of {allowed} (ADMIN is global only)")
    if len(problems) > before or role is None or groups is None or tags is None or globs is None:
        return None
    return DagRule(groups=frozenset(groups), role=role, dag_tags=frozenset(tags), dag_ids=globs)


def _group_names(names: tuple[str, ...] | None, *, problems: list[str], where: str) -> tuple[str, ...] | None:
    """The groups in canonical form (services.group_names), or None (and a message) for a refused name."""
    if names is None:
        return None
    try:
        return tuple(canonical_group_name(name) for name in names)
    except ValueError as err:
        problems.append(f"{where} {err}")
        return None


def _strings(value: Any, *, problems: list[str], where: str) -> tuple[str, ...] | None:
    """The list's strings, or None (and a message) when it is not a list of non-empty strings."""
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        problems.append(f"{where} must be a list of non-empty strings")
        return None
    return tuple(v.strip() for v in value)


class DagTagIndex:
    """Every DAG's tags, loaded in one query and reused for ``ttl_seconds``."""

    def __init__(self, *, ttl_seconds: float, load: Callable[[], TagsByDag] | None = None) -> None:
        self._ttl = ttl_seconds
        self._load = load or load_dag_tags
        self._lock = threading.Lock()
        self._tags: TagsByDag = {}
        self._loaded_at: float | None = None

    def snapshot(self) -> Mapping[str, frozenset[str]]:
        with self._lock:  # one loader at a time; the others reuse its answer
            now = time.monotonic()
            if self._loaded_at is None or now - self._loaded_at >= self._ttl:
                self._tags = self._load()
                self._loaded_at = now
            return self._tags


def load_dag_tags() -> TagsByDag:
    """All (dag_id, tag) pairs from Airflow's metadata database, grouped by DAG."""
    from airflow.models.dag import DagTag
    from airflow.utils.session import create_session
    from sqlalchemy import select

    grouped: dict[str, set[str]] = {}
    with create_session() as session:
        for dag_id, name in session.execute(select(DagTag.dag_id, DagTag.name)):
            grouped.setdefault(dag_id, set()).add(name)
    return {dag_id: frozenset(names) for dag_id, names in grouped.items()}


@dataclass(frozen=True)
class DagAccess:
    """Which DAGs the rules open to a set of groups, for a given lowest role needed."""

    rules: tuple[DagRule, ...]
    tags: DagTagIndex

    def granting(self, groups: Iterable[str], needed: Role) -> tuple[DagRule, ...]:
        """The rules of these groups whose role is at least ``needed``."""
        mine = frozenset(groups)
        return tuple(rule for rule in self.rules if rule.role >= needed and not rule.groups.isdisjoint(mine))

    def has_rules(self, groups: Iterable[str]) -> bool:
        return bool(self.granting(groups, Role.VIEWER))

    def filter(self, dag_ids: Iterable[str], *, groups: Iterable[str], needed: Role) -> set[str]:
        """The ``dag_ids`` some rule of ``groups`` opens with at least ``needed`` (one pass, one lookup)."""
        rules = self.granting(groups, needed)
        if not rules:
            return set()
        allowed: set[str] = set()
        undecided: list[str] = []
        by_id = _any_glob(tuple(pattern for rule in rules for pattern in rule.dag_ids))
        for dag_id in dag_ids:
            (allowed.add if by_id(dag_id) else undecided.append)(dag_id)
        wanted_tags = frozenset().union(*(rule.dag_tags for rule in rules))
        if undecided and wanted_tags:
            tags_by_dag = self.tags.snapshot()
            allowed.update(d for d in undecided if not wanted_tags.isdisjoint(tags_by_dag.get(d, ())))
        return allowed


@lru_cache(maxsize=256)
def _any_glob(patterns: tuple[str, ...]) -> Callable[[str], bool]:
    """One compiled regular expression for all ``patterns`` (a page of DAGs costs one match per id)."""
    if not patterns:
        return lambda _dag_id: False
    combined = re.compile("|".join(f"(?:{translate(pattern)})" for pattern in patterns))
    return lambda dag_id: combined.match(dag_id) is not None
