"""Typed settings of the ``[webauthn_auth_manager]`` section, validated once with clear messages.

Every option can also come from the environment as ``AIRFLOW__WEBAUTHN_AUTH_MANAGER__<OPTION>``
(Airflow's configuration does that mapping). Validation collects every problem before failing, so a
misconfigured deployment is fixed in one round instead of one error at a time.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from airflow_webauthn.services.dag_access import DagRule, parse_dag_access
from airflow_webauthn.services.group_names import canonical_group_name
from airflow_webauthn.services.roles import GLOBAL_ROLES, Role
from airflow_webauthn.services.teams import TeamGrant, TeamRoles
from airflow_webauthn.services.token_verifier import ASYMMETRIC_ALGORITHMS

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    # (section, key) -> the option's value, or None when it is not set anywhere.
    OptionSource = Callable[[str, str], str | None]

SECTION = "webauthn_auth_manager"

# Symmetric (HS*) and "none" are never acceptable on service tokens (see token_verifier).
SUPPORTED_ALGORITHMS = ASYMMETRIC_ALGORITHMS


@dataclass(frozen=True)
class Option:
    description: str
    default: str | None
    type_name: str = "string"
    example: str | None = None
    sensitive: bool = False


DEFAULT_ROLE_MAPPING = {
    "airflow-admins": "ADMIN",
    "airflow-ops": "OP",
    "airflow-users": "USER",
    "airflow-viewers": "VIEWER",
}

OPTIONS: dict[str, Option] = {
    "service_url": Option(
        "Base URL Airflow uses to reach the auth service (server to server; may be an internal address).",
        None,
        example="http://127.0.0.1:3000",
    ),
    "issuer": Option(
        "Expected ``iss`` of service tokens (the service's JWT_ISSUER). Defaults to service_url.",
        None,
        example="https://auth.example.com",
    ),
    "audience": Option("Expected ``aud`` of service tokens (the service's JWT_AUDIENCE).", "airflow"),
    "role_mapping": Option(
        "JSON object mapping a group to VIEWER, USER, OP or ADMIN, or (with [core] multi_team) to "
        '{"role": ..., "teams": [...]}: that role on those teams\' resources only. A user in several '
        "mapped groups gets the highest role; a user in no mapped group has no access (unless a "
        "dag_access rule names one of their groups).",
        json.dumps(DEFAULT_ROLE_MAPPING),
    ),
    "dag_access": Option(
        'JSON list of per-DAG rules: {"groups": [...], "dag_tags": [...], "dag_ids": ["glob*"], '
        '"role": "VIEWER" | "USER" | "OP"}. Members of the groups get the role on the DAGs the '
        "rule matches (by tag or id glob), on top of their role_mapping role (the higher wins per DAG). "
        "A person whose groups appear only here may sign in and sees only those DAGs.",
        "[]",
        example='[{"groups": ["finance"], "dag_tags": ["finance"], "dag_ids": ["fin_*"], "role": "USER"}]',
    ),
    "dag_tags_cache_seconds": Option(
        "How long DAG tags read for dag_access rules are reused (tag changes apply within this time).",
        "30",
        "integer",
    ),
    "session_ttl_seconds": Option(
        "Absolute lifetime of a browser session after a passkey login.", "28800", "integer"
    ),
    "recheck_interval_seconds": Option(
        "How often (at most) a browser session's user is re-checked against the service "
        "(disabled user, revoked passkey, changed groups), and the list of service accounts that "
        "service-account tokens are matched against is refreshed. 0 checks on every request.",
        "300",
        "integer",
    ),
    "unverified_grace_seconds": Option(
        "How long past recheck_interval_seconds a session (person or service account) is still "
        "honoured while the service cannot confirm it (down, slow, refusing Airflow). After "
        "recheck_interval_seconds + unverified_grace_seconds without a confirmation it is refused. "
        "Defaults to recheck_interval_seconds.",
        None,
        "integer",
    ),
    "service_credentials": Option(
        "``client_id:client_secret`` of the service account Airflow re-checks sessions with. Give it "
        "only the scope ``sessions:read`` (it reads user and service-account status, nothing else). "
        "Required unless allow_unchecked_sessions = True.",
        None,
        sensitive=True,
    ),
    "allow_unchecked_sessions": Option(
        "Run without service_credentials: sessions and service-account tokens are then never "
        "re-checked (disabled users keep access until their session ends). For trials only.",
        "False",
        "boolean",
    ),
    "cli_credentials": Option(
        "``client_id:client_secret`` of an admin service account for the ``airflow webauthn`` "
        "commands (also AIRFLOW__WEBAUTHN_AUTH_MANAGER__CLI_CREDENTIALS). Keep it out of the "
        "api-server's environment: the api-server never uses it.",
        None,
        sensitive=True,
    ),
    "allowed_algorithms": Option("Comma-separated JWS algorithms accepted on service tokens.", "EdDSA,ES256"),
    "jwks_url": Option("JWKS location. Defaults to {service_url}/.well-known/jwks.json.", None),
    "jwks_cache_ttl_seconds": Option("How long fetched signing keys are trusted before a refetch.", "300"),
    "jwks_min_refetch_interval_seconds": Option(
        "Minimum time between JWKS refetches triggered by an unknown ``kid`` (limits abuse).", "30", "integer"
    ),
    "leeway_seconds": Option("Clock skew tolerated on exp/nbf/iat of service tokens.", "30", "integer"),
    "http_timeout_seconds": Option("Timeout of each call to the auth service.", "5", "float"),
}


class WebAuthnConfigError(ValueError):
    """The [webauthn_auth_manager] section is missing a value or holds a wrong one."""


@dataclass(frozen=True)
class ServiceCredentials:
    client_id: str
    client_secret: str = field(repr=False)


@dataclass(frozen=True, kw_only=True)
class WebAuthnSettings:
    service_url: str
    issuer: str
    audience: str
    role_mapping: Mapping[str, Role]
    team_roles: TeamRoles = field(default_factory=TeamRoles)
    dag_access: tuple[DagRule, ...] = ()
    dag_tags_cache_seconds: int = 30
    session_ttl_seconds: int
    recheck_interval_seconds: int
    unverified_grace_seconds: int
    service_credentials: ServiceCredentials | None
    allow_unchecked_sessions: bool
    cli_credentials: ServiceCredentials | None
    allowed_algorithms: tuple[str, ...]
    jwks_url: str
    jwks_cache_ttl_seconds: int
    jwks_min_refetch_interval_seconds: int
    leeway_seconds: int
    http_timeout_seconds: float

    @classmethod
    def from_values(cls, raw: Mapping[str, str | None]) -> WebAuthnSettings:
        """Build settings from raw option strings (missing → default), reporting every problem at once."""
        problems: dict[str, list[str]] = {}  # by option, reported in the order of OPTIONS

        def report(name: str, problem: str) -> None:
            problems.setdefault(name, []).append(f"[{SECTION}] {problem}")

        def value(name: str) -> str | None:
            got = raw.get(name)
            if got is None or not str(got).strip():
                return OPTIONS[name].default
            return str(got).strip()

        def parsed(name: str, reader: _Reader) -> Any:
            text = value(name)
            if text is None:
                return None
            try:
                return reader.parse(text)
            except (ValueError, TypeError) as err:
                shown = "<hidden>" if OPTIONS[name].sensitive else repr(text)
                report(name, f"{name} = {shown} is not {reader.what}: {err}")
                return None

        got = {name: parsed(name, reader) for name, reader in _READERS.items()}
        service_url = got["service_url"]
        if service_url is None and value("service_url") is None:
            report("service_url", "service_url is required (e.g. http://127.0.0.1:3000)")
        role_mapping, team_roles = got["role_mapping"] or ({}, TeamRoles())
        rules, rule_problems = parse_dag_access(value("dag_access") or "[]")
        for problem in rule_problems:
            report("dag_access", f"dag_access {problem}")

        if problems:
            found = [problem for name in OPTIONS for problem in problems.get(name, ())]
            raise WebAuthnConfigError("Invalid WebAuthn auth manager configuration:\n  " + "\n  ".join(found))
        recheck = got["recheck_interval_seconds"]
        grace = got["unverified_grace_seconds"]
        return cls(
            service_url=service_url,
            issuer=value("issuer") or service_url,
            audience=value("audience") or "airflow",
            role_mapping=_with_rule_only_groups(role_mapping, rules, team_roles),
            team_roles=team_roles,
            dag_access=rules,
            dag_tags_cache_seconds=got["dag_tags_cache_seconds"],
            session_ttl_seconds=got["session_ttl_seconds"],
            recheck_interval_seconds=recheck,
            unverified_grace_seconds=grace if grace is not None else recheck,
            service_credentials=got["service_credentials"],
            allow_unchecked_sessions=bool(got["allow_unchecked_sessions"]),
            cli_credentials=got["cli_credentials"],
            allowed_algorithms=got["allowed_algorithms"],
            jwks_url=got["jwks_url"] or f"{service_url}/.well-known/jwks.json",
            jwks_cache_ttl_seconds=got["jwks_cache_ttl_seconds"],
            jwks_min_refetch_interval_seconds=got["jwks_min_refetch_interval_seconds"],
            leeway_seconds=got["leeway_seconds"],
            http_timeout_seconds=got["http_timeout_seconds"],
        )


def _from_airflow(section: str, key: str) -> str | None:
    """Airflow's own configuration: AIRFLOW__* variables, airflow.cfg, _cmd and _secret, the defaults."""
    from airflow.configuration import conf

    return conf.get(section, key, fallback=None)


# Where option values come from: Airflow's configuration in every Airflow process (the api-server, `airflow
# webauthn`). `airflow-webauthn` switches to the same variables and airflow.cfg read without importing Airflow
# (airflow_webauthn.airflow_cfg) before it reads anything; the validation below is the same for both.
_source: OptionSource = _from_airflow


def read_options_from(source: OptionSource) -> None:
    global _source  # one switch, made once by a process's entry point
    _source = source
    get_settings.cache_clear()


def option_value(section: str, key: str) -> str | None:
    """An option of any section ([api] base_url, ...) from the configuration this process reads."""
    return _source(section, key)


@cache
def get_settings() -> WebAuthnSettings:
    """Read and validate the section once per process (Airflow's config does not change at runtime)."""
    raw = {name: option_value(SECTION, name) for name in OPTIONS}
    settings = WebAuthnSettings.from_values(raw)
    airflow_issuer = option_value("api_auth", "jwt_issuer")
    if airflow_issuer and airflow_issuer.strip() == settings.issuer:
        # Tokens are routed to the JWKS verifier by their issuer, so the two must differ.
        raise WebAuthnConfigError(
            f"[{SECTION}] issuer must differ from [api_auth] jwt_issuer ({airflow_issuer!r})"
        )
    return settings


def _http_url(text: str) -> str:
    parts = urlsplit(text)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ValueError("expected http://host[:port][/path]")
    return text.rstrip("/")


def _service_url(text: str) -> str:
    """Server-to-server URLs carry Airflow's credential and session status: TLS unless on this host."""
    url = _http_url(text)
    parts = urlsplit(url)
    if parts.scheme == "http" and not _is_loopback(parts.hostname or ""):
        raise ValueError("plain http is allowed only to a loopback address (127.0.0.1, ::1, localhost)")
    return url


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _boolean(text: str) -> bool:
    lowered = text.lower()
    if lowered in {"true", "1", "yes", "on"}:
        return True
    if lowered in {"false", "0", "no", "off"}:
        return False
    raise ValueError("expected True or False")


def _positive_int(text: str) -> int:
    number = int(text)
    if number <= 0:
        raise ValueError("must be > 0")
    return number


def _non_negative_int(text: str) -> int:
    number = int(text)
    if number < 0:
        raise ValueError("must be >= 0")
    return number


def _positive_float(text: str) -> float:
    number = float(text)
    if number <= 0:
        raise ValueError("must be > 0")
    return number


def _role_mapping(text: str) -> tuple[dict[str, Role], TeamRoles]:
    """Global roles per group, and team roles for groups mapped to ``{"role": ..., "teams": [...]}``."""
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    mapping: dict[str, Role] = {}
    grants: dict[str, TeamGrant] = {}
    for raw_group, value in data.items():
        group = canonical_group_name(str(raw_group))
        if group in mapping or group in grants:
            raise ValueError(f"group {group!r} is listed twice (names compare after trimming, NFC)")
        if isinstance(value, dict):
            grants[group] = _team_grant(group, value)
        else:
            mapping[group] = _global_role(group, value)
    return mapping, TeamRoles(grants=grants)


def _global_role(group: str, role_name: Any) -> Role:
    role = Role.__members__.get(role_name.upper()) if isinstance(role_name, str) else None
    if role not in GLOBAL_ROLES or role is None:
        raise ValueError(f"group {group!r} maps to {role_name!r}; use VIEWER, USER, OP or ADMIN")
    return role


def _team_grant(group: str, value: dict[str, Any]) -> TeamGrant:
    unknown = sorted(set(value) - {"role", "teams"})
    if unknown:
        raise ValueError(f"group {group!r} has unknown key {unknown[0]!r} (allowed: role, teams)")
    teams = value.get("teams")
    if not isinstance(teams, list) or not teams or not all(isinstance(t, str) and t.strip() for t in teams):
        raise ValueError(f"group {group!r} teams must be a non-empty list of team names")
    return TeamGrant(role=_global_role(group, value.get("role")), teams=frozenset(t.strip() for t in teams))


def _with_rule_only_groups(
    mapping: Mapping[str, Role], rules: tuple[DagRule, ...], team_roles: TeamRoles
) -> dict[str, Role]:
    """Groups with only dag_access rules or team roles sign in with the global role NONE: their
    rules and teams grant the rest."""
    merged = dict(mapping)
    for group in [*(g for rule in rules for g in rule.groups), *team_roles.grants]:
        merged.setdefault(group, Role.NONE)
    return merged


def _credentials(text: str) -> ServiceCredentials:
    client_id, sep, secret = text.partition(":")
    if not sep or not client_id.strip() or not secret:
        raise ValueError("expected 'client_id:client_secret'")
    return ServiceCredentials(client_id=client_id.strip(), client_secret=secret)


def _algorithms(text: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    if not names:
        raise ValueError("at least one algorithm is required")
    for name in names:
        if name not in SUPPORTED_ALGORITHMS:
            raise ValueError(
                f"{name!r} is not allowed; choose from {', '.join(sorted(SUPPORTED_ALGORITHMS))}"
            )
    return names


@dataclass(frozen=True)
class _Reader:
    """How an option's text becomes its value, and what the text must be (said when it is not)."""

    parse: Callable[[str], Any]
    what: str


_SERVICE_URL = _Reader(_service_url, "an https URL (http only on loopback)")
_POSITIVE_INT = _Reader(_positive_int, "a positive integer")
_NON_NEGATIVE_INT = _Reader(_non_negative_int, "a non-negative integer")
_CREDENTIALS = _Reader(_credentials, "client_id:client_secret")

# Every option but the plain strings (issuer, audience) and dag_access, which reports its own problems.
_READERS: dict[str, _Reader] = {
    "service_url": _SERVICE_URL,
    "role_mapping": _Reader(
        _role_mapping, 'a JSON object of group -> VIEWER|USER|OP|ADMIN or {"role": ..., "teams": [...]}'
    ),
    "dag_tags_cache_seconds": _NON_NEGATIVE_INT,
    "session_ttl_seconds": _POSITIVE_INT,
    "recheck_interval_seconds": _NON_NEGATIVE_INT,
    "unverified_grace_seconds": _NON_NEGATIVE_INT,
    "service_credentials": _CREDENTIALS,
    "allow_unchecked_sessions": _Reader(_boolean, "True or False"),
    "cli_credentials": _CREDENTIALS,
    "allowed_algorithms": _Reader(_algorithms, "a list of asymmetric JWS algorithms"),
    "jwks_url": _SERVICE_URL,
    "jwks_cache_ttl_seconds": _POSITIVE_INT,
    "jwks_min_refetch_interval_seconds": _NON_NEGATIVE_INT,
    "leeway_seconds": _NON_NEGATIVE_INT,
    "http_timeout_seconds": _Reader(_positive_float, "a positive number"),
}
