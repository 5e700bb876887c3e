"""Multi-team: roles in teams from role_mapping, and every team-aware decision of the auth manager."""

from __future__ import annotations

import json
from typing import Any

import pytest
from airflow.api_fastapi.auth.managers.models.resource_details import (
    ConnectionDetails,
    DagDetails,
    PoolDetails,
    TeamDetails,
    VariableDetails,
)
from airflow.api_fastapi.common.types import MenuItem

from airflow_webauthn.auth_manager import WebAuthnAuthManager
from airflow_webauthn.config import WebAuthnConfigError
from airflow_webauthn.services.roles import Role
from airflow_webauthn.user import WebAuthnUser

from support import ROLE_MAPPING, make_settings

MAPPING: dict[str, Any] = {
    **ROLE_MAPPING,
    "data-eng": {"role": "OP", "teams": ["data"]},
    "data-viewers": {"role": "VIEWER", "teams": ["data"]},
    "ml-eng": {"role": "USER", "teams": ["ml"]},
}


@pytest.fixture
def am() -> WebAuthnAuthManager:
    return WebAuthnAuthManager(settings=make_settings(role_mapping=json.dumps(MAPPING)))


def person(*groups: str, role: str | None = "NONE") -> WebAuthnUser:
    return WebAuthnUser(user_id="u-1", username="tess", role=role, groups=groups)


def test_team_groups_parse_and_sign_in_without_a_global_role() -> None:
    settings = make_settings(role_mapping=json.dumps(MAPPING))
    assert settings.role_mapping["data-eng"] is Role.NONE
    assert settings.role_mapping["ops"] is Role.OP
    assert settings.team_roles.role_in(["data-eng", "data-viewers"], "data") is Role.OP
    assert settings.team_roles.all_teams() == {"data", "ml"}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"role": "USER"}, "teams must be a non-empty list"),
        ({"role": "USER", "teams": []}, "teams must be a non-empty list"),
        ({"role": "USER", "teams": [""]}, "teams must be a non-empty list"),
        ({"role": "BOSS", "teams": ["a"]}, "maps to 'BOSS'"),
        ({"role": "NONE", "teams": ["a"]}, "maps to 'NONE'"),
        ({"role": "USER", "teams": ["a"], "team": "b"}, "unknown key 'team'"),
    ],
)
def test_bad_team_mapping_is_refused(value: dict[str, Any], message: str) -> None:
    with pytest.raises(WebAuthnConfigError, match=message):
        make_settings(role_mapping=json.dumps({"g": value}))


def test_team_role_opens_its_teams_resources_only(am: WebAuthnAuthManager) -> None:
    """OP in team data: data's connections, variables and pools; another team's and team-less ones refused."""
    tess = person("data-eng")
    for team, allowed in (("data", True), ("ml", False), (None, False)):
        assert (
            am.is_authorized_connection(
                method="PUT", user=tess, details=ConnectionDetails(conn_id="c", team_name=team)
            )
            is allowed
        )
        assert (
            am.is_authorized_variable(
                method="DELETE", user=tess, details=VariableDetails(key="v", team_name=team)
            )
            is allowed
        )
        assert (
            am.is_authorized_pool(method="GET", user=tess, details=PoolDetails(name="p", team_name=team))
            is allowed
        )
        assert (
            am.is_authorized_dag(method="POST", user=tess, details=DagDetails(id="d", team_name=team))
            is allowed
        )


def test_lists_open_but_are_filtered_per_team(am: WebAuthnAuthManager) -> None:
    """List endpoints (no item, no team) open for a team member; Airflow's per-team filter then hides the
    items of other teams and of no team (the leak of apache/airflow#71277)."""
    tess = person("data-eng")
    assert am.is_authorized_variable(method="GET", user=tess, details=VariableDetails())
    assert am.is_authorized_dag(method="GET", user=tess, details=DagDetails())
    assert am.filter_authorized_variables(variable_keys={"a", "b"}, user=tess, team_name="data") == {"a", "b"}
    assert am.filter_authorized_variables(variable_keys={"a", "b"}, user=tess, team_name="ml") == set()
    assert am.filter_authorized_variables(variable_keys={"a", "b"}, user=tess, team_name=None) == set()
    assert am.filter_authorized_connections(conn_ids={"c"}, user=tess, team_name="ml") == set()
    assert am.filter_authorized_pools(pool_names={"p"}, user=tess, team_name="data") == {"p"}
    assert am.filter_authorized_dag_ids(dag_ids={"d"}, user=tess, team_name="ml") == set()
    assert am.filter_authorized_dag_ids(dag_ids={"d"}, user=tess, team_name="data", method="PUT") == {"d"}


def test_team_member_cannot_create_team_less_items(am: WebAuthnAuthManager) -> None:
    """Creating a variable/connection/pool of no team needs a global role, whatever the team role."""
    tess = person("data-eng")
    assert not am.is_authorized_variable(method="POST", user=tess, details=VariableDetails())
    assert not am.is_authorized_connection(method="POST", user=tess, details=ConnectionDetails())
    assert not am.is_authorized_pool(method="POST", user=tess, details=PoolDetails())
    assert am.is_authorized_variable(method="POST", user=tess, details=VariableDetails(team_name="data"))


def test_team_role_is_capped_by_its_rung(am: WebAuthnAuthManager) -> None:
    """VIEWER in data reads data's DAGs and pools but changes nothing and reads no variables."""
    vera = person("data-viewers")
    assert am.is_authorized_dag(method="GET", user=vera, details=DagDetails(id="d", team_name="data"))
    assert not am.is_authorized_dag(method="PUT", user=vera, details=DagDetails(id="d", team_name="data"))
    assert not am.is_authorized_variable(
        method="GET", user=vera, details=VariableDetails(key="v", team_name="data")
    )
    assert not am.is_authorized_variable(method="GET", user=vera, details=VariableDetails())


def test_global_role_applies_to_every_team_and_the_higher_wins(am: WebAuthnAuthManager) -> None:
    """A global VIEWER who is OP in data: OP on data's items, VIEWER on ml's and on team-less ones."""
    vic = person("viewers", "data-eng", role="VIEWER")
    assert am.is_authorized_pool(method="PUT", user=vic, details=PoolDetails(name="p", team_name="data"))
    assert not am.is_authorized_pool(method="PUT", user=vic, details=PoolDetails(name="p", team_name="ml"))
    assert am.is_authorized_pool(method="GET", user=vic, details=PoolDetails(name="p", team_name="ml"))
    assert am.is_authorized_pool(method="GET", user=vic, details=PoolDetails(name="p"))


def test_team_membership(am: WebAuthnAuthManager) -> None:
    """is_authorized_team / filter_authorized_teams: own teams only; a global ADMIN is in every team."""
    tess = person("data-eng", "ml-eng")
    assert am.is_authorized_team(method="GET", user=tess, details=TeamDetails(name="data"))
    assert not am.is_authorized_team(method="GET", user=tess, details=TeamDetails(name="ops"))
    assert not am.is_authorized_team(method="GET", user=tess, details=TeamDetails())
    assert am.filter_authorized_teams(teams_names={"data", "ml", "ops"}, user=tess) == {"data", "ml"}
    assert not am.is_authorized_team(
        method="GET", user=person("ops", role="OP"), details=TeamDetails(name="data")
    )
    admin = person("airflow-admins", role="ADMIN")
    assert am.filter_authorized_teams(teams_names={"data", "ml", "ops"}, user=admin) == {"data", "ml", "ops"}
    assert am.is_authorized_team(method="GET", user=admin, details=TeamDetails(name="ops"))


def test_batches_decide_per_team(am: WebAuthnAuthManager) -> None:
    tess = person("data-eng")
    ok = [{"method": "PUT", "details": VariableDetails(key=k, team_name="data")} for k in ("a", "b")]
    assert am.batch_is_authorized_variable(ok, user=tess)  # type: ignore[arg-type]
    mixed = [*ok, {"method": "PUT", "details": VariableDetails(key="c", team_name="ml")}]
    assert not am.batch_is_authorized_variable(mixed, user=tess)  # type: ignore[arg-type]
    dags = [{"method": "PUT", "details": DagDetails(id="d", team_name="data")}]
    assert am.batch_is_authorized_dag(dags, user=tess)  # type: ignore[arg-type]
    assert not am.batch_is_authorized_dag(  # type: ignore[arg-type]
        [{"method": "GET", "details": DagDetails(id="e", team_name="ml")}], user=tess
    )


def test_team_member_menu(am: WebAuthnAuthManager) -> None:
    shown = set(am.filter_authorized_menu_items(list(MenuItem), user=person("data-eng")))
    assert shown == {MenuItem.DAGS, MenuItem.CONNECTIONS, MenuItem.VARIABLES, MenuItem.POOLS}
    assert am.filter_authorized_menu_items(list(MenuItem), user=person("nobody")) == []


def test_teams_need_multi_team_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    """Team roles with [core] multi_team off would silently grant nothing: refused at start-up instead."""
    monkeypatch.setenv("AIRFLOW__CORE__MULTI_TEAM", "False")
    am = WebAuthnAuthManager(settings=make_settings(role_mapping=json.dumps(MAPPING)))
    with pytest.raises(WebAuthnConfigError, match=r"role_mapping gives roles in teams \(data, ml\)"):
        am.init()
    assert am._get_teams() == {"data", "ml"}
