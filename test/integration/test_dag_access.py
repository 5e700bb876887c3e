"""Per-DAG rules on the real api-server, with real serialized DAGs carrying tags.

Rules (support/stack.py DAG_ACCESS): it-finance is USER on DAGs tagged "finance"; it-auditors is VIEWER
on ``it_fin_*`` and ``it_sales_[!x]*``; it-ml is OP on ``it_ml_*``. it-finance and it-auditors are in
no role_mapping group, so their members have no global role. Every DAG-scoped route must agree: list,
detail, trigger, clear, task logs, grid and the cross-DAG run list.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import httpx
import pytest

from support.processes import ManagedProcess, free_port, tail
from support.stack import UNMAPPED_GROUP, airflow_bin, client_credentials_token
from support.waiting import wait_until

if TYPE_CHECKING:
    from support.stack import Stack

ALL_DAGS = {"it_fin_daily", "it_fin_monthly", "it_hr_payroll", "it_ml_train", "it_sales_report"}
FINANCE = {"it_fin_daily", "it_fin_monthly", "it_hr_payroll"}  # by tag: it_hr_payroll has no it_fin_ id

# account -> (groups, DAGs it may read, DAGs it may change)
ACCOUNTS: dict[str, tuple[list[str], set[str], set[str]]] = {
    "finance": (["it-finance"], FINANCE, FINANCE),
    "auditor": (["it-auditors"], {"it_fin_daily", "it_fin_monthly", "it_sales_report"}, set()),
    # global VIEWER + OP rule on it_ml_*: the higher of the two per DAG
    "viewer-ml": (["it-viewers", "it-ml"], ALL_DAGS, {"it_ml_train"}),
    # global USER + VIEWER rule: a rule never lowers the global role
    "user-auditor": (["it-users", "it-auditors"], ALL_DAGS, ALL_DAGS),
    "nobody": ([UNMAPPED_GROUP], set(), set()),
}


@pytest.fixture(scope="module")
def tokens(stack: Stack) -> dict[str, str]:
    made = {}
    for name, (groups, _, _) in ACCOUNTS.items():
        account = stack.service.cli(
            "service-account", "create", "--name", f"it-dag-{name}", "--groups", ",".join(groups)
        )
        made[name] = client_credentials_token(stack.service.url, account)
    made["admin"] = client_credentials_token(stack.service.url, stack.accounts["admin"])
    return made


@pytest.fixture(scope="module")
def runs(stack: Stack, tokens: dict[str, str]) -> dict[str, str]:
    """One run per DAG, triggered by an admin, so run-, task- and log-scoped routes have something to show."""
    ids = {}
    with httpx.Client(base_url=stack.airflow.url, timeout=30) as client:
        for dag_id in sorted(ALL_DAGS):
            response = client.post(
                f"/api/v2/dags/{dag_id}/dagRuns", json={"logical_date": None}, headers=_auth(tokens["admin"])
            )
            assert response.status_code == 200, response.text
            ids[dag_id] = response.json()["dag_run_id"]
    return ids


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _listed(client: httpx.Client, token: str) -> set[str]:
    response = client.get("/api/v2/dags", params={"limit": 100}, headers=_auth(token))
    assert response.status_code == 200, response.text
    return {dag["dag_id"] for dag in response.json()["dags"]} & ALL_DAGS


def test_suite_dags_are_serialized(airflow: httpx.Client, tokens: dict[str, str]) -> None:
    """The harness serialized the tagged DAGs (otherwise every other test here proves nothing)."""
    response = airflow.get("/api/v2/dags/it_hr_payroll", headers=_auth(tokens["admin"]))
    assert response.status_code == 200, response.text
    assert {tag["name"] for tag in response.json()["tags"]} == {"hr", "finance"}


@pytest.mark.parametrize("name", list(ACCOUNTS))
def test_dag_list_shows_exactly_the_permitted_dags(
    airflow: httpx.Client, tokens: dict[str, str], name: str
) -> None:
    _, readable, _ = ACCOUNTS[name]
    if name == "nobody":  # no role, no rule: refused outright
        response = airflow.get("/api/v2/dags", headers=_auth(tokens[name]))
        assert response.status_code == 403
        return
    assert _listed(airflow, tokens[name]) == readable
    # the UI's DAG list and the cross-DAG run list agree with the REST list
    ui = airflow.get("/ui/dags", params={"limit": 100}, headers=_auth(tokens[name]))
    assert ui.status_code == 200, ui.text
    assert {dag["dag_id"] for dag in ui.json()["dags"]} & ALL_DAGS == readable


@pytest.mark.parametrize("name", [n for n in ACCOUNTS if n != "nobody"])
def test_run_list_across_dags_is_filtered(
    airflow: httpx.Client, tokens: dict[str, str], runs: dict[str, str], name: str
) -> None:
    _, readable, _ = ACCOUNTS[name]
    response = airflow.get("/api/v2/dags/~/dagRuns", params={"limit": 100}, headers=_auth(tokens[name]))
    assert response.status_code == 200, response.text
    assert {run["dag_id"] for run in response.json()["dag_runs"]} & ALL_DAGS == readable


@pytest.mark.parametrize("dag_id", sorted(ALL_DAGS))
@pytest.mark.parametrize("name", list(ACCOUNTS))
def test_reads_per_dag(
    airflow: httpx.Client, tokens: dict[str, str], runs: dict[str, str], name: str, dag_id: str
) -> None:
    """Detail, grid, task instances and task logs: 200 on a readable DAG, 403 on every other."""
    _, readable, _ = ACCOUNTS[name]
    run_id = runs[dag_id]
    paths = [
        f"/api/v2/dags/{dag_id}",
        f"/api/v2/dags/{dag_id}/details",
        f"/ui/grid/runs/{dag_id}",
        f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances",
        f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/work/logs/1",
    ]
    codes = {path: airflow.get(path, headers=_auth(tokens[name])).status_code for path in paths}
    if dag_id in readable:
        assert all(code != 403 and code < 500 for code in codes.values()), codes
        assert codes[paths[0]] == 200, codes
    else:
        assert set(codes.values()) == {403}, codes


@pytest.mark.parametrize("dag_id", sorted(ALL_DAGS))
@pytest.mark.parametrize("name", list(ACCOUNTS))
def test_changes_per_dag(airflow: httpx.Client, tokens: dict[str, str], name: str, dag_id: str) -> None:
    """Trigger and clear: allowed exactly where a rule (or the global role) gives USER or more."""
    _, _, changeable = ACCOUNTS[name]
    headers = _auth(tokens[name])
    trigger = airflow.post(f"/api/v2/dags/{dag_id}/dagRuns", json={"logical_date": None}, headers=headers)
    clear = airflow.post(
        f"/api/v2/dags/{dag_id}/clearTaskInstances",
        json={"dry_run": True, "only_failed": False},
        headers=headers,
    )
    expected = (200, 200) if dag_id in changeable else (403, 403)
    assert (trigger.status_code, clear.status_code) == expected, (trigger.text, clear.text)


def test_rule_only_account_gets_nothing_but_dags(airflow: httpx.Client, tokens: dict[str, str]) -> None:
    """A USER rule is about DAGs: pools, variables, connections and configuration stay closed."""
    headers = _auth(tokens["finance"])
    for path in ("/api/v2/pools", "/api/v2/variables", "/api/v2/connections", "/api/v2/config"):
        assert airflow.get(path, headers=headers).status_code == 403, path
    me = airflow.get("/ui/auth/me", headers=headers)
    assert me.status_code == 200, me.text


def test_person_with_only_a_rule_signs_in_and_sees_only_their_dags(
    airflow: httpx.Client, stack: Stack, tokens: dict[str, str]
) -> None:
    """A passkey person in no role_mapping group but in a rule's group gets a session (not the no-role
    403) and sees exactly the finance DAGs; the no-role refusal for everyone else is proven in
    test_passkey_login (nora)."""
    from test_passkey_login import enroll, session_cookie, sign_in, with_cookie

    from support.soft_authenticator import SoftAuthenticator

    stack.invites["fiona"] = stack.service.cli(
        "invite", "create", "--username", "fiona", "--groups", "it-finance"
    )
    authenticator = SoftAuthenticator(alg="EdDSA")
    enroll(airflow, stack, "fiona", authenticator)
    response = sign_in(airflow, stack, authenticator, username="fiona")
    assert response.status_code == 200, response.text
    cookie = session_cookie(response)
    assert cookie is not None
    headers = with_cookie(cookie.value)
    listed = airflow.get("/api/v2/dags", params={"limit": 100}, headers=headers)
    assert listed.status_code == 200, listed.text
    assert {dag["dag_id"] for dag in listed.json()["dags"]} & ALL_DAGS == FINANCE
    assert airflow.get("/api/v2/dags/it_ml_train", headers=headers).status_code == 403
    assert airflow.get("/api/v2/variables", headers=headers).status_code == 403
    me = airflow.get("/ui/auth/me", headers=headers)
    assert me.status_code == 200, me.text


def test_invalid_rules_are_refused_at_start_up(stack: Stack) -> None:
    """An api-server with broken dag_access rules never serves, and says what is wrong, one line each."""
    broken = [
        {"groups": ["g"], "dag_ids": ["x*"], "role": "ADMIN"},
        {"groups": ["g"], "dag_ids": ["fin_[abc"], "role": "USER"},
        {"groups": ["g"], "dag_tags": ["t"], "role": "USER", "colour": "red"},
    ]
    port = free_port()
    log = stack.workdir / "airflow-broken-dag-access.log"
    env = {**stack.airflow.env, "AIRFLOW__WEBAUTHN_AUTH_MANAGER__DAG_ACCESS": json.dumps(broken)}
    server = ManagedProcess(
        "airflow api-server (broken dag_access)",
        [str(airflow_bin()), "api-server", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=stack.workdir,
        log=log,
    ).start()
    expected = [
        "dag_access rule 0 role 'ADMIN' is not one of VIEWER, USER, OP",
        "dag_access rule 1 dag_ids has a bad glob 'fin_[abc'",
        "dag_access rule 2 has unknown key 'colour'",
    ]
    try:
        # Until the refusals are logged or the api-server exits (then they must be in its log already).
        wait_until(
            lambda: log.read_text(errors="replace") if log.exists() else "",
            lambda text: all(line in text for line in expected)
            or bool(server.proc and server.proc.poll() is not None),
            within=180,
            every=0.5,
        )
        text = log.read_text(errors="replace")
        assert all(line in text for line in expected), tail(log, 40)
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"http://127.0.0.1:{port}/api/v2/monitor/health", timeout=2).raise_for_status()
    finally:
        server.stop()
