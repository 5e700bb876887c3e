"""The access review as Airflow sees it: the service's report plus what only Airflow knows.

The auth service reads people, passkeys, service accounts, key rotations, refused sign-ins and the audit
chain's signed head in one transaction (``GET /v1/admin/reports/access-review``). Airflow adds, for each
account, the role it gets here and why: the groups ``role_mapping`` maps (globally or in teams) and the
``dag_access`` rules that name its groups, resolved by the auth manager's own code (``resolve_role``,
``TeamRoles``, ``DagAccess.granting``), so the review shows what Airflow enforces.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_webauthn.services.roles import Role, resolve_role

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from airflow_webauthn.services.dag_access import DagAccess
    from airflow_webauthn.services.teams import TeamRoles

PRIVILEGED_ROLES = (Role.OP, Role.ADMIN)

# Each section of the review and the controls it is evidence for (SOC 2 TSC 2017, ISO/IEC 27001:2022 Annex A).
CONTROLS: tuple[tuple[str, str, str], ...] = (
    ("Everyone with access, and why", "CC6.1, CC6.2", "A.5.15, A.5.18"),
    ("Admin and operator rights, and their authenticators", "CC6.1, CC6.3", "A.5.15, A.5.18, A.8.5"),
    ("Dormant accounts", "CC6.2", "A.5.16, A.5.18"),
    ("Disabled accounts and ended sessions", "CC6.2", "A.5.16, A.5.18"),
    ("Service accounts and agents", "CC6.1, CC6.3", "A.5.16, A.5.17, A.5.18"),
    ("Delegations", "CC6.3", "A.5.15, A.5.18"),
    ("Signing-key rotations", "CC6.1", "A.5.17, A.8.5"),
    ("Sign-ins per day and failed sign-ins", "CC6.1", "A.8.5"),
    ("Audit chain head (integrity of this evidence)", "CC6.1", "A.5.15"),
)


@dataclass(frozen=True)
class AccessResolver:
    """Who gets what in Airflow, from groups: the auth manager's role mapping, teams and DAG rules."""

    role_mapping: Mapping[str, Role]
    team_roles: TeamRoles
    dag_access: DagAccess

    def describe(self, groups: Iterable[str]) -> dict[str, Any]:
        groups = list(groups)
        role = resolve_role(groups, self.role_mapping)
        why = [
            f"{group} → {self.role_mapping[group].name}"
            for group in groups
            if self.role_mapping.get(group) not in (None, Role.NONE)
        ]
        teams: list[str] = []
        for group in groups:
            grant = self.team_roles.grants.get(group)
            if grant:
                teams.extend(f"{grant.role.name} in {team}" for team in sorted(grant.teams))
                why.append(f"{group} → {grant.role.name} in team {', '.join(sorted(grant.teams))}")
        rules = []
        for rule in self.dag_access.granting(groups, Role.VIEWER):
            matches = [f"tag {tag}" for tag in sorted(rule.dag_tags)] + [
                f"id {glob}" for glob in rule.dag_ids
            ]
            rules.append(f"{rule.role.name} on {', '.join(matches)}")
            via = ", ".join(sorted(rule.groups & set(groups)))
            why.append(f"{via} → {rule.role.name} on DAGs by {', '.join(matches)} (dag_access)")
        team_best = self.team_roles.best(groups)
        privileged = (role is not None and role in PRIVILEGED_ROLES) or (
            team_best is not None and team_best in PRIVILEGED_ROLES
        )
        return {
            # None: no group of this account is mapped, so Airflow refuses it. NONE: DAG rules or teams only.
            "airflowRole": role.name if role is not None else None,
            "teams": teams,
            "dagRules": rules,
            "why": why,
            "hasAccess": role is not None,
            "privileged": privileged,
        }


def build_review(service_report: Mapping[str, Any], resolver: AccessResolver) -> dict[str, Any]:
    """The service's report with Airflow's roles added, and the review's sections in order."""
    people = [
        {**person, **resolver.describe(person.get("groups") or [])} for person in service_report["people"]
    ]
    accounts = [
        {**account, **resolver.describe(account.get("groups") or [])}
        for account in service_report["serviceAccounts"]
    ]
    return {
        "report": "access-review",
        "generatedAt": service_report["generatedAt"],
        "period": service_report["period"],
        "dormantDays": service_report["dormantDays"],
        "people": people,
        "privileged": [p for p in people if p["privileged"] and p["status"] == "active"],
        "dormant": [p for p in people if p["dormant"]],
        "disabled": [p for p in people if p["status"] == "disabled"],
        "serviceAccounts": accounts,
        "delegations": service_report["delegations"],
        "keyRotations": service_report["keyRotations"],
        "failedSignIns": service_report["failedSignIns"],
        "signInsPerDay": service_report["signInsPerDay"],
        "auditChain": service_report["auditChain"],
        "controls": [{"section": s, "soc2": soc2, "iso27001": iso} for s, soc2, iso in CONTROLS],
    }


def passkey_summary(passkeys: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Active passkeys of a person: how many, which models, how many bound to one device or backed up."""
    active = [p for p in passkeys if p.get("status") == "active"]
    return {
        "count": len(active),
        "models": sorted({p.get("model") or "unknown model" for p in active}),
        "deviceBound": sum(1 for p in active if p.get("deviceBound")),
        "backedUp": sum(1 for p in active if p.get("backedUp")),
    }


CSV_COLUMNS = (
    "kind", "name", "display_name", "status", "airflow_role", "teams", "dag_rules", "why", "groups",
    "privileged", "compliance", "identity_provider", "last_sign_in_at", "last_sign_in_method", "dormant",
    "disabled_at", "sessions_ended", "passkeys", "passkey_models", "device_bound", "backed_up", "scopes",
    "created_at",
)  # fmt: skip


def review_csv(review: Mapping[str, Any]) -> str:
    """One row per account (people, then service accounts): the sheet an access review is ticked off on."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    join = "; ".join
    for p in review["people"]:
        keys = passkey_summary(p.get("passkeys") or [])
        writer.writerow({
            "kind": "person", "name": p["username"], "display_name": p.get("displayName"),
            "status": p["status"], "airflow_role": p["airflowRole"] or "no access", "teams": join(p["teams"]),
            "dag_rules": join(p["dagRules"]), "why": join(p["why"]), "groups": join(p.get("groups") or []),
            "privileged": p["privileged"], "compliance": p["compliance"]["status"],
            "identity_provider": p.get("identityProvider") or "local",
            "last_sign_in_at": p.get("lastSignInAt"),
            "last_sign_in_method": p.get("lastSignInMethod"), "dormant": p["dormant"],
            "disabled_at": p.get("disabledAt"), "sessions_ended": p.get("sessionsEnded"),
            "passkeys": keys["count"], "passkey_models": join(keys["models"]),
            "device_bound": keys["deviceBound"],
            "backed_up": keys["backedUp"], "scopes": "", "created_at": p["createdAt"],
        })  # fmt: skip
    for a in review["serviceAccounts"]:
        writer.writerow({
            "kind": "service account", "name": a["name"], "display_name": a["clientId"],
            "status": a["status"],
            "airflow_role": a["airflowRole"] or "no access", "teams": join(a["teams"]),
            "dag_rules": join(a["dagRules"]), "why": join(a["why"]), "groups": join(a.get("groups") or []),
            "privileged": a["privileged"], "compliance": "", "identity_provider": "",
            "last_sign_in_at": a.get("lastUsedAt"), "last_sign_in_method": "client credentials",
            "dormant": a["dormant"], "disabled_at": a.get("disabledAt"), "sessions_ended": "",
            "passkeys": "", "passkey_models": "", "device_bound": "", "backed_up": "",
            "scopes": join(a.get("scopes") or []), "created_at": a["createdAt"],
        })  # fmt: skip
    return out.getvalue()
