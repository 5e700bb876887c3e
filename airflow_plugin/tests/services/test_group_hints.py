"""The invite form's list of groups: what each configured group gives, from role_mapping and dag_access."""

from __future__ import annotations

import json

from airflow_webauthn.services.group_hints import GroupHint, group_hints

from support import make_settings


def test_each_mapped_group_is_listed_with_its_role() -> None:
    """role_mapping groups appear once each, sorted, with the role they give."""
    settings = make_settings(role_mapping=json.dumps({"ops": "OP", "admins": "ADMIN"}))
    assert group_hints(settings) == [GroupHint("admins", "ADMIN"), GroupHint("ops", "OP")]


def test_dag_rules_are_described_and_rule_only_groups_get_no_global_role() -> None:
    """A dag_access rule's groups show the role and which DAGs; a group only in rules shows no global role."""
    rules = [{"groups": ["finance"], "dag_tags": ["finance"], "dag_ids": ["fin_*"], "role": "USER"}]
    settings = make_settings(role_mapping=json.dumps({"viewers": "VIEWER"}), dag_access=json.dumps(rules))
    assert group_hints(settings) == [
        GroupHint("finance", "USER on DAGs tagged finance or id fin_*"),
        GroupHint("viewers", "VIEWER"),
    ]
