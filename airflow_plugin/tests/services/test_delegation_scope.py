"""An agent's delegated scope: what it allows on which DAG, and what it never allows."""

from __future__ import annotations

import pytest

from airflow_webauthn.services.delegation_scope import DelegatedScope, dag_action

SCOPE = DelegatedScope.parse("dag:read:tag=finance dag:trigger:id=finance_*")


def test_trigger_is_allowed_only_on_the_dags_the_glob_selects() -> None:
    """A trigger delegation on finance_* triggers finance_daily and nothing else."""
    assert SCOPE.allows("trigger", "finance_daily")
    assert not SCOPE.allows("trigger", "marketing_daily")
    assert not SCOPE.allows("clear", "finance_daily")


def test_read_follows_tags_and_is_implied_by_trigger() -> None:
    """Reading needs a read item for the DAG or any other action on it; a tag selects by the DAG's tags."""
    assert SCOPE.allows("read", "reporting", ["finance"])
    assert SCOPE.allows("read", "finance_daily", [])
    assert not SCOPE.allows("read", "marketing_daily", ["marketing"])
    assert not SCOPE.allows("trigger", "reporting", ["finance"])


def test_no_action_or_no_dag_is_never_allowed() -> None:
    """A request a delegation cannot name (no action, no DAG id) is refused, whatever the scope."""
    everything = DelegatedScope.parse("dag:read:id=* dag:trigger:id=* dag:clear:id=*")
    assert not everything.allows(None, "finance_daily")
    assert not everything.allows("read", None)
    assert not everything.allows("delete", "finance_daily")


@pytest.mark.parametrize(
    ("method", "entity", "action"),
    [
        ("GET", None, "read"),
        ("GET", "RUN", "read"),
        ("POST", "RUN", "trigger"),
        ("PUT", "TASK_INSTANCE", "clear"),
        ("POST", "TASK_INSTANCE", "clear"),
        ("PUT", None, None),
        ("DELETE", None, None),
        ("DELETE", "RUN", None),
        ("POST", "XCOM", None),
    ],
)
def test_airflow_requests_map_to_delegated_actions(
    method: str, entity: str | None, action: str | None
) -> None:
    """Pausing or deleting a DAG, deleting runs, writing XComs: no delegation grants them."""
    assert dag_action(method, entity) == action


@pytest.mark.parametrize(
    "bad",
    ["", "sessions:read", "dag:write:id=x", "dag:read:id=", "dag:read:id=a[b]", "dag:read:tag=a*b", 5, None],
)
def test_a_malformed_scope_is_refused(bad: object) -> None:
    """Fail closed: a scope that does not parse refuses the token rather than allowing anything."""
    with pytest.raises(ValueError, match=r"scope|dag:|selector"):
        DelegatedScope.parse(bad)


def test_globs_are_only_star_and_question_mark() -> None:
    """No character classes: the service's grammar refuses them, and a dot is a dot."""
    assert DelegatedScope.parse("dag:read:id=f?n_*").allows("read", "fin_x")
    assert not DelegatedScope.parse("dag:read:id=a.b").allows("read", "axb")
