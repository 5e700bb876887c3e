"""Argument and command definitions of ``airflow webauthn`` and ``airflow-webauthn`` (loaded lazily on use).

The names are the service CLI's (``npm run -s cli -- invite create ...``): one vocabulary for both.
``invites``, ``service-accounts`` and ``service-account rotate`` are kept as old names. Plain data
(``cli/spec.py``): importing this module does not import Airflow.
"""

from __future__ import annotations

from argparse import REMAINDER
from typing import TYPE_CHECKING

from airflow_webauthn.cli.spec import Action, Arg, Command, Group, to_airflow

if TYPE_CHECKING:
    from airflow.cli.cli_config import CLICommand

_COMMANDS = "airflow_webauthn.cli.commands"

ARG_JSON = Arg(("--json",), help="Print JSON", action="store_true", dest="json")
ARG_USER = Arg(("user",), help="Username or user id")
ARG_GROUPS_POSITIONAL = Arg(
    ("groups",), help='Comma-separated groups, replacing the current ones ("" for none)'
)
ARG_PASSKEY_ID = Arg(("id",), help="Passkey id (from users show or passkeys list)")
ARG_COMMAND_LINE_ID = Arg(("id",), help="Command line id (from command-lines list or users show)")
ARG_INVITE_ID = Arg(("id",), help="Invite id (from invite list)")
ARG_USERNAME = Arg(
    ("--username",), help="The account to create, or an existing account to re-enroll", required=True
)
ARG_DISPLAY_NAME = Arg(("--display-name",), help="Display name for a new account", dest="display_name")
ARG_GROUPS = Arg(("--groups",), help="Comma-separated groups (mapped to Airflow roles by role_mapping)")
ARG_TTL = Arg(("--ttl-seconds",), help="How long the link stays valid", type=int, dest="ttl_seconds")
ARG_NAME = Arg(("--name",), help="Unique name (letters, digits, . _ -)", required=True)
ARG_SCOPES = Arg(
    ("--scopes",),
    help="Comma-separated OAuth scopes on the auth service's API (sessions:read, admin); none = no admin API",
)
ARG_AGENT = Arg(
    ("--agent",),
    help="An agent: acts for people only under delegations they approve with a passkey",
    action="store_true",
)
ARG_ACCOUNT = Arg(("account",), help="Service account id, client id or name")
ARG_SINCE = Arg(("--since",), help="Only events at or after this ISO 8601 time")
ARG_UNTIL = Arg(("--until",), help="Only events before this ISO 8601 time")
ARG_TYPE = Arg(("--type",), help="Only events of this type, e.g. passkey.revoked", dest="event_type")
ARG_HEAD = Arg(
    ("--head",),
    help="A signed head kept outside the database (JSON of 'audit head --json'): fail when the trail no "
    "longer contains it",
    metavar="FILE",
)
ARG_JSON_LINES = Arg(
    ("--json",),
    help="Accepted for symmetry: the output is always JSON lines",
    action="store_true",
    dest="json",
)


ARG_REPORT_SINCE = Arg(
    ("--since",),
    help="Start of the period: a date (2026-10-01) or an ISO 8601 date-time (default: 90 days ago)",
)
ARG_DORMANT_DAYS = Arg(
    ("--dormant-days",),
    help="An account with no sign-in for this many days is dormant (default 90)",
    type=int,
    default=90,
    dest="dormant_days",
)
ARG_REPORT_FORMAT = Arg(
    ("--format",),
    help="html (one printable page), csv (one row per account) or json",
    choices=("html", "csv", "json"),
    default="html",
)
ARG_OUT = Arg(("--out",), help="Write the report to this file (default: standard output)")
ARG_API_URL = Arg(("--api-url",), help="Airflow's URL, e.g. https://airflow.example.com", required=True)
ARG_ENV = Arg(
    ("--env",),
    help="airflowctl environment to store the sign-in in (airflowctl's --env; default production)",
    default="production",
)


def _command(
    name: str,
    help_text: str,
    func: str,
    args: tuple[Arg, ...],
    *,
    hide: bool = False,
    module: str = _COMMANDS,
) -> Action:
    return Action(name=name, help=help_text, func=f"{module}.{func}", args=args, hide=hide)


USER_COMMANDS = (
    _command("list", "List users", "users_list", (ARG_JSON,)),
    _command(
        "show", "One user with their passkeys and command lines signed in", "users_show", (ARG_USER, ARG_JSON)
    ),
    _command(
        "set-groups",
        "Replace a user's groups",
        "users_set_groups",
        (ARG_USER, ARG_GROUPS_POSITIONAL, ARG_JSON),
    ),
    _command(
        "disable",
        "Disable a user (no sign-in; their sessions end for good; refused for the last admin)",
        "users_disable",
        (ARG_USER, ARG_JSON),
    ),
    _command(
        "enable",
        "Enable a disabled user (they sign in again; old sessions stay ended)",
        "users_enable",
        (ARG_USER, ARG_JSON),
    ),
)

PASSKEY_COMMANDS = (
    _command("list", "A user's passkeys (revoked ones included)", "passkeys_list", (ARG_USER, ARG_JSON)),
    _command(
        "revoke", "Revoke a passkey (e.g. a lost device)", "passkeys_revoke", (ARG_PASSKEY_ID, ARG_JSON)
    ),
    _command(
        "unflag",
        "Unblock a passkey a security check flagged, after review",
        "passkeys_unflag",
        (ARG_PASSKEY_ID, ARG_JSON),
    ),
)

_COMMAND_LINES = "airflow_webauthn.cli.command_lines"
COMMAND_LINE_COMMANDS = (
    _command(
        "list",
        "The command lines (airflowctl) signed in as a person with a one-time code",
        "command_lines_list",
        (ARG_USER, ARG_JSON),
        module=_COMMAND_LINES,
    ),
    _command(
        "revoke",
        "Sign a person's command line out (Airflow refuses it at its next re-check)",
        "command_lines_revoke",
        (ARG_USER, ARG_COMMAND_LINE_ID, ARG_JSON),
        module=_COMMAND_LINES,
    ),
)

INVITE_COMMANDS = (
    _command(
        "create",
        "Create a one-time enrollment link (shown only now)",
        "invite_create",
        (ARG_USERNAME, ARG_DISPLAY_NAME, ARG_GROUPS, ARG_TTL, ARG_JSON),
    ),
    _command("list", "List invites and their state", "invite_list", (ARG_JSON,)),
    _command("revoke", "Revoke a pending invite", "invite_revoke", (ARG_INVITE_ID, ARG_JSON)),
)

SERVICE_ACCOUNT_COMMANDS = (
    _command(
        "create",
        "Create a service account (the client secret is shown only now)",
        "service_account_create",
        (ARG_NAME, ARG_GROUPS, ARG_SCOPES, ARG_AGENT, ARG_JSON),
    ),
    _command("list", "List service accounts (never their secrets)", "service_account_list", (ARG_JSON,)),
    _command(
        "disable",
        "Disable a service account (no new tokens; current ones stop working, for good)",
        "service_account_disable",
        (ARG_ACCOUNT, ARG_JSON),
    ),
    _command(
        "enable",
        "Enable a disabled service account (new tokens; those from before stay refused)",
        "service_account_enable",
        (ARG_ACCOUNT, ARG_JSON),
    ),
    _command(
        "rotate-secret",
        "Issue a new client secret; the old one and the tokens issued with it stop working",
        "service_account_rotate_secret",
        (ARG_ACCOUNT, ARG_JSON),
    ),
    _command(
        "rotate",
        "Old name of rotate-secret",
        "service_account_rotate_secret",
        (ARG_ACCOUNT, ARG_JSON),
        hide=True,
    ),
)

WEBAUTHN_HELP = (
    "Administer passkey sign-in through the auth service (users, passkeys, invites, service accounts, keys, "
    "audit, reports)"
)
WEBAUTHN_COMMANDS: tuple[Command, ...] = (
    Group(name="users", help="People who sign in with passkeys", subcommands=USER_COMMANDS),
    Group(name="passkeys", help="People's passkeys", subcommands=PASSKEY_COMMANDS),
    Group(
        name="command-lines",
        help="People's command lines signed in with a one-time code (airflowctl)",
        subcommands=COMMAND_LINE_COMMANDS,
    ),
    Group(name="invite", help="Enrollment invites", subcommands=INVITE_COMMANDS),
    Group(
        name="service-account",
        help="Service accounts (client credentials for scripts)",
        subcommands=SERVICE_ACCOUNT_COMMANDS,
    ),
    Group(
        name="keys",
        help="Token signing keys",
        subcommands=(
            _command(
                "list", "List signing keys and their states (no key material)", "keys_list", (ARG_JSON,)
            ),
            _command(
                "rotate",
                "Rotate now: the published next key starts signing; the old one stays published",
                "keys_rotate",
                (ARG_JSON,),
            ),
        ),
    ),
    Group(
        name="audit",
        help="The audit trail",
        subcommands=(
            _command(
                "export",
                "Print audit events as JSON lines, oldest first",
                "audit_export",
                (ARG_SINCE, ARG_UNTIL, ARG_TYPE, ARG_JSON_LINES),
            ),
            _command(
                "head",
                "Print the chain head signed by the service: keep it outside the database",
                "audit_head",
                (ARG_JSON,),
            ),
            _command(
                "verify",
                "Check the hash chain: exit 0 when intact, 1 naming the first bad event",
                "audit_verify",
                (ARG_HEAD, ARG_JSON),
            ),
        ),
    ),
    Group(
        name="report",
        help="Evidence for audits",
        subcommands=(
            _command(
                "access-review",
                "Everyone with access and why, admins and their authenticators, dormant and disabled "
                "accounts, service accounts, key rotations, failed sign-ins and the signed audit head "
                "(SOC 2 CC6.1-CC6.3, ISO 27001 A.5.15-A.5.18, A.8.5)",
                "access_review",
                (ARG_REPORT_SINCE, ARG_DORMANT_DAYS, ARG_REPORT_FORMAT, ARG_OUT),
                module="airflow_webauthn.cli.report",
            ),
        ),
    ),
    _command(
        "login",
        "Sign this terminal in with a passkey (device flow, approved in the browser) and store the token "
        "where airflowctl reads it",
        "webauthn_login",
        (ARG_API_URL, ARG_ENV),
        module="airflow_webauthn.cli.device_login",
    ),
    # Old names, kept working and out of --help (cli/old_names.py).
    *(
        Action(
            name=old,
            help=f"Old name of {new}",
            func=f"airflow_webauthn.cli.old_names.{func}",
            args=(Arg(("rest",), nargs=REMAINDER, help="The command under its new name"),),
            hide=True,
        )
        for old, new, func in (
            ("invites", "invite", "invites"),
            ("service-accounts", "service-account", "service_accounts"),
        )
    ),
)


MANAGER_PATH = "airflow_webauthn.auth_manager.WebAuthnAuthManager"


def _is_configured_manager() -> bool:
    """``airflow users`` belongs to the configured auth manager: with another one (FAB) we leave it alone."""
    from airflow.configuration import conf

    return conf.get("core", "auth_manager", fallback="") == MANAGER_PATH


def _airflow_users_command() -> Group:
    """``airflow users``, as the FAB auth manager provides it (there: ``users list/create/delete/...``; here
    the people are the auth service's, so only ``list``: the rest is ``airflow webauthn users``).
    Airflow-only: it prints through Airflow's ``--output`` table and resolves Airflow roles."""
    from airflow.cli.cli_config import ARG_OUTPUT

    users_list = _command(
        "list",
        "List people: Airflow role (role_mapping, teams, dag_access), groups, status, identity provider, "
        "passkeys, last sign-in and how",
        "users_list",
        (Arg(ARG_OUTPUT.flags, **ARG_OUTPUT.kwargs),),
        module="airflow_webauthn.cli.users_list",
    )
    return Group(name="users", help="Manage users", subcommands=(users_list,))


def get_webauthn_cli_commands() -> list[CLICommand]:
    commands: list[Command] = [Group(name="webauthn", help=WEBAUTHN_HELP, subcommands=WEBAUTHN_COMMANDS)]
    if _is_configured_manager():
        commands.append(_airflow_users_command())
    return [to_airflow(command) for command in commands]
