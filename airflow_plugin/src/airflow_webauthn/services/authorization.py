"""Every ``is_authorized_*`` decision of the auth manager, from the user's role alone.

Resource → (lowest role that may read, lowest role that may change), as in SimpleAuthManager:

=====================  ======  ======
resource               read    change
=====================  ======  ======
Dags (and runs, tasks)  VIEWER  USER
configuration          VIEWER  OP
assets, asset aliases  VIEWER  OP
pools                  VIEWER  OP
connections            OP      OP
variables              OP      OP
read-only views        VIEWER  —
custom views           VIEWER  OP
=====================  ======  ======

Dags are the exception: ``dag_access`` rules (``services.dag_access``) may give a person a higher role
on some DAGs than their global one. Every DAG-scoped decision (runs, tasks, logs, XComs, HITL details
included: they reach the auth manager as ``is_authorized_dag`` with an access entity) takes the higher
of the two. Requests about no particular DAG (list endpoints, ``~`` paths) are allowed when some rule
could open a DAG; Airflow then narrows the list with ``filter_authorized_dag_ids``, which decides a
whole page in one pass.

In multi-team mode (``services.teams``) a resource of a team is decided by the higher of the global
role and the user's role in that team; a resource of no team by the global role only. Requests about
no particular item read lists (filtered per team by Airflow through the ``filter_authorized_*``
helpers), so a team role opens them; creating an item of no team needs the global role.

An agent acting for a person (a delegated token, ``user.is_delegated``) gets the intersection: each DAG
decision above, from the person's current role, rules and teams, AND the delegation's scope
(``services.delegation_scope``: read, trigger, clear on the DAGs it selects). Everything a scope cannot
name (connections, variables, pools, configuration, assets, views, HITL answers) is refused.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from airflow_webauthn.services.delegation_scope import DelegatedScope, dag_action
from airflow_webauthn.services.roles import Role, is_allowed, needed_role, parse_role

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow.api_fastapi.auth.managers.base_auth_manager import ResourceMethod
    from airflow.api_fastapi.auth.managers.models.batch_apis import (
        IsAuthorizedConnectionRequest,
        IsAuthorizedDagRequest,
        IsAuthorizedPoolRequest,
        IsAuthorizedVariableRequest,
    )
    from airflow.api_fastapi.auth.managers.models.resource_details import (
        AccessView,
        AssetAliasDetails,
        AssetDetails,
        ConfigurationDetails,
        ConnectionDetails,
        DagAccessEntity,
        DagDetails,
        PoolDetails,
        TeamDetails,
        VariableDetails,
    )
    from airflow.api_fastapi.common.types import MenuItem

    from airflow_webauthn.services.dag_access import DagAccess
    from airflow_webauthn.services.teams import TeamRoles
    from airflow_webauthn.user import WebAuthnUser

# (read role, write role) per resource kind.
DAG = (Role.VIEWER, Role.USER)
CONFIGURATION = (Role.VIEWER, Role.OP)
ASSET = (Role.VIEWER, Role.OP)
POOL = (Role.VIEWER, Role.OP)
CONNECTION = (Role.OP, Role.OP)
VARIABLE = (Role.OP, Role.OP)
VIEW = (Role.VIEWER, Role.ADMIN)
CUSTOM_VIEW = (Role.VIEWER, Role.OP)

# Menu entries whose pages list secrets-bearing resources need the role that may read them.
_MENU_RULES = {"Connections": CONNECTION, "Variables": VARIABLE}
# What a person with dag_access rules but no global role sees: their DAGs, HITL tasks and the docs.
_DAG_RULE_MENU = frozenset({"Dags", "Required Actions", "Docs"})
# Pages a member of a team may open on their team role alone (each lists only their teams' items).
_TEAM_MENU = {"Dags": DAG, "Connections": CONNECTION, "Variables": VARIABLE, "Pools": POOL}


def _allowed(user: WebAuthnUser, method: str, rule: tuple[Role, Role]) -> bool:
    return is_allowed(role=parse_role(user.role), method=method, read_role=rule[0], write_role=rule[1])


def _person_allowed(user: WebAuthnUser, method: str, rule: tuple[Role, Role]) -> bool:
    """The global role decides, and never for an agent (a delegation's scope names DAGs only)."""
    return not user.is_delegated and _allowed(user, method, rule)


def _needed(method: str, rule: tuple[Role, Role]) -> Role:
    return needed_role(method=method, read_role=rule[0], write_role=rule[1])


class AccessRules(Protocol):
    """Where the rules beyond the global role come from (the auth manager, built from its settings)."""

    @property
    def dag_access(self) -> DagAccess: ...

    @property
    def team_roles(self) -> TeamRoles: ...


class RoleAuthorization:
    """Role-ladder implementation of BaseAuthManager's authorization interface; the manager delegates
    each ``is_authorized_*`` / ``batch_*`` / ``filter_authorized_*`` call here.

    The rules are read from ``rules`` at each decision (never copied), so they are the manager's current ones.
    """

    def __init__(self, rules: AccessRules) -> None:
        self._rules = rules

    @property
    def dag_access(self) -> DagAccess:
        return self._rules.dag_access

    @property
    def team_roles(self) -> TeamRoles:
        return self._rules.team_roles

    # ---- the three sources of a role: global, team, per-DAG rule ----

    def _allowed_in(self, user: WebAuthnUser, method: str, rule: tuple[Role, Role], team: str | None) -> bool:
        """Global role, or the user's role in ``team`` (a resource of no team: global role only)."""
        if _allowed(user, method, rule):
            return True
        if team is None or not user.groups:
            return False
        return is_allowed(
            role=self.team_roles.role_in(user.groups, team),
            method=method,
            read_role=rule[0],
            write_role=rule[1],
        )

    def _allowed_in_some_team(self, user: WebAuthnUser, method: str, rule: tuple[Role, Role]) -> bool:
        """Whether some team role would allow ``method``: opens list endpoints, which Airflow filters."""
        if not user.groups:
            return False
        best = self.team_roles.best(user.groups)
        return is_allowed(role=best, method=method, read_role=rule[0], write_role=rule[1])

    def _item_allowed(
        self, user: WebAuthnUser, method: str, rule: tuple[Role, Role], *, item: str | None, team: str | None
    ) -> bool:
        """Connections, variables, pools (never an agent's). No item and no team: a list read (filtered
        per team) or the creation of an item of no team (global role only)."""
        if user.is_delegated:
            return False
        if self._allowed_in(user, method, rule, team):
            return True
        return (
            item is None
            and team is None
            and method == "GET"
            and self._allowed_in_some_team(user, method, rule)
        )

    def _items_filtered(
        self, names: set[str], user: WebAuthnUser, method: str, rule: tuple[Role, Role], team: str | None
    ) -> set[str]:
        """A page of connections, variables or pools: all of them if the team (or global) role allows, else
        none; an agent never sees any."""
        if user.is_delegated or not self._allowed_in(user, method, rule, team):
            return set()
        return set(names)

    def _dag_ids_by_rule(self, user: WebAuthnUser, method: str, dag_ids: set[str]) -> set[str]:
        if not user.groups:  # rules name groups: nothing to look up
            return set()
        return self.dag_access.filter(dag_ids, groups=user.groups, needed=_needed(method, DAG))

    def _some_dag_by_rule(self, user: WebAuthnUser, method: str) -> bool:
        return bool(user.groups) and bool(self.dag_access.granting(user.groups, _needed(method, DAG)))

    def _dag_allowed(self, user: WebAuthnUser, method: str, details: DagDetails | None) -> bool:
        team = details.team_name if details is not None else None
        if self._allowed_in(user, method, DAG, team):
            return True
        if details is None or details.id is None:
            # Every DAG route without a DAG id lists or changes DAGs Airflow filters with
            # filter_authorized_dag_ids (per team), so any team role or rule that could open one opens it.
            return self._allowed_in_some_team(user, method, DAG) or self._some_dag_by_rule(user, method)
        return bool(self._dag_ids_by_rule(user, method, {details.id}))

    # ---- an agent's delegation: narrows, never widens ----

    def _delegation_allows(
        self, user: WebAuthnUser, method: str, access_entity: DagAccessEntity | None, dag_id: str | None
    ) -> bool:
        """True for anyone but an agent; for an agent, whether its scope covers this DAG request."""
        if not user.is_delegated:
            return True
        scope = _scope(user)
        action = dag_action(method, access_entity.name if access_entity is not None else None)
        if scope is None or action is None:
            return False
        if dag_id is None:
            # A list read about no particular DAG: Airflow narrows it with filter_authorized_dag_ids.
            # Changing DAGs in bulk with no DAG named is never delegated.
            return action == "read"
        return scope.allows(action, dag_id, self.dag_access.tags.snapshot().get(dag_id, ()))

    def _delegated_dag_ids(self, user: WebAuthnUser, method: str, dag_ids: set[str]) -> set[str]:
        scope = _scope(user)
        action = dag_action(method, None)
        if scope is None or action is None or not dag_ids:
            return set()
        tags = self.dag_access.tags.snapshot()
        return {dag_id for dag_id in dag_ids if scope.allows(action, dag_id, tags.get(dag_id, ()))}

    # ---- is_authorized_* ----

    def is_authorized_configuration(
        self, *, method: ResourceMethod, user: WebAuthnUser, details: ConfigurationDetails | None = None
    ) -> bool:
        return _person_allowed(user, method, CONFIGURATION)

    def is_authorized_connection(
        self, *, method: ResourceMethod, user: WebAuthnUser, details: ConnectionDetails | None = None
    ) -> bool:
        item, team = (details.conn_id, details.team_name) if details else (None, None)
        return self._item_allowed(user, method, CONNECTION, item=item, team=team)

    def is_authorized_dag(
        self,
        *,
        method: ResourceMethod,
        user: WebAuthnUser,
        access_entity: DagAccessEntity | None = None,
        details: DagDetails | None = None,
    ) -> bool:
        dag_id = details.id if details is not None else None
        return self._dag_allowed(user, method, details) and self._delegation_allows(
            user, method, access_entity, dag_id
        )

    def is_authorized_asset(
        self, *, method: ResourceMethod, user: WebAuthnUser, details: AssetDetails | None = None
    ) -> bool:
        return _person_allowed(user, method, ASSET)

    def is_authorized_asset_alias(
        self, *, method: ResourceMethod, user: WebAuthnUser, details: AssetAliasDetails | None = None
    ) -> bool:
        return _person_allowed(user, method, ASSET)

    def is_authorized_pool(
        self, *, method: ResourceMethod, user: WebAuthnUser, details: PoolDetails | None = None
    ) -> bool:
        item, team = (details.name, details.team_name) if details else (None, None)
        return self._item_allowed(user, method, POOL, item=item, team=team)

    def is_authorized_variable(
        self, *, method: ResourceMethod, user: WebAuthnUser, details: VariableDetails | None = None
    ) -> bool:
        item, team = (details.key, details.team_name) if details else (None, None)
        return self._item_allowed(user, method, VARIABLE, item=item, team=team)

    def is_authorized_team(
        self, *, method: ResourceMethod, user: WebAuthnUser, details: TeamDetails | None = None
    ) -> bool:
        """Membership: a team role in that team, or a global ADMIN (who belongs to every team)."""
        if parse_role(user.role) is Role.ADMIN:
            return True
        if details is None or details.name is None or not user.groups:
            return False
        return details.name in self.team_roles.teams_of(user.groups)

    def filter_authorized_teams(
        self, *, teams_names: set[str], user: WebAuthnUser, method: ResourceMethod = "GET"
    ) -> set[str]:
        if parse_role(user.role) is Role.ADMIN:
            return set(teams_names)
        return set(teams_names) & self.team_roles.teams_of(user.groups) if user.groups else set()

    def is_authorized_view(self, *, access_view: AccessView, user: WebAuthnUser) -> bool:
        if user.is_delegated:
            return False
        if _allowed(user, "GET", VIEW):
            return True
        if access_view.value == "DOCS":
            return self._some_dag_by_rule(user, "GET")
        if access_view.value == "PLUGINS":
            # The UI builds its menus from the plugin list, and the person's "Passkeys" item is a plugin view
            # (menu_plugin.py): anyone with a UI to open (a DAG rule or a team role) may list plugins.
            return not user.is_service_account and (
                self._some_dag_by_rule(user, "GET") or self._allowed_in_some_team(user, "GET", DAG)
            )
        return False

    def is_authorized_custom_view(
        self, *, method: ResourceMethod | str, resource_name: str, user: WebAuthnUser
    ) -> bool:
        # Plugins may use their own action names (e.g. "can_do"); anything but a read needs OP.
        return _person_allowed(user, method if method in {"GET", "MENU"} else "POST", CUSTOM_VIEW)

    def is_authorized_hitl_task(self, *, assigned_users: set[str], user: WebAuthnUser) -> bool:
        if user.is_delegated:
            return False  # a person's answer to a human-in-the-loop task is theirs, never an agent's
        # Dag authors name assignees by username; the user's id is the service's UUID. Accept both.
        return user.get_id() in assigned_users or user.username in assigned_users

    def filter_authorized_menu_items(
        self, menu_items: list[MenuItem], *, user: WebAuthnUser
    ) -> list[MenuItem]:
        if user.is_delegated:
            return []
        by_rule = self._some_dag_by_rule(user, "GET")

        def shown(item: MenuItem) -> bool:
            rule = _MENU_RULES.get(item.value, VIEW)
            if _allowed(user, "MENU", rule) or (by_rule and item.value in _DAG_RULE_MENU):
                return True
            # a team member sees the pages of what their teams hold (each page lists only those items)
            return item.value in _TEAM_MENU and self._allowed_in_some_team(
                user, "MENU", _TEAM_MENU[item.value]
            )

        return [item for item in menu_items if shown(item)]

    # ---- batch and filter helpers: one decision per (method, team), not per item ----

    def batch_is_authorized_connection(
        self, requests: Sequence[IsAuthorizedConnectionRequest], *, user: WebAuthnUser
    ) -> bool:
        return all(
            self.is_authorized_connection(method=r["method"], user=user, details=r.get("details"))
            for r in requests
        )

    def batch_is_authorized_dag(
        self, requests: Sequence[IsAuthorizedDagRequest], *, user: WebAuthnUser
    ) -> bool:
        if user.is_delegated and not all(
            self._delegation_allows(
                user, r["method"], r.get("access_entity"), getattr(r.get("details"), "id", None)
            )
            for r in requests
        ):
            return False
        # Grouped by method so each group is one pass of the rules (one tag lookup at most).
        by_method: dict[str, set[str]] = {}
        for request in requests:
            details = request.get("details")
            team = details.team_name if details is not None else None
            if self._allowed_in(user, request["method"], DAG, team):
                continue
            if details is None or details.id is None:
                if not self._dag_allowed(user, request["method"], details):
                    return False
                continue
            by_method.setdefault(request["method"], set()).add(details.id)
        return all(self._dag_ids_by_rule(user, m, ids) == ids for m, ids in by_method.items())

    def batch_is_authorized_pool(
        self, requests: Sequence[IsAuthorizedPoolRequest], *, user: WebAuthnUser
    ) -> bool:
        return all(
            self.is_authorized_pool(method=r["method"], user=user, details=r.get("details")) for r in requests
        )

    def batch_is_authorized_variable(
        self, requests: Sequence[IsAuthorizedVariableRequest], *, user: WebAuthnUser
    ) -> bool:
        return all(
            self.is_authorized_variable(method=r["method"], user=user, details=r.get("details"))
            for r in requests
        )

    def filter_authorized_dag_ids(
        self,
        *,
        dag_ids: set[str],
        user: WebAuthnUser,
        method: ResourceMethod = "GET",
        team_name: str | None = None,
    ) -> set[str]:
        if self._allowed_in(user, method, DAG, team_name):
            allowed = set(dag_ids)
        else:
            allowed = self._dag_ids_by_rule(user, method, set(dag_ids))
        return self._delegated_dag_ids(user, method, allowed) if user.is_delegated else allowed

    def filter_authorized_connections(
        self,
        *,
        conn_ids: set[str],
        user: WebAuthnUser,
        method: ResourceMethod = "GET",
        team_name: str | None = None,
    ) -> set[str]:
        return self._items_filtered(conn_ids, user, method, CONNECTION, team_name)

    def filter_authorized_pools(
        self,
        *,
        pool_names: set[str],
        user: WebAuthnUser,
        method: ResourceMethod = "GET",
        team_name: str | None = None,
    ) -> set[str]:
        return self._items_filtered(pool_names, user, method, POOL, team_name)

    def filter_authorized_variables(
        self,
        *,
        variable_keys: set[str],
        user: WebAuthnUser,
        method: ResourceMethod = "GET",
        team_name: str | None = None,
    ) -> set[str]:
        return self._items_filtered(variable_keys, user, method, VARIABLE, team_name)


def _scope(user: WebAuthnUser) -> DelegatedScope | None:
    """The agent's scope; None (refuse everything) if it does not parse (checked at sign-in already)."""
    try:
        return DelegatedScope.parse(user.delegated_scope)
    except ValueError:
        return None
