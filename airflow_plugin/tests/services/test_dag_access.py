"""Per-DAG rules: parsing, matching by glob and tag, and the higher of global and rule role per DAG."""

from __future__ import annotations

import json
from typing import Any

import pytest
from airflow.api_fastapi.auth.managers.models.resource_details import (
    AccessView,
    DagAccessEntity,
    DagDetails,
)
from airflow.api_fastapi.common.types import MenuItem

from airflow_webauthn.auth_manager import WebAuthnAuthManager
from airflow_webauthn.config import WebAuthnConfigError
from airflow_webauthn.services.dag_access import DagAccess, DagTagIndex, parse_dag_access
from airflow_webauthn.services.roles import Role
from airflow_webauthn.user import WebAuthnUser

from support import make_settings

TAGS = {
    "fin_daily": frozenset({"finance"}),
    "fin_monthly": frozenset({"finance", "reports"}),
    "hr_payroll": frozenset({"hr", "finance"}),
    "ml_train": frozenset({"ml"}),
    "sales_report": frozenset(),
}
RULES = [
    {"groups": ["finance"], "dag_tags": ["finance"], "role": "USER"},
    {"groups": ["ml"], "dag_ids": ["ml_*"], "role": "VIEWER"},
    {"groups": ["auditors"], "dag_ids": ["fin_*", "sales_[!x]*"], "role": "VIEWER"},
    {"groups": ["viewers"], "dag_ids": ["ml_*"], "role": "OP"},
]


class CountingLoader:
    def __init__(self, tags: dict[str, frozenset[str]]) -> None:
        self.tags = tags
        self.calls = 0

    def __call__(self) -> dict[str, frozenset[str]]:
        self.calls += 1
        return dict(self.tags)


def manager(rules: list[dict[str, Any]], loader: CountingLoader | None = None) -> WebAuthnAuthManager:
    settings = make_settings(dag_access=json.dumps(rules))
    am = WebAuthnAuthManager(settings=settings)
    load = loader or CountingLoader(TAGS)
    am.dag_access = DagAccess(rules=settings.dag_access, tags=DagTagIndex(ttl_seconds=60, load=load))
    return am


def person(*groups: str, role: str | None = "NONE") -> WebAuthnUser:
    return WebAuthnUser(user_id="u-1", username="fay", role=role, groups=groups)


@pytest.fixture
def am() -> WebAuthnAuthManager:
    return manager(RULES)


# ---- parsing ----


def test_valid_rules_parse() -> None:
    rules, problems = parse_dag_access(json.dumps(RULES))
    assert problems == []
    assert rules[0].role is Role.USER
    assert rules[0].dag_tags == {"finance"}
    assert rules[2].dag_ids == ("fin_*", "sales_[!x]*")


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"groups": ["g"], "dag_ids": ["a*"], "role": "ADMIN"}, "rule 0 role 'ADMIN' is not one of VIEWER"),
        ({"groups": ["g"], "dag_ids": ["a*"], "role": "boss"}, "rule 0 role 'boss' is not one of"),
        ({"groups": ["g"], "dag_ids": ["a*"]}, "rule 0 role None is not one of"),
        (
            {"groups": ["g"], "dag_ids": ["fin_[abc"], "role": "USER"},
            "rule 0 dag_ids has a bad glob 'fin_[abc'",
        ),
        ({"groups": ["g"], "dag_ids": ["a b"], "role": "USER"}, "rule 0 dag_ids has a bad glob 'a b'"),
        ({"groups": ["g"], "dag_ids": ["[]"], "role": "USER"}, "rule 0 dag_ids has a bad glob '[]'"),
        (
            {"groups": ["g"], "dag_ids": ["a*"], "role": "USER", "tags": ["x"]},
            "rule 0 has unknown key 'tags'",
        ),
        ({"groups": [], "dag_ids": ["a*"], "role": "USER"}, "rule 0 groups must name at least one group"),
        ({"groups": "g", "dag_ids": ["a*"], "role": "USER"}, "rule 0 groups must be a list of non-empty"),
        ({"groups": ["g"], "dag_tags": [""], "role": "USER"}, "rule 0 dag_tags must be a list of non-empty"),
        ({"groups": ["g"], "role": "USER"}, "rule 0 matches no DAG"),
    ],
)
def test_each_mistake_is_one_clear_line(rule: dict[str, Any], message: str) -> None:
    """Every broken rule is refused at start-up with a message naming the rule and the mistake."""
    _, problems = parse_dag_access(json.dumps([rule]))
    assert len(problems) == 1, problems
    assert problems[0].startswith(message), problems


def test_settings_report_every_broken_rule_at_once() -> None:
    broken = [
        {"groups": ["a"], "dag_ids": ["x*"], "role": "ADMIN"},
        {"groups": ["b"], "dag_ids": ["y*"], "role": "USER", "colour": "red"},
    ]
    with pytest.raises(WebAuthnConfigError) as caught:
        make_settings(dag_access=json.dumps(broken))
    lines = str(caught.value).splitlines()[1:]
    assert [line.split(" rule ")[1][:1] for line in lines] == ["0", "1"]
    assert all(line.strip().startswith("[webauthn_auth_manager] dag_access rule") for line in lines)


@pytest.mark.parametrize("text", ["{", '{"groups": []}', '"x"'])
def test_dag_access_must_be_a_json_list(text: str) -> None:
    with pytest.raises(WebAuthnConfigError, match="dag_access"):
        make_settings(dag_access=text)


def test_rule_only_groups_sign_in_with_no_global_role() -> None:
    """Groups named only by rules map to NONE; a mapped group keeps its role; NONE is not grantable."""
    settings = make_settings(
        dag_access=json.dumps([{"groups": ["finance", "users"], "dag_tags": ["f"], "role": "VIEWER"}])
    )
    assert settings.role_mapping["finance"] is Role.NONE
    assert settings.role_mapping["users"] is Role.USER
    with pytest.raises(WebAuthnConfigError, match="use VIEWER, USER, OP or ADMIN"):
        make_settings(role_mapping=json.dumps({"x": "NONE"}))


# ---- decisions ----


def test_tag_rule_opens_exactly_the_tagged_dags(am: WebAuthnAuthManager) -> None:
    fay = person("finance")
    assert am.filter_authorized_dag_ids(dag_ids=set(TAGS), user=fay) == {
        "fin_daily",
        "fin_monthly",
        "hr_payroll",
    }
    assert am.filter_authorized_dag_ids(dag_ids=set(TAGS), user=fay, method="POST") == {
        "fin_daily",
        "fin_monthly",
        "hr_payroll",
    }
    assert am.is_authorized_dag(method="PUT", user=fay, details=DagDetails(id="fin_daily"))
    assert not am.is_authorized_dag(method="GET", user=fay, details=DagDetails(id="ml_train"))


def test_id_globs_match_whole_ids_case_sensitively(am: WebAuthnAuthManager) -> None:
    auditor = person("auditors")
    ids = {"fin_daily", "FIN_daily", "xfin_daily", "sales_report", "sales_xyz", "ml_train"}
    assert am.filter_authorized_dag_ids(dag_ids=ids, user=auditor) == {"fin_daily", "sales_report"}
    # VIEWER by rule: reads, never changes
    assert am.filter_authorized_dag_ids(dag_ids=ids, user=auditor, method="PUT") == set()


@pytest.mark.parametrize(
    "entity",
    [
        DagAccessEntity.RUN,
        DagAccessEntity.TASK_INSTANCE,
        DagAccessEntity.TASK_LOGS,
        DagAccessEntity.XCOM,
        DagAccessEntity.HITL_DETAIL,
    ],
)
def test_dag_scoped_entities_follow_the_rule(am: WebAuthnAuthManager, entity: DagAccessEntity) -> None:
    fay = person("finance")
    assert am.is_authorized_dag(
        method="POST", access_entity=entity, user=fay, details=DagDetails(id="fin_daily")
    )
    assert not am.is_authorized_dag(
        method="GET", access_entity=entity, user=fay, details=DagDetails(id="ml_train")
    )


def test_higher_of_global_and_rule_role_wins_per_dag(am: WebAuthnAuthManager) -> None:
    """A global VIEWER with an OP rule on ml_* changes ml_train, reads the rest, changes nothing else."""
    vic = person("viewers", role="VIEWER")
    assert am.filter_authorized_dag_ids(dag_ids=set(TAGS), user=vic) == set(TAGS)
    assert am.filter_authorized_dag_ids(dag_ids=set(TAGS), user=vic, method="PUT") == {"ml_train"}
    # a global USER with a VIEWER rule keeps USER everywhere (the rule never lowers a role)
    uma = person("ml", role="USER")
    assert am.filter_authorized_dag_ids(dag_ids=set(TAGS), user=uma, method="DELETE") == set(TAGS)


def test_unknown_dag_is_opened_only_by_its_id(am: WebAuthnAuthManager) -> None:
    """A DAG with no tags on record (unknown, or not parsed yet) is matched by id globs only."""
    assert not am.is_authorized_dag(method="GET", user=person("finance"), details=DagDetails(id="ghost"))
    assert am.is_authorized_dag(method="GET", user=person("auditors"), details=DagDetails(id="fin_ghost"))


def test_no_rule_no_dag(am: WebAuthnAuthManager) -> None:
    nobody = person("contractors")
    assert am.filter_authorized_dag_ids(dag_ids=set(TAGS), user=nobody) == set()
    assert not am.is_authorized_dag(method="GET", user=nobody)
    assert not am.is_authorized_dag(
        method="GET", user=person(role="NONE"), details=DagDetails(id="fin_daily")
    )


def test_rules_never_open_other_resources(am: WebAuthnAuthManager) -> None:
    """A USER rule is about DAGs: pools, variables, connections and configuration stay closed."""
    fay = person("finance")
    assert not am.is_authorized_pool(method="GET", user=fay)
    assert not am.is_authorized_variable(method="GET", user=fay)
    assert not am.is_authorized_connection(method="GET", user=fay)
    assert not am.is_authorized_configuration(method="GET", user=fay)
    assert not am.is_authorized_view(access_view=AccessView.JOBS, user=fay)
    assert am.is_authorized_view(access_view=AccessView.DOCS, user=fay)


def test_list_endpoints_open_when_a_rule_may_open_a_dag(am: WebAuthnAuthManager) -> None:
    """No DAG id (list endpoints, "~"): allowed if a rule of the needed role exists; the list is filtered."""
    assert am.is_authorized_dag(method="GET", user=person("auditors"))
    assert not am.is_authorized_dag(method="POST", user=person("auditors"))
    assert am.is_authorized_dag(method="POST", user=person("finance"))


def test_menu_of_a_rule_only_person(am: WebAuthnAuthManager) -> None:
    shown = am.filter_authorized_menu_items(list(MenuItem), user=person("finance"))
    assert set(shown) == {MenuItem.DAGS, MenuItem.REQUIRED_ACTIONS, MenuItem.DOCS}
    assert am.filter_authorized_menu_items(list(MenuItem), user=person("contractors")) == []


def test_batch_is_all_or_nothing(am: WebAuthnAuthManager) -> None:
    fay = person("finance")
    ok = [{"method": "PUT", "details": DagDetails(id=d)} for d in ("fin_daily", "hr_payroll")]
    assert am.batch_is_authorized_dag(ok, user=fay)  # type: ignore[arg-type]
    mixed = [*ok, {"method": "GET", "details": DagDetails(id="ml_train")}]
    assert not am.batch_is_authorized_dag(mixed, user=fay)  # type: ignore[arg-type]


def test_a_page_costs_one_tag_lookup_per_ttl() -> None:
    loader = CountingLoader(TAGS)
    am = manager(RULES, loader)
    fay = person("finance")
    for _ in range(5):
        am.filter_authorized_dag_ids(dag_ids=set(TAGS), user=fay)
        am.is_authorized_dag(method="GET", user=fay, details=DagDetails(id="fin_daily"))
    assert loader.calls == 1
    # people whose global role decides, and globs that decide, never look tags up
    fresh = CountingLoader(TAGS)
    am = manager(RULES, fresh)
    am.filter_authorized_dag_ids(dag_ids=set(TAGS), user=person("finance", role="USER"))
    am.filter_authorized_dag_ids(dag_ids={"fin_daily"}, user=person("auditors"))
    assert fresh.calls == 0


def test_new_tags_apply_after_the_ttl() -> None:
    loader = CountingLoader(dict(TAGS))
    index = DagTagIndex(ttl_seconds=0, load=loader)
    access = DagAccess(rules=parse_dag_access(json.dumps(RULES))[0], tags=index)
    assert access.filter({"ml_train"}, groups=["finance"], needed=Role.VIEWER) == set()
    loader.tags["ml_train"] = frozenset({"ml", "finance"})
    assert access.filter({"ml_train"}, groups=["finance"], needed=Role.VIEWER) == {"ml_train"}


def test_the_plugin_list_is_open_to_people_with_a_ui(am: WebAuthnAuthManager) -> None:
    """The UI builds its menus, the "Passkeys" item among them, from the plugin list: a person whose only
    access is a DAG rule may list plugins; someone with no access at all may not."""
    assert am.is_authorized_view(access_view=AccessView.PLUGINS, user=person("finance"))
    assert not am.is_authorized_view(access_view=AccessView.PLUGINS, user=person("contractors"))
