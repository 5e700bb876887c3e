"""The admin commands as plain data, so one definition serves two command lines.

``airflow webauthn ...`` gets them converted to Airflow's ``ActionCommand``/``GroupCommand``
(``to_airflow``); ``airflow-webauthn ...`` (``cli/standalone.py``) adds them to a plain argparse parser
(``add_command``) and never imports Airflow, which alone takes 5-7 s to import. Both parsers are laid out
alike: subcommands sorted by name, hidden ones accepted but left out of ``--help``, positional arguments
first, then options sorted by name.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable, Iterable

    from airflow.cli.cli_config import CLICommand


class Arg:
    """One argument: its flags and ``add_argument`` keywords (what Airflow's ``Arg`` takes)."""

    __slots__ = ("flags", "kwargs")

    def __init__(self, flags: tuple[str, ...], **kwargs: Any) -> None:
        self.flags = flags
        self.kwargs = kwargs


@dataclass(frozen=True)
class Action:
    name: str
    help: str
    func: str  # "module.function", imported only when the command runs
    args: tuple[Arg, ...] = ()
    hide: bool = False  # runs, but --help does not list it (old names)


@dataclass(frozen=True)
class Group:
    name: str
    help: str
    subcommands: tuple[Action | Group, ...]


Command = Action | Group


def run_lazily(path: str) -> Callable[[argparse.Namespace], None]:
    """The function at ``path``, imported on the first call (so ``--help`` imports no command module)."""
    module, _, name = path.rpartition(".")

    def command(args: argparse.Namespace) -> None:
        getattr(importlib.import_module(module), name)(args)

    command.__name__ = name
    return command


def _sorted_args(args: Iterable[Arg]) -> list[Arg]:
    """Positional arguments as given, then options by their long name (Airflow's ``_sort_args``)."""
    positional = [arg for arg in args if not arg.flags[0].startswith("-")]
    options = [arg for arg in args if arg.flags[0].startswith("-")]

    def long_name(arg: Arg) -> str:
        return (arg.flags[0] if len(arg.flags) == 1 else arg.flags[1]).lower()

    return [*positional, *sorted(options, key=long_name)]


def add_command(subparsers: argparse._SubParsersAction[argparse.ArgumentParser], command: Command) -> None:
    """Add ``command`` to ``subparsers`` as Airflow's ``_add_command`` would."""
    if isinstance(command, Action) and command.hide:
        parser = subparsers.add_parser(command.name)
    else:
        parser = subparsers.add_parser(command.name, help=command.help, description=command.help)
    if isinstance(command, Group):
        add_commands(parser, command.subcommands)
        return
    for arg in _sorted_args(command.args):
        parser.add_argument(*arg.flags, **arg.kwargs)
    parser.set_defaults(func=run_lazily(command.func))


def add_commands(parser: argparse.ArgumentParser, commands: Iterable[Command]) -> None:
    subparsers = parser.add_subparsers(dest="subcommand", metavar="COMMAND")
    subparsers.required = True
    for command in sorted(commands, key=lambda c: c.name):
        add_command(subparsers, command)


def to_airflow(command: Command) -> CLICommand:
    """``command`` as Airflow's CLI declares commands (for ``get_cli_commands``)."""
    from airflow.cli.cli_config import ActionCommand, GroupCommand, lazy_load_command
    from airflow.cli.cli_config import Arg as AirflowArg

    if isinstance(command, Group):
        return GroupCommand(
            name=command.name,
            help=command.help,
            subcommands=tuple(to_airflow(sub) for sub in command.subcommands),
        )
    return ActionCommand(
        name=command.name,
        help=command.help,
        func=lazy_load_command(command.func),
        args=tuple(AirflowArg(arg.flags, **arg.kwargs) for arg in command.args),
        hide=command.hide,
    )
