"""The VIEWER < USER < OP < ADMIN ladder, for every role, resource and method."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from airflow.api_fastapi.auth.managers.base_auth_manager import BaseAuthManager
from airflow.api_fastapi.auth.managers.models.resource_details import (
    AccessView,
    ConnectionDetails,
    DagAccessEntity,
    DagDetails,
    PoolDetails,
    VariableDetails,
)
from airflow.api_fastapi.common.types import MenuItem

from airflow_webauthn.auth_manager import WebAuthnAuthManager
from airflow_webauthn.services.authorization import RoleAuthorization
from airflow_webauthn.user import WebAuthnUser

ROLES = ["VIEWER", "USER", "OP", "ADMIN"]
METHODS = ["GET", "POST", "PUT", "DELETE"]

# resource → (lowest role that may GET, lowest role that may change); mirrors SimpleAuthManager.
LADDER = {
    "configuration": ("VIEWER", "OP"),
    "connection": ("OP", "OP"),
    "dag": ("VIEWER", "USER"),
    "asset": ("VIEWER", "OP"),
    "asset_alias": ("VIEWER", "OP"),
    "pool": ("VIEWER", "OP"),
    "variable": ("OP", "OP"),
}


def user(role: str | None) -> WebAuthnUser:
    return WebAuthnUser(user_id="u-1", username="ada", role=role)


def expected(role: str, method: str, resource: str) -> bool:
    read, write = LADDER[resource]
    needed = read if method == "GET" else write
    return ROLES.index(role) >= ROLES.index(needed)


@pytest.fixture(scope="module")
def am() -> WebAuthnAuthManager:
    return WebAuthnAuthManager()


@pytest.mark.parametrize("resource", list(LADDER))
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("role", ROLES)
def test_ladder(am: WebAuthnAuthManager, role: str, method: str, resource: str) -> None:
    """Each role may do exactly what its rung allows on each resource, and nothing more."""
    check = getattr(am, f"is_authorized_{resource}")
    assert check(method=method, user=user(role)) is expected(role, method, resource)


@pytest.mark.parametrize("resource", list(LADDER))
@pytest.mark.parametrize("method", METHODS)
def test_user_without_role_is_denied_everything(am: WebAuthnAuthManager, method: str, resource: str) -> None:
    """A user with no mapped group can neither read nor change anything."""
    assert getattr(am, f"is_authorized_{resource}")(method=method, user=user(None)) is False


@pytest.mark.parametrize("entity", list(DagAccessEntity))
@pytest.mark.parametrize("role", ROLES)
def test_dag_sub_entities_follow_the_dag_rung(
    am: WebAuthnAuthManager, role: str, entity: DagAccessEntity
) -> None:
    """Runs, tasks, logs, XComs, ... of a Dag: VIEWER reads, USER and above change."""
    details = DagDetails(id="example")
    assert am.is_authorized_dag(method="GET", user=user(role), access_entity=entity, details=details)
    changed = am.is_authorized_dag(method="PUT", user=user(role), access_entity=entity, details=details)
    assert changed is (role != "VIEWER")


@pytest.mark.parametrize("view", list(AccessView))
def test_read_only_views(am: WebAuthnAuthManager, view: AccessView) -> None:
    """Read-only views are open to every role but not to a user without one."""
    for role in ROLES:
        assert am.is_authorized_view(access_view=view, user=user(role))
    assert not am.is_authorized_view(access_view=view, user=user(None))


@pytest.mark.parametrize("role", ROLES)
def test_custom_views(am: WebAuthnAuthManager, role: str) -> None:
    """Custom (plugin) views: every role reads; any other action, including plugin-defined ones, needs OP."""
    assert am.is_authorized_custom_view(method="GET", resource_name="x", user=user(role))
    writes = am.is_authorized_custom_view(method="can_do", resource_name="x", user=user(role))  # type: ignore[arg-type]
    assert writes is (role in {"OP", "ADMIN"})


@pytest.mark.parametrize("role", ROLES)
def test_menu_hides_connections_and_variables_below_op(am: WebAuthnAuthManager, role: str) -> None:
    """Menu entries follow the same rungs: Connections and Variables only from OP up."""
    items = am.filter_authorized_menu_items(list(MenuItem), user=user(role))
    secret_bearing = {MenuItem.CONNECTIONS, MenuItem.VARIABLES}
    assert secret_bearing.issubset(items) is (role in {"OP", "ADMIN"})
    assert set(MenuItem) - secret_bearing <= set(items)
    assert am.filter_authorized_menu_items(list(MenuItem), user=user(None)) == []


@pytest.mark.parametrize("role", ROLES)
def test_batch_and_filter_helpers_match_single_checks(am: WebAuthnAuthManager, role: str) -> None:
    """Batch/filter shortcuts never grant more than the per-item checks."""
    u = user(role)
    for method in METHODS:
        req: dict[str, Any] = {"method": method}
        assert am.batch_is_authorized_dag([{**req, "details": DagDetails(id="a")}], user=u) is expected(
            role, method, "dag"
        )
        assert am.batch_is_authorized_connection(
            [{**req, "details": ConnectionDetails(conn_id="c")}], user=u
        ) is expected(role, method, "connection")
        assert am.batch_is_authorized_pool([{**req, "details": PoolDetails(name="p")}], user=u) is expected(
            role, method, "pool"
        )
        assert am.batch_is_authorized_variable(
            [{**req, "details": VariableDetails(key="v")}], user=u
        ) is expected(role, method, "variable")
        ids = {"a", "b"}
        assert am.filter_authorized_dag_ids(dag_ids=ids, user=u, method=method) == (
            ids if expected(role, method, "dag") else set()
        )
        assert am.filter_authorized_connections(conn_ids=ids, user=u, method=method) == (
            ids if expected(role, method, "connection") else set()
        )
        assert am.filter_authorized_pools(pool_names=ids, user=u, method=method) == (
            ids if expected(role, method, "pool") else set()
        )
        assert am.filter_authorized_variables(variable_keys=ids, user=u, method=method) == (
            ids if expected(role, method, "variable") else set()
        )


def test_hitl_assignment_by_id_or_username(am: WebAuthnAuthManager) -> None:
    """Only an assigned user may answer a human-in-the-loop task (by service id or by username)."""
    assert am.is_authorized_hitl_task(assigned_users={"u-1"}, user=user("USER"))
    assert am.is_authorized_hitl_task(assigned_users={"ada"}, user=user("USER"))
    assert not am.is_authorized_hitl_task(assigned_users={"bob"}, user=user("ADMIN"))


def test_every_abstract_method_is_implemented() -> None:
    """The manager implements the whole abstract interface of the installed BaseAuthManager."""
    assert not getattr(WebAuthnAuthManager, "__abstractmethods__", set())


AUTHORIZATION_INTERFACE = sorted(
    name
    for name in dir(BaseAuthManager)
    if name.startswith(("is_authorized_", "batch_is_authorized_", "filter_authorized_"))
)


@pytest.mark.parametrize("name", AUTHORIZATION_INTERFACE)
def test_manager_delegates_each_decision_to_role_authorization(name: str) -> None:
    """Every authorization method of the installed BaseAuthManager is the manager's own one-line
    delegation to RoleAuthorization: none falls back to Airflow's default (which would decide by
    another rule, or item by item), and the manager holds no rule of its own."""
    assert name in vars(WebAuthnAuthManager), f"{name} falls back to BaseAuthManager's default"
    assert hasattr(RoleAuthorization, name), f"RoleAuthorization does not decide {name}"
    am = WebAuthnAuthManager()
    seen: list[tuple[str, dict[str, Any]]] = []

    class Recorder:
        def __getattr__(self, attr: str) -> Any:
            def decide(*args: Any, **kwargs: Any) -> str:
                seen.append((attr, {"args": args, **kwargs}))
                return "decided"

            return decide

    am.__dict__["authorization"] = Recorder()
    parameters = inspect.signature(getattr(WebAuthnAuthManager, name)).parameters
    arguments = {p: object() for p in parameters if p != "self"}
    positional = [
        arguments.pop(p) for p in list(arguments) if parameters[p].kind is parameters[p].POSITIONAL_OR_KEYWORD
    ]
    assert getattr(am, name)(*positional, **arguments) == "decided"
    assert seen == [(name, {"args": tuple(positional), **arguments})]
