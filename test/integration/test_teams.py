"""Multi-team on a real Airflow in ``[core] multi_team`` mode: two teams, each with its own DAG bundle.

A second api-server (same auth service) runs with teams alpha and beta, a bundle per team, and
role_mapping giving it-team-alpha OP in alpha and it-team-beta OP in beta. Each team's members see and
change only their team's DAGs, connections, variables and pools; lists never show another team's items
nor items of no team (apache/airflow#71277); a global ADMIN sees everything.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import httpx
import pytest

from support.processes import free_port
from support.stack import (
    REPO_ROOT,
    ROLE_MAPPING,
    AirflowServer,
    client_credentials_token,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from support.stack import Stack

TEAMS = ("alpha", "beta")
TEAM_DAGS = REPO_ROOT / "test/integration/dags/teams"


class TeamAirflow(AirflowServer):
    @property
    def env(self) -> dict[str, str]:
        env = super().env
        bundles = [
            {
                "name": f"{team}-bundle",
                "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
                "kwargs": {"path": str(TEAM_DAGS / team)},
                "team_name": team,
            }
            for team in TEAMS
        ]
        mapping = {
            **ROLE_MAPPING,
            **{f"it-team-{t}": {"role": "OP", "teams": [t]} for t in TEAMS},
        }
        env.update(
            {
                "AIRFLOW__CORE__MULTI_TEAM": "True",
                "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST": json.dumps(bundles),
                "AIRFLOW__WEBAUTHN_AUTH_MANAGER__ROLE_MAPPING": json.dumps(mapping),
                "AIRFLOW__WEBAUTHN_AUTH_MANAGER__DAG_ACCESS": "[]",
            }
        )
        return env

    def migrate_database(self) -> None:
        """Its own metadata database and the teams (before the api-server starts: role_mapping names them)."""
        self.home.mkdir(parents=True, exist_ok=True)
        self.run_cli("db", "migrate", log_name="airflow-teams-db-migrate")
        for team in TEAMS:
            self.run_cli("teams", "create", team, log_name="airflow-teams-create")

    def serialize_suite_dags(self) -> None:
        """The teams' bundles' DAGs (the bundles are configured, nothing to copy)."""
        self.run_cli("dags", "reserialize", log_name="airflow-teams-reserialize")


def _team_tokens(stack: Stack) -> dict[str, str]:
    """A token for the suite's admin and for one OP service account per team (on the shared service)."""
    tokens = {"admin": client_credentials_token(stack.service.url, stack.accounts["admin"])}
    for team in TEAMS:
        account = stack.service.cli(
            "service-account",
            "create",
            "--name",
            f"it-{team}-op",
            "--groups",
            f"it-team-{team}",
        )
        tokens[team] = client_credentials_token(stack.service.url, account)
    return tokens


@pytest.fixture(scope="module")
def teams(stack: Stack) -> Iterator[dict[str, str]]:
    """The multi-team api-server's URL and one token per person (service accounts on the shared service)."""
    workdir = stack.workdir / "teams"
    workdir.mkdir()
    server = TeamAirflow(
        workdir=workdir,
        port=free_port(),
        service=stack.service,
        service_credentials=stack.airflow.service_credentials,
    )
    server.migrate_database()
    # The DAGs and the tokens while the api-server boots (neither needs it; it needs neither to start).
    pool = ThreadPoolExecutor(max_workers=2)
    serializing = pool.submit(server.serialize_suite_dags)
    issuing = pool.submit(_team_tokens, stack)
    server.start()
    try:
        server.wait_ready()
        serializing.result()
        tokens = issuing.result()
        admin = _auth(tokens["admin"])
        with httpx.Client(base_url=server.url, timeout=30) as client:
            for team in (*TEAMS, None):
                name = team or "shared"
                body = {"team_name": team} if team else {}
                for path, item in (
                    ("/api/v2/variables", {"key": f"{name}_var", "value": "v"}),
                    (
                        "/api/v2/connections",
                        {"connection_id": f"{name}_conn", "conn_type": "http"},
                    ),
                    ("/api/v2/pools", {"name": f"{name}_pool", "slots": 1}),
                ):
                    created = client.post(path, json={**item, **body}, headers=admin)
                    assert created.status_code == 201, created.text
        yield {"url": server.url, **tokens}
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        server.stop()


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _names(client: httpx.Client, path: str, key: str, field: str, token: str) -> set[str]:
    response = client.get(path, params={"limit": 100}, headers=_auth(token))
    assert response.status_code == 200, response.text
    return {item[field] for item in response.json()[key]}


@pytest.fixture
def client(teams: dict[str, str]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=teams["url"], timeout=30) as c:
        yield c


LISTS = [
    ("/api/v2/dags", "dags", "dag_id", "{t}_etl"),
    ("/api/v2/variables", "variables", "key", "{t}_var"),
    ("/api/v2/connections", "connections", "connection_id", "{t}_conn"),
    ("/api/v2/pools", "pools", "name", "{t}_pool"),
]


@pytest.mark.parametrize(("path", "key", "field", "pattern"), LISTS)
@pytest.mark.parametrize("team", TEAMS)
def test_lists_show_only_the_teams_items(
    client: httpx.Client,
    teams: dict[str, str],
    team: str,
    path: str,
    key: str,
    field: str,
    pattern: str,
) -> None:
    """A team member's lists hold their team's items only: not the other team's, not shared ones."""
    assert _names(client, path, key, field, teams[team]) == {pattern.format(t=team)}


@pytest.mark.parametrize(("path", "key", "field", "pattern"), LISTS)
def test_admin_sees_every_team(
    client: httpx.Client,
    teams: dict[str, str],
    path: str,
    key: str,
    field: str,
    pattern: str,
) -> None:
    expected = {pattern.format(t=t) for t in TEAMS}
    assert expected <= _names(client, path, key, field, teams["admin"])


@pytest.mark.parametrize("team", TEAMS)
def test_other_teams_items_are_refused(client: httpx.Client, teams: dict[str, str], team: str) -> None:
    """Reads and changes of the other team's (and shared) items: 403; of one's own: allowed."""
    other = "beta" if team == "alpha" else "alpha"
    headers = _auth(teams[team])
    for owner, allowed in ((team, True), (other, False), ("shared", False)):
        codes = {
            "dag": client.get(f"/api/v2/dags/{owner}_etl", headers=headers).status_code
            if owner != "shared"
            else None,
            "trigger": client.post(
                f"/api/v2/dags/{owner}_etl/dagRuns",
                json={"logical_date": None},
                headers=headers,
            ).status_code
            if owner != "shared"
            else None,
            "variable": client.get(f"/api/v2/variables/{owner}_var", headers=headers).status_code,
            # the body names the variable's team: without it the PATCH would move it to no team
            "patch variable": client.patch(
                f"/api/v2/variables/{owner}_var",
                json={"key": f"{owner}_var", "value": "x", "team_name": None if owner == "shared" else owner},
                headers=headers,
            ).status_code,
            "connection": client.get(f"/api/v2/connections/{owner}_conn", headers=headers).status_code,
            "pool": client.get(f"/api/v2/pools/{owner}_pool", headers=headers).status_code,
        }
        codes = {k: v for k, v in codes.items() if v is not None}
        if allowed:
            assert set(codes.values()) == {200}, (owner, codes)
        else:
            assert set(codes.values()) == {403}, (owner, codes)


@pytest.mark.parametrize("team", TEAMS)
def test_creating_for_another_team_or_no_team_is_refused(
    client: httpx.Client, teams: dict[str, str], team: str
) -> None:
    other = "beta" if team == "alpha" else "alpha"
    headers = _auth(teams[team])
    own = client.post(
        "/api/v2/variables",
        json={"key": f"{team}_new", "value": "v", "team_name": team},
        headers=headers,
    )
    assert own.status_code == 201, own.text
    for body in ({"team_name": other}, {}):
        refused = client.post(
            "/api/v2/variables",
            json={"key": f"{team}_x", "value": "v", **body},
            headers=headers,
        )
        assert refused.status_code == 403, (body, refused.text)
