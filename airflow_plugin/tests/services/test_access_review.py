"""The Airflow half of the access review: roles and reasons from the manager's own resolution, CSV and HTML."""

from __future__ import annotations

import csv
import io
from typing import Any

from airflow_webauthn.services.access_review import AccessResolver, build_review, review_csv
from airflow_webauthn.services.access_review_html import render_html
from airflow_webauthn.services.dag_access import DagAccess, DagRule, DagTagIndex
from airflow_webauthn.services.roles import Role
from airflow_webauthn.services.teams import TeamGrant, TeamRoles

RESOLVER = AccessResolver(
    role_mapping={"admins": Role.ADMIN, "viewers": Role.VIEWER, "finance": Role.NONE, "data": Role.NONE},
    team_roles=TeamRoles(grants={"data": TeamGrant(role=Role.OP, teams=frozenset({"blue"}))}),
    dag_access=DagAccess(
        rules=(DagRule(groups=frozenset({"finance"}), role=Role.USER, dag_tags=frozenset({"fin"})),),
        tags=DagTagIndex(ttl_seconds=60, load=dict),
    ),
)
NOT_EVALUATED = {"status": "not_evaluated", "reason": "no authenticator policy is configured"}


def person(username: str, groups: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "id": username, "username": username, "displayName": username.title(), "groups": groups,
        "status": "active", "createdAt": "2026-01-01T00:00:00.000Z", "identityProvider": None,
        "lastSignInAt": None, "lastSignInMethod": None, "lastTokenIssuedAt": None, "dormant": False,
        "disabledAt": None, "sessionsEnded": None, "passkeys": [], "compliance": NOT_EVALUATED, **extra,
    }  # fmt: skip


def report(people: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "generatedAt": "2026-12-07T00:00:00.000Z",
        "period": {"since": "2026-12-05T00:00:00.000Z", "until": "2026-12-07T00:00:00.000Z"},
        "dormantDays": 90, "people": people, "serviceAccounts": [],
        "delegations": {"note": "none", "items": []}, "keyRotations": [],
        "failedSignIns": {"attempts": 0, "byReason": []},
        "signInsPerDay": [{"day": "2026-12-05", "count": 0}, {"day": "2026-12-06", "count": 3}],
        "auditChain": {"intact": False, "events": 4, "problem": "event x at position 2 was altered",
                       "verifiedAt": "2026-12-07T00:00:00.000Z", "signature": None},
    }  # fmt: skip


def test_roles_and_reasons_come_from_role_mapping_teams_and_dag_rules() -> None:
    """Each source of access is named; an unmapped group gives no access and is not privileged."""
    assert RESOLVER.describe(["admins", "viewers"])["why"] == ["admins → ADMIN", "viewers → VIEWER"]
    team = RESOLVER.describe(["data"])
    assert (team["airflowRole"], team["teams"], team["privileged"]) == ("NONE", ["OP in blue"], True)
    rule = RESOLVER.describe(["finance"])
    assert rule["dagRules"] == ["USER on tag fin"]
    assert rule["privileged"] is False
    nobody = RESOLVER.describe(["strangers"])
    assert (nobody["airflowRole"], nobody["hasAccess"], nobody["why"]) == (None, False, [])


def test_privileged_section_lists_only_active_admins_and_operators() -> None:
    """A disabled admin is in the disabled section, not among those holding admin rights now."""
    review = build_review(
        report(
            [person("ada", ["admins"]), person("ex", ["admins"], status="disabled"), person("v", ["viewers"])]
        ),
        RESOLVER,
    )
    assert [p["username"] for p in review["privileged"]] == ["ada"]
    assert [p["username"] for p in review["disabled"]] == ["ex"]


def test_csv_has_one_row_per_account_and_survives_commas() -> None:
    """Reasons with commas stay in one cell; every column of the header is filled for a person."""
    text = review_csv(build_review(report([person("fin", ["finance", "viewers"])]), RESOLVER))
    [row] = list(csv.DictReader(io.StringIO(text)))
    assert row["why"] == "viewers → VIEWER; finance → USER on DAGs by tag fin (dag_access)"
    assert row["airflow_role"] == "VIEWER"
    assert row["compliance"] == "not_evaluated"


def test_html_escapes_what_people_type_and_says_when_the_chain_is_broken() -> None:
    """A display name is data, never markup; a broken audit chain is shown as BROKEN with its problem."""
    html = render_html(
        build_review(report([person("eve", ["viewers"], displayName="<img src=x>")]), RESOLVER)
    )
    assert "<img src=x>" not in html
    assert "&lt;img src=x&gt;" in html
    assert "BROKEN" in html
    assert "event x at position 2 was altered" in html
    assert html.count("<rect") == 2
