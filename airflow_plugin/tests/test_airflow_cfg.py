"""``airflow-webauthn`` reads Airflow's configuration as Airflow does, without importing it: the environment
beats airflow.cfg, the file is found where Airflow looks, commands feed only sensitive options, and a value
that only Airflow's secrets backend can give is refused, never replaced by another."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest

from airflow_webauthn.airflow_cfg import AirflowCfg, config_path
from airflow_webauthn.config import SECTION, WebAuthnConfigError

if TYPE_CHECKING:
    from pathlib import Path

URL_VARIABLE = "AIRFLOW__WEBAUTHN_AUTH_MANAGER__SERVICE_URL"
CREDENTIALS_VARIABLE = "AIRFLOW__WEBAUTHN_AUTH_MANAGER__CLI_CREDENTIALS"


def cfg(tmp_path: Path, text: str, **environ: str) -> AirflowCfg:
    path = tmp_path / "airflow.cfg"
    path.write_text(text)
    return AirflowCfg(str(path), environ)


def test_the_environment_beats_the_file(tmp_path: Path) -> None:
    """AIRFLOW__WEBAUTHN_AUTH_MANAGER__SERVICE_URL wins over service_url in airflow.cfg, as in Airflow."""
    text = f"[{SECTION}]\nservice_url = http://127.0.0.1:1\n"
    assert cfg(tmp_path, text).get(SECTION, "service_url") == "http://127.0.0.1:1"
    beaten = cfg(tmp_path, text, **{URL_VARIABLE: "http://127.0.0.1:2"})
    assert beaten.get(SECTION, "service_url") == "http://127.0.0.1:2"


def test_an_empty_variable_still_beats_the_file(tmp_path: Path) -> None:
    """Set but empty is set (Airflow returns ""): the file's value does not come back through it."""
    text = f"[{SECTION}]\nservice_url = http://127.0.0.1:1\n"
    assert cfg(tmp_path, text, **{URL_VARIABLE: ""}).get(SECTION, "service_url") == ""


def test_file_values_are_interpolated_and_expanded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """%% is a literal % (ConfigParser interpolation, as Airflow reads the file); $VARIABLES are expanded."""
    monkeypatch.setenv("AUTH_PORT", "3000")
    text = f"[{SECTION}]\nservice_url = http://127.0.0.1:$AUTH_PORT\ncli_credentials = id:50%%off\n"
    read = cfg(tmp_path, text)
    assert read.get(SECTION, "service_url") == "http://127.0.0.1:3000"
    assert read.get(SECTION, "cli_credentials") == "id:50%off"


def test_a_lone_percent_is_a_clear_error_without_the_value(tmp_path: Path) -> None:
    """Airflow refuses a lone % too; the message says how to write it and does not show the (secret) value."""
    read = cfg(tmp_path, f"[{SECTION}]\ncli_credentials = id:sec%ret\n")
    with pytest.raises(WebAuthnConfigError, match="written %%") as info:
        read.get(SECTION, "cli_credentials")
    assert "sec%ret" not in str(info.value)


def test_unset_options_and_a_missing_file_read_as_none(tmp_path: Path) -> None:
    """Nothing set: None (the caller applies the default); a missing airflow.cfg is not created."""
    missing = tmp_path / "airflow.cfg"
    read = AirflowCfg(str(missing), {})
    assert read.get(SECTION, "service_url") is None
    assert not missing.exists()
    assert cfg(tmp_path, "[core]\nload_examples = False\n").get(SECTION, "audience") is None


def test_the_file_is_where_airflow_looks() -> None:
    """$AIRFLOW_CONFIG, else $AIRFLOW_HOME/airflow.cfg, else ~/airflow/airflow.cfg."""
    home = os.path.expanduser("~")
    assert config_path({}) == os.path.join(home, "airflow", "airflow.cfg")
    assert config_path({"AIRFLOW_HOME": "/srv/af"}) == "/srv/af/airflow.cfg"
    assert config_path({"AIRFLOW_HOME": "/srv/af", "AIRFLOW_CONFIG": "/etc/af.cfg"}) == "/etc/af.cfg"


def test_sensitive_options_may_come_from_a_command(tmp_path: Path) -> None:
    """cli_credentials (sensitive) from AIRFLOW__..._CMD or cli_credentials_cmd; a value beats a command,
    the variable's command beats the file."""
    text = f"[{SECTION}]\ncli_credentials_cmd = echo from:file\n"
    assert cfg(tmp_path, text).get(SECTION, "cli_credentials") == "from:file\n"
    from_env = cfg(tmp_path, text, **{f"{CREDENTIALS_VARIABLE}_CMD": "echo from:env"})
    assert from_env.get(SECTION, "cli_credentials") == "from:env\n"
    with_value = cfg(tmp_path, f"[{SECTION}]\ncli_credentials = id:plain\ncli_credentials_cmd = echo no:no\n")
    assert with_value.get(SECTION, "cli_credentials") == "id:plain"


def test_commands_never_feed_an_option_that_is_not_sensitive(tmp_path: Path) -> None:
    """Airflow runs _cmd only for sensitive options: service_url_cmd is ignored, here too."""
    text = f"[{SECTION}]\nservice_url_cmd = echo http://evil\n"
    read = cfg(tmp_path, text, **{f"{URL_VARIABLE}_CMD": "echo http://evil"})
    assert read.get(SECTION, "service_url") is None


def test_a_failing_command_is_reported_without_its_output(tmp_path: Path) -> None:
    """A command that fails stops the CLI with its exit status; what it printed (maybe a secret) is not shown."""
    read = cfg(tmp_path, f"[{SECTION}]\ncli_credentials_cmd = sh -c 'echo leaked:secret; exit 3'\n")
    with pytest.raises(WebAuthnConfigError, match="exit status 3") as info:
        read.get(SECTION, "cli_credentials")
    assert "leaked" not in str(info.value)


@pytest.mark.parametrize(
    ("text", "environ"),
    [
        (f"[{SECTION}]\ncli_credentials_secret = webauthn/cli\n", {}),
        ("", {f"{CREDENTIALS_VARIABLE}_SECRET": "webauthn/cli"}),
    ],
    ids=["file", "environment"],
)
def test_a_secrets_backend_value_is_refused_not_replaced(
    tmp_path: Path, text: str, environ: dict[str, str]
) -> None:
    """Only Airflow can read its secrets backend: the option is refused, pointing to `airflow webauthn`,
    rather than read as unset (which would fall through to another value)."""
    with pytest.raises(WebAuthnConfigError, match="use `airflow webauthn"):
        cfg(tmp_path, text, **environ).get(SECTION, "cli_credentials")


@pytest.mark.parametrize(
    ("text", "environ"),
    [
        (f"[{SECTION}]\nservice_url = http://127.0.0.1:1\n", {}),
        (f"[{SECTION}]\nservice_url = http://127.0.0.1:1\n", {URL_VARIABLE: "http://127.0.0.1:2"}),
        (f"[{SECTION}]\nservice_url = http://127.0.0.1:1%%\n", {}),
        ("[api]\nbase_url = https://airflow.example.com/x\n", {}),
        ("", {"AIRFLOW__API__BASE_URL": "~/x"}),
        ("", {}),
    ],
)
def test_the_same_values_as_airflows_own_parser(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, environ: dict[str, str]
) -> None:
    """Airflow's AirflowConfigParser, given the same file and environment, reads the same values."""
    from airflow.configuration import AirflowConfigParser

    for name in (URL_VARIABLE, "AIRFLOW__API__BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    path = tmp_path / "airflow.cfg"
    path.write_text(text)
    airflow = AirflowConfigParser()
    airflow.read(str(path))
    ours = AirflowCfg(str(path), dict(os.environ))
    for section, key in ((SECTION, "service_url"), ("api", "base_url")):
        assert ours.get(section, key) == airflow.get(section, key, fallback=None), (section, key)
