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
whole page in one pass. Everything else depends on the global role only, so those batch and filter
helpers decide once per call instead of once per item.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

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
        VariableDetails,
    )
    from airflow.api_fastapi.common.types import MenuItem

    from airflow_webauthn.services.dag_access import DagAccess
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


def _allowed(user: WebAuthnUser, method: str, rule: tuple[Role, Role]) -> bool:
    return is_allowed(role=parse_role(user.role), method=method, read_role=rule[0], write_role=rule[1])


class AuthorizationMixin:
    """Role-ladder implementation of BaseAuthManager's authorization interface."""

    @property
    def dag_access(self) -> DagAccess:
        """The per-DAG rules; the auth manager provides them."""
        raise NotImplementedError

    def _dag_ids_by_rule(self, user: WebAuthnUser, method: str, dag_ids: set[str]) -> set[str]:
        if not user.groups:  # rules name groups: nothing to look up
            return set()
        needed = needed_role(method=method, read_role=DAG[0], write_role=DAG[1])
        return self.dag_access.filter(dag_ids, groups=user.groups, needed=needed)

    def _some_dag_by_rule(self, user: WebAuthnUser, method: str) -> bool:
        needed = needed_role(method=method, read_role=DAG[0], write_role=DAG[1])
        return bool(user.groups) and bool(self.dag_access.granting(user.groups, needed))

    def is_authorized_configuration(
        self, *, method: ResourceMethod, user: WebAuthnUser, details: ConfigurationDetails | None = None
    ) -> bool:
        return _allowed(user, method, CONFIGURATION)

    def is_authorized_connection(
        self, *, method: ResourceMethod, user: WebAuthnUser, details: ConnectionDetails | None = None
    ) -> bool:
        return _allowed(user, method, CONNECTION)

    def is_authorized_dag(
        self,
        *,
        method: ResourceMethod,
        user: WebAuthnUser,
        access_entity: DagAccessEntity | None = None,
        details: DagDetails | None = None,
    ) -> bool:
        if _allowed(user, method, DAG):
            return True
        if details is None or details.id is None:
            return self._some_dag_by_rule(user, method)
        return bool(self._dag_ids_by_rule(user, method, {details.id}))

    def is_authorized_asset(
        self, *, method: ResourceMethod, user: WebAuthnUser, details: AssetDetails | None = None
    ) -> bool:
        return _allowed(user, method, ASSET)

    def is_authorized_asset_alias(
        self, *, method: ResourceMethod, user: WebAuthnUser, details: AssetAliasDetails | None = None
    ) -> bool:
        return _allowed(user, method, ASSET)

    def is_authorized_pool(
        self, *, method: ResourceMethod, user: WebAuthnUser, details: PoolDetails | None = None
    ) -> bool:
        return _allowed(user, method, POOL)

    def is_authorized_variable(
        self, *, method: ResourceMethod, user: WebAuthnUser, details: VariableDetails | None = None
    ) -> bool:
        return _allowed(user, method, VARIABLE)

    def is_authorized_view(self, *, access_view: AccessView, user: WebAuthnUser) -> bool:
        if _allowed(user, "GET", VIEW):
            return True
        return access_view.value == "DOCS" and self._some_dag_by_rule(user, "GET")

    def is_authorized_custom_view(
        self, *, method: ResourceMethod | str, resource_name: str, user: WebAuthnUser
    ) -> bool:
        # Plugins may use their own action names (e.g. "can_do"); anything but a read needs OP.
        return _allowed(user, method if method in {"GET", "MENU"} else "POST", CUSTOM_VIEW)

    def is_authorized_hitl_task(self, *, assigned_users: set[str], user: WebAuthnUser) -> bool:
        # Dag authors name assignees by username; the user's id is the service's UUID. Accept both.
        return user.get_id() in assigned_users or user.username in assigned_users

    def filter_authorized_menu_items(
        self, menu_items: list[MenuItem], *, user: WebAuthnUser
    ) -> list[MenuItem]:
        by_rule = self._some_dag_by_rule(user, "GET")
        return [
            item
            for item in menu_items
            if _allowed(user, "MENU", _MENU_RULES.get(item.value, VIEW))
            or (by_rule and item.value in _DAG_RULE_MENU)
        ]

    # ---- batch and filter helpers: the role decides for every item at once ----

    def batch_is_authorized_connection(
        self, requests: Sequence[IsAuthorizedConnectionRequest], *, user: WebAuthnUser
    ) -> bool:
        return all(_allowed(user, request["method"], CONNECTION) for request in requests)

    def batch_is_authorized_dag(
        self, requests: Sequence[IsAuthorizedDagRequest], *, user: WebAuthnUser
    ) -> bool:
        # Grouped by method so each group is one pass of filter_authorized_dag_ids.
        by_method: dict[str, set[str]] = {}
        for request in requests:
            if _allowed(user, request["method"], DAG):
                continue
            details = request.get("details")
            if details is None or details.id is None:
                if not self._some_dag_by_rule(user, request["method"]):
                    return False
                continue
            by_method.setdefault(request["method"], set()).add(details.id)
        return all(self._dag_ids_by_rule(user, m, ids) == ids for m, ids in by_method.items())

    def batch_is_authorized_pool(
        self, requests: Sequence[IsAuthorizedPoolRequest], *, user: WebAuthnUser
    ) -> bool:
        return all(_allowed(user, request["method"], POOL) for request in requests)

    def batch_is_authorized_variable(
        self, requests: Sequence[IsAuthorizedVariableRequest], *, user: WebAuthnUser
    ) -> bool:
        return all(_allowed(user, request["method"], VARIABLE) for request in requests)

    def filter_authorized_dag_ids(
        self,
        *,
        dag_ids: set[str],
        user: WebAuthnUser,
        method: ResourceMethod = "GET",
        team_name: str | None = None,
    ) -> set[str]:
        if _allowed(user, method, DAG):
            return set(dag_ids)
        return self._dag_ids_by_rule(user, method, set(dag_ids))

    def filter_authorized_connections(
        self,
        *,
        conn_ids: set[str],
        user: WebAuthnUser,
        method: ResourceMethod = "GET",
        team_name: str | None = None,
    ) -> set[str]:
        return set(conn_ids) if _allowed(user, method, CONNECTION) else set()

    def filter_authorized_pools(
        self,
        *,
        pool_names: set[str],
        user: WebAuthnUser,
        method: ResourceMethod = "GET",
        team_name: str | None = None,
    ) -> set[str]:
        return set(pool_names) if _allowed(user, method, POOL) else set()

    def filter_authorized_variables(
        self,
        *,
        variable_keys: set[str],
        user: WebAuthnUser,
        method: ResourceMethod = "GET",
        team_name: str | None = None,
    ) -> set[str]:
        return set(variable_keys) if _allowed(user, method, VARIABLE) else set()
