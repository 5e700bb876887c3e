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

Because the answer depends only on the role, the batch and filter helpers decide once per call
instead of once per item.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_webauthn.services.roles import Role, is_allowed, parse_role

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


def _allowed(user: WebAuthnUser, method: str, rule: tuple[Role, Role]) -> bool:
    return is_allowed(role=parse_role(user.role), method=method, read_role=rule[0], write_role=rule[1])


class AuthorizationMixin:
    """Role-ladder implementation of BaseAuthManager's authorization interface."""

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
        return _allowed(user, method, DAG)

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
        return _allowed(user, "GET", VIEW)

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
        return [item for item in menu_items if _allowed(user, "MENU", _MENU_RULES.get(item.value, VIEW))]

    # ---- batch and filter helpers: the role decides for every item at once ----

    def batch_is_authorized_connection(
        self, requests: Sequence[IsAuthorizedConnectionRequest], *, user: WebAuthnUser
    ) -> bool:
        return all(_allowed(user, request["method"], CONNECTION) for request in requests)

    def batch_is_authorized_dag(
        self, requests: Sequence[IsAuthorizedDagRequest], *, user: WebAuthnUser
    ) -> bool:
        return all(_allowed(user, request["method"], DAG) for request in requests)

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
        return set(dag_ids) if _allowed(user, method, DAG) else set()

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
