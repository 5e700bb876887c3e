"""The access a person delegated to an agent (a delegated token's ``scope``), decided per DAG request.

Grammar (the service's ``libs/delegations/src/dag-scope.ts``, which canonicalises it): space-separated
items ``dag:<read|trigger|clear>:<id=GLOB|tag=TAG>``; a glob uses only ``*`` and ``?``. ``clear`` covers
clearing and marking task states. ``trigger`` and ``clear`` on a DAG imply ``read`` of it (an agent that
triggers a DAG must see its runs). Anything a delegation cannot name (connections, variables, pools,
configuration, ...) is outside every scope. This module only narrows: the manager also requires the
person's current role, DAG rules and teams.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

ACTIONS = ("read", "trigger", "clear")
_ITEM = re.compile(r"dag:(read|trigger|clear):(id|tag)=(.+)")
_ID_GLOB = re.compile(r"[A-Za-z0-9_.*?\-]{1,250}")
_TAG = re.compile(r"[A-Za-z0-9_.:/\-]{1,100}")
_MAX_ITEMS = 20
# Airflow's DagAccessEntity values a delegation can name, per HTTP method class.
_TRIGGER_ENTITIES = frozenset({"RUN"})
_CLEAR_ENTITIES = frozenset({"TASK_INSTANCE"})


@dataclass(frozen=True)
class ScopeItem:
    action: str
    kind: str  # "id" or "tag"
    value: str

    def selects(self, dag_id: str, tags: Iterable[str]) -> bool:
        if self.kind == "id":
            return fnmatchcase(dag_id, self.value)
        return self.value in set(tags)


@dataclass(frozen=True)
class DelegatedScope:
    items: tuple[ScopeItem, ...]

    @classmethod
    def parse(cls, text: object) -> DelegatedScope:
        """A delegated token's scope; ``ValueError`` for anything malformed (the token is then refused)."""
        if not isinstance(text, str):
            raise ValueError("a delegated token's scope must be a string")
        tokens = list(dict.fromkeys(part for part in text.split(" ") if part))
        if not tokens or len(tokens) > _MAX_ITEMS:
            raise ValueError(f"a delegated token's scope names 1 to {_MAX_ITEMS} dag: items")
        items = []
        for token in tokens:
            match = _ITEM.fullmatch(token)
            if not match:
                raise ValueError(f"{token[:60]!r} is not dag:<read|trigger|clear>:<id=GLOB|tag=TAG>")
            action, kind, value = match.groups()
            if not (_ID_GLOB if kind == "id" else _TAG).fullmatch(value):
                raise ValueError(f"{token[:60]!r} has a malformed selector")
            items.append(ScopeItem(action, kind, value))
        return cls(tuple(items))

    def allows(self, action: str | None, dag_id: str | None, tags: Iterable[str] = ()) -> bool:
        """Whether ``action`` on this DAG is within the scope; no action or no DAG id is never within it."""
        if action not in ACTIONS or not dag_id:
            return False
        tag_list = list(tags)
        return any(item.selects(dag_id, tag_list) and action in {item.action, "read"} for item in self.items)


def dag_action(method: str, access_entity: str | None) -> str | None:
    """The delegated action an Airflow DAG request needs; None when no delegation can grant it.

    ``access_entity`` is the name of Airflow's ``DagAccessEntity`` (``RUN``, ``TASK_INSTANCE``, ...) or
    None for the DAG itself. Reads of anything about the DAG are ``read``; creating or changing a DAG run
    is ``trigger``; changing task instances (clear, mark success/failed) is ``clear``; every other change
    (pausing, deleting the DAG, writing XComs, ...) is outside every scope.
    """
    if method == "GET":
        return "read"
    if access_entity in _TRIGGER_ENTITIES and method in {"POST", "PUT", "PATCH"}:
        return "trigger"
    if access_entity in _CLEAR_ENTITIES and method in {"POST", "PUT", "PATCH"}:
        return "clear"
    return None
