"""Airflow's configuration read the way Airflow reads it, without importing Airflow (``airflow-webauthn``).

Importing ``airflow.configuration`` takes about 5 s (it imports most of Airflow); the admin commands need a
handful of options. Each is looked up in Airflow's order (``AirflowConfigParser.get``):

1. the variable ``AIRFLOW__{SECTION}__{KEY}`` (``~`` and ``$VARIABLES`` expanded); for a sensitive option
   then ``AIRFLOW__{SECTION}__{KEY}_CMD`` (a command that prints the value) and ``..._SECRET``;
2. ``key`` in airflow.cfg (``$AIRFLOW_CONFIG``, else ``$AIRFLOW_HOME/airflow.cfg``, ``AIRFLOW_HOME``
   defaulting to ``~/airflow``), ``%%`` interpolated, ``~`` and ``$VARIABLES`` expanded; for a sensitive
   option then ``key_cmd`` and ``key_secret``;
3. not set: the caller applies the default (``WebAuthnSettings.from_values`` holds the provider's defaults).

A ``_secret`` names a path in Airflow's secrets backend, which only Airflow can read: such an option is
refused with a message pointing to ``airflow webauthn``, never skipped for a value further down. Unlike
Airflow, a missing airflow.cfg is not created: nothing is written.
"""

from __future__ import annotations

import configparser
import os
import shlex
import subprocess
import sys
from typing import TYPE_CHECKING

from airflow_webauthn.config import OPTIONS, SECTION, WebAuthnConfigError

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping

# Options Airflow lets come from a command or a secrets backend: those its provider metadata marks sensitive.
SENSITIVE = frozenset((SECTION, name) for name, option in OPTIONS.items() if option.sensitive)


def expand(value: str) -> str:
    """``$VARIABLES`` and ``~`` expanded until nothing changes (Airflow's ``expand_env_var``)."""
    while True:
        expanded = os.path.expanduser(os.path.expandvars(value))
        if expanded == value:
            return expanded
        value = expanded


def config_path(environ: Mapping[str, str]) -> str:
    """The airflow.cfg Airflow reads (``airflow.configuration.get_airflow_config``)."""
    if "AIRFLOW_CONFIG" in environ:
        return expand(environ["AIRFLOW_CONFIG"])
    return os.path.join(expand(environ.get("AIRFLOW_HOME", "~/airflow")), "airflow.cfg")


class AirflowCfg:
    def __init__(
        self, path: str, environ: Mapping[str, str], sensitive: Collection[tuple[str, str]] = SENSITIVE
    ) -> None:
        self.path = path
        self._environ = environ
        self._sensitive = frozenset(sensitive)
        # Airflow's parser: ConfigParser's %-interpolation, option names kept as written.
        self._file = configparser.ConfigParser()
        self._file.optionxform = str  # type: ignore[assignment, method-assign]
        try:
            self._file.read(path)  # a missing file reads as an empty one
        except configparser.Error as err:
            raise WebAuthnConfigError(f"{path} is not a valid configuration file: {err.message}") from err

    @classmethod
    def of_this_process(cls) -> AirflowCfg:
        return cls(config_path(os.environ), os.environ)

    def get(self, section: str, key: str) -> str | None:
        variable = f"AIRFLOW__{section.replace('.', '_').upper()}__{key.upper()}"
        sensitive = (section, key) in self._sensitive
        if variable in self._environ:
            return expand(self._environ[variable])
        if sensitive and f"{variable}_CMD" in self._environ:
            return self._run(self._environ[f"{variable}_CMD"], f"{variable}_CMD")
        if sensitive and f"{variable}_SECRET" in self._environ:
            raise self._secrets_backend(f"{variable}_SECRET")
        if self._file.has_option(section, key):
            return expand(self._value(section, key))
        if sensitive and self._file.has_option(section, f"{key}_cmd"):
            # Airflow moves on when the command prints nothing (unlike the variable's command above).
            output = self._run(self._value(section, f"{key}_cmd"), f"[{section}] {key}_cmd")
            if output:
                return output
        if sensitive and self._file.has_option(section, f"{key}_secret"):
            raise self._secrets_backend(f"[{section}] {key}_secret in {self.path}")
        return None

    def _value(self, section: str, key: str) -> str:
        try:
            return self._file.get(section, key)
        except configparser.InterpolationError as err:
            # Not the value itself: it may be a secret.
            raise WebAuthnConfigError(
                f"[{section}] {key} in {self.path}: a literal % must be written %% ({type(err).__name__})"
            ) from err

    @staticmethod
    def _run(command: str, where: str) -> str:
        """The command's output, as Airflow's ``run_command`` returns it (not stripped); its output and error
        stream are never shown (the output is a secret)."""
        try:
            done = subprocess.run(  # noqa: S603 (the operator's own command, run as Airflow runs it)
                shlex.split(command), capture_output=True, check=False, close_fds=True
            )
        except OSError as err:
            raise WebAuthnConfigError(f"{where}: the command could not run ({err.strerror})") from err
        if done.returncode != 0:
            raise WebAuthnConfigError(f"{where}: the command failed (exit status {done.returncode})")
        return done.stdout.decode(sys.getdefaultencoding(), "ignore")

    @staticmethod
    def _secrets_backend(where: str) -> WebAuthnConfigError:
        return WebAuthnConfigError(
            f"{where} reads Airflow's secrets backend, which only Airflow can: use `airflow webauthn ...`"
        )
