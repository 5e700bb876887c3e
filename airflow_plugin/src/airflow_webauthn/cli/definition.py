"""Argument and command definitions of ``airflow webauthn`` (commands load lazily on use)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow.cli.cli_config import ActionCommand, Arg, GroupCommand, lazy_load_command

if TYPE_CHECKING:
    from airflow.cli.cli_config import CLICommand

_COMMANDS = "airflow_webauthn.cli.commands"

ARG_JSON = Arg(("--json",), help="Print machine-readable JSON", action="store_true", dest="json")
ARG_USER = Arg(("user",), help="Username or user id")
ARG_USERNAME = Arg(("--username",), help="Username of the person to invite", required=True)
ARG_DISPLAY_NAME = Arg(("--display-name",), help="Name shown in Airflow", dest="display_name")
ARG_GROUPS = Arg(("--groups",), help="Comma-separated groups (mapped to Airflow roles by role_mapping)")
ARG_TTL = Arg(("--ttl-seconds",), help="How long the invite stays valid", type=int, dest="ttl_seconds")
ARG_NAME = Arg(("--name",), help="Service account name", required=True)
ARG_ACCOUNT = Arg(("account",), help="Service account id, client id or name")
ARG_SINCE = Arg(("--since",), help="Only events at or after this ISO 8601 time")
ARG_UNTIL = Arg(("--until",), help="Only events before this ISO 8601 time")
ARG_TYPE = Arg(("--type",), help="Only events of this type", dest="event_type")


def _command(name: str, help_text: str, func: str, args: tuple[Arg, ...]) -> ActionCommand:
    return ActionCommand(name=name, help=help_text, func=lazy_load_command(f"{_COMMANDS}.{func}"), args=args)


WEBAUTHN_COMMANDS: tuple[CLICommand, ...] = (
    GroupCommand(
        name="users",
        help="Manage passkey users",
        subcommands=(
            _command("list", "List users", "users_list", (ARG_JSON,)),
            _command(
                "disable", "Disable a user (ends their sessions)", "users_disable", (ARG_USER, ARG_JSON)
            ),
            _command("enable", "Enable a disabled user", "users_enable", (ARG_USER, ARG_JSON)),
        ),
    ),
    GroupCommand(
        name="invites",
        help="Manage enrollment invites",
        subcommands=(
            _command(
                "create",
                "Create a one-time enrollment invite and print its link",
                "invites_create",
                (ARG_USERNAME, ARG_DISPLAY_NAME, ARG_GROUPS, ARG_TTL, ARG_JSON),
            ),
        ),
    ),
    GroupCommand(
        name="service-accounts",
        help="Manage service accounts (client credentials for scripts)",
        subcommands=(
            _command(
                "create",
                "Create a service account",
                "service_accounts_create",
                (ARG_NAME, ARG_GROUPS, ARG_JSON),
            ),
            _command("list", "List service accounts", "service_accounts_list", (ARG_JSON,)),
            _command(
                "disable", "Disable a service account", "service_accounts_disable", (ARG_ACCOUNT, ARG_JSON)
            ),
            _command(
                "rotate", "Issue a new client secret", "service_accounts_rotate", (ARG_ACCOUNT, ARG_JSON)
            ),
        ),
    ),
    GroupCommand(
        name="keys",
        help="Manage token signing keys",
        subcommands=(_command("rotate", "Rotate the token signing key now", "keys_rotate", (ARG_JSON,)),),
    ),
    GroupCommand(
        name="audit",
        help="Read the audit log",
        subcommands=(
            _command(
                "export", "Print audit events as NDJSON", "audit_export", (ARG_SINCE, ARG_UNTIL, ARG_TYPE)
            ),
        ),
    ),
)


def get_webauthn_cli_commands() -> list[CLICommand]:
    return [
        GroupCommand(
            name="webauthn",
            help="Administer passkey login (users, invites, service accounts, keys, audit)",
            subcommands=WEBAUTHN_COMMANDS,
        )
    ]
