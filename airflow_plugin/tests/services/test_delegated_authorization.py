"""An agent acting for a person: allowed only where the person's current access AND the scope allow."""

from __future__ import annotations

from dataclasses import dataclass, replace

import pytest
from airflow.api_fastapi.auth.managers.models.resource_details import (
    AccessView,
    ConnectionDetails,
    DagAccessEntity,
    DagDetails,
    PoolDetails,
    VariableDetails,
)
from airflow.api_fastapi.common.types import MenuItem

from airflow_webauthn.services.authorization import RoleAuthorization
from airflow_webauthn.services.dag_access import DagAccess, DagRule, DagTagIndex
from airflow_webauthn.services.roles import Role
from airflow_webauthn.services.teams import TeamRoles
from airflow_webauthn.user import WebAuthnUser

TAGS = {
    "finance_daily": frozenset({"finance"}),
    "ledger": frozenset({"finance"}),
    "marketing_daily": frozenset(),
}


@dataclass
class Rules:
    dag_access: DagAccess
    team_roles: TeamRoles


AUTHZ = RoleAuthorization(
    Rules(
        dag_access=DagAccess(
            rules=(DagRule(groups=frozenset({"fin"}), role=Role.USER, dag_ids=("ledger",)),),
            tags=DagTagIndex(ttl_seconds=60, load=lambda: TAGS),
        ),
        team_roles=TeamRoles(grants={}),
    )
)


def agent(scope: str, *, role: str | None = "ADMIN", groups: tuple[str, ...] = ()) -> WebAuthnUser:
    return WebAuthnUser(
        user_id="u-1",
        username="alice",
        role=role,
        groups=groups,
        delegation_id="d-1",
        agent_client_id="sa_copilot",
        agent_name="copilot",
        delegated_scope=scope,
    )


def dag(user: WebAuthnUser, method: str, dag_id: str | None, entity: DagAccessEntity | None = None) -> bool:
    return AUTHZ.is_authorized_dag(
        method=method,  # type: ignore[arg-type]
        user=user,
        access_entity=entity,
        details=DagDetails(id=dag_id) if dag_id else None,
    )


TRIGGER_FINANCE = "dag:trigger:id=finance_*"


@pytest.mark.parametrize(
    ("scope", "method", "dag_id", "entity", "allowed"),
    [
        (TRIGGER_FINANCE, "POST", "finance_daily", DagAccessEntity.RUN, True),  # trigger
        (TRIGGER_FINANCE, "GET", "finance_daily", DagAccessEntity.RUN, True),  # trigger implies read
        (TRIGGER_FINANCE, "GET", "finance_daily", None, True),
        (TRIGGER_FINANCE, "POST", "marketing_daily", DagAccessEntity.RUN, False),  # other DAG
        (TRIGGER_FINANCE, "GET", "marketing_daily", None, False),
        (TRIGGER_FINANCE, "POST", "finance_daily", DagAccessEntity.TASK_INSTANCE, False),  # clear not granted
        (TRIGGER_FINANCE, "PUT", "finance_daily", None, False),  # pausing is outside every scope
        (TRIGGER_FINANCE, "DELETE", "finance_daily", None, False),
        (TRIGGER_FINANCE, "DELETE", "finance_daily", DagAccessEntity.RUN, False),
        ("dag:read:id=finance_*", "POST", "finance_daily", DagAccessEntity.RUN, False),  # read only
        ("dag:read:id=finance_*", "GET", "finance_daily", DagAccessEntity.TASK_LOGS, True),
        ("dag:clear:tag=finance", "POST", "finance_daily", DagAccessEntity.TASK_INSTANCE, True),  # by tag
        ("dag:clear:tag=finance", "PATCH", "finance_daily", DagAccessEntity.TASK_INSTANCE, True),  # mark
        ("dag:clear:tag=finance", "POST", "marketing_daily", DagAccessEntity.TASK_INSTANCE, False),
        ("dag:clear:tag=finance", "POST", "finance_daily", DagAccessEntity.RUN, False),
        (
            TRIGGER_FINANCE,
            "GET",
            None,
            None,
            True,
        ),  # a list: Airflow narrows it with filter_authorized_dag_ids
        (TRIGGER_FINANCE, "POST", None, DagAccessEntity.RUN, False),  # no DAG named: nothing but reads
    ],
)
def test_scope_narrows_an_admins_dag_access(
    scope: str, method: str, dag_id: str | None, entity: DagAccessEntity | None, allowed: bool
) -> None:
    """Even for an ADMIN person, the agent gets only what its scope names."""
    assert dag(agent(scope), method, dag_id, entity) is allowed


def test_the_persons_current_role_still_decides() -> None:
    """The scope never widens: a VIEWER's agent with trigger scope cannot trigger; with no role, nothing."""
    viewer = agent(TRIGGER_FINANCE, role="VIEWER")
    assert dag(viewer, "GET", "finance_daily") is True
    assert dag(viewer, "POST", "finance_daily", DagAccessEntity.RUN) is False
    nobody = agent(TRIGGER_FINANCE, role=None)
    assert dag(nobody, "GET", "finance_daily") is False
    assert dag(nobody, "POST", "finance_daily", DagAccessEntity.RUN) is False


def test_dag_rules_of_the_person_combine_with_the_scope() -> None:
    """A person opened to ``ledger`` by a DAG rule only: the agent reaches ledger if its scope names it."""
    by_rule = agent("dag:trigger:tag=finance", role=None, groups=("fin",))
    assert dag(by_rule, "POST", "ledger", DagAccessEntity.RUN) is True
    assert dag(by_rule, "POST", "finance_daily", DagAccessEntity.RUN) is False  # the person may not
    assert AUTHZ.filter_authorized_dag_ids(
        dag_ids={"ledger", "finance_daily", "marketing_daily"}, user=by_rule, method="GET"
    ) == {"ledger"}


def test_lists_are_narrowed_to_the_scope() -> None:
    user = agent("dag:read:id=finance_* dag:read:id=ledger")
    all_ids = set(TAGS)
    assert AUTHZ.filter_authorized_dag_ids(dag_ids=all_ids, user=user) == {"finance_daily", "ledger"}
    assert AUTHZ.filter_authorized_dag_ids(dag_ids=all_ids, user=user, method="PUT") == set()


def test_batch_needs_every_request_in_scope() -> None:
    user = agent(TRIGGER_FINANCE)
    finance = {
        "method": "POST",
        "access_entity": DagAccessEntity.RUN,
        "details": DagDetails(id="finance_daily"),
    }
    marketing = {**finance, "details": DagDetails(id="marketing_daily")}
    assert AUTHZ.batch_is_authorized_dag([finance], user=user) is True  # type: ignore[list-item]
    assert AUTHZ.batch_is_authorized_dag([finance, marketing], user=user) is False  # type: ignore[list-item]


def test_everything_a_scope_cannot_name_is_refused() -> None:
    """Connections, variables, pools, configuration, assets, views, custom views, HITL: 403 for an agent
    of an ADMIN, while the same ADMIN acting for themself is allowed."""
    user = agent("dag:read:id=*")
    person = replace(user, delegation_id=None, agent_client_id=None, agent_name=None, delegated_scope=None)
    checks = [
        lambda u: AUTHZ.is_authorized_connection(
            method="GET", user=u, details=ConnectionDetails(conn_id="db")
        ),
        lambda u: AUTHZ.is_authorized_connection(method="GET", user=u),
        lambda u: AUTHZ.is_authorized_variable(method="GET", user=u, details=VariableDetails(key="k")),
        lambda u: AUTHZ.is_authorized_pool(method="GET", user=u, details=PoolDetails(name="p")),
        lambda u: AUTHZ.is_authorized_configuration(method="GET", user=u),
        lambda u: AUTHZ.is_authorized_asset(method="GET", user=u),
        lambda u: AUTHZ.is_authorized_asset_alias(method="GET", user=u),
        lambda u: AUTHZ.is_authorized_view(access_view=AccessView.PLUGINS, user=u),
        lambda u: AUTHZ.is_authorized_custom_view(method="GET", resource_name="x", user=u),
        lambda u: AUTHZ.is_authorized_hitl_task(assigned_users={"alice"}, user=u),
        lambda u: bool(AUTHZ.filter_authorized_connections(conn_ids={"db"}, user=u)),
        lambda u: bool(AUTHZ.filter_authorized_variables(variable_keys={"k"}, user=u)),
        lambda u: bool(AUTHZ.filter_authorized_pools(pool_names={"p"}, user=u)),
        lambda u: bool(AUTHZ.filter_authorized_menu_items([MenuItem.CONNECTIONS, MenuItem.DAGS], user=u)),
    ]
    assert [check(user) for check in checks] == [False] * len(checks)
    assert [check(person) for check in checks] == [True] * len(checks)


def test_a_malformed_scope_refuses_everything() -> None:
    assert dag(agent("connections:read"), "GET", "finance_daily") is False
    assert AUTHZ.filter_authorized_dag_ids(dag_ids=set(TAGS), user=agent("")) == set()
