"""The "Passkeys" user-menu item: an Airflow plugin view labelled with its literal name."""

from __future__ import annotations

import pytest
from airflow.api_fastapi.core_api.datamodels.plugins import PluginResponse

from airflow_webauthn import menu_plugin
from airflow_webauthn.menu_plugin import WebAuthnMenuPlugin, auth_app_prefix, passkeys_menu_views

OURS = "airflow_webauthn.auth_manager.WebAuthnAuthManager"


@pytest.fixture(autouse=True)
def _restore_plugin_views() -> object:
    before = WebAuthnMenuPlugin.external_views
    yield None
    WebAuthnMenuPlugin.external_views = before


def test_a_user_menu_view_named_passkeys_that_frames_the_passkeys_page(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Category "user" puts it in Airflow's user menu; its label is the literal name "Passkeys" (not a
    translation key); url_route makes the UI frame href, our own page under <base>/auth/."""
    monkeypatch.setenv("AIRFLOW__CORE__AUTH_MANAGER", OURS)
    [view] = passkeys_menu_views()
    assert view == {
        "name": "Passkeys",
        "href": "/auth/passkeys",
        "icon": "/auth/static/passkey-icon-light.svg",
        "icon_dark_mode": "/auth/static/passkey-icon-dark.svg",
        "category": "user",
        "destination": "nav",
        "url_route": "passkeys",
    }
    # The API's own response model accepts it (an invalid view would be dropped from the plugin list).
    plugin = {"name": "webauthn_passkeys", "macros": [], "flask_blueprints": [], "fastapi_apps": [],
              "fastapi_root_middlewares": [], "external_views": [view], "react_apps": [], "appbuilder_views": [],
              "appbuilder_menu_items": [], "global_operator_extra_links": [], "operator_extra_links": [],
              "source": "test", "listeners": [], "timetables": []}  # fmt: skip
    assert PluginResponse.model_validate(plugin).external_views[0].name == "Passkeys"


@pytest.mark.parametrize(
    ("base_url", "prefix"),
    [
        ("", "/auth"),
        ("http://airflow.example.com/", "/auth"),
        ("https://example.com/airflow", "/airflow/auth"),
    ],
)
def test_the_href_follows_the_base_path_as_airflow_mounts_the_app(
    monkeypatch: pytest.MonkeyPatch, base_url: str, prefix: str
) -> None:
    """Same formula as Airflow's AUTH_MANAGER_FASTAPI_APP_PREFIX, without importing the API server."""
    monkeypatch.setenv("AIRFLOW__API__BASE_URL", base_url)
    assert auth_app_prefix() == prefix


def test_the_prefix_matches_airflows_own() -> None:
    from airflow.api_fastapi.app import AUTH_MANAGER_FASTAPI_APP_PREFIX

    assert auth_app_prefix() == AUTH_MANAGER_FASTAPI_APP_PREFIX


def test_nothing_is_added_when_another_auth_manager_is_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    """Installing the package alone does not put a dead link in Airflow's menu."""
    monkeypatch.setenv(
        "AIRFLOW__CORE__AUTH_MANAGER",
        "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
    )
    WebAuthnMenuPlugin.on_load()
    assert WebAuthnMenuPlugin.external_views == []
    monkeypatch.setenv("AIRFLOW__CORE__AUTH_MANAGER", OURS)
    WebAuthnMenuPlugin.on_load()
    assert [view["name"] for view in WebAuthnMenuPlugin.external_views] == ["Passkeys"]


def test_registered_as_an_airflow_plugin_entry_point() -> None:
    """Airflow finds the plugin through the ``airflow.plugins`` entry point of the installed package."""
    from importlib.metadata import entry_points

    [entry] = [ep for ep in entry_points(group="airflow.plugins") if ep.name == "webauthn_passkeys"]
    assert entry.load() is WebAuthnMenuPlugin
    assert menu_plugin.PASSKEYS_MENU_LABEL == "Passkeys"


def test_the_menu_icons_ship_with_the_static_assets() -> None:
    """The icons the view names are files the manager's app serves under /auth/static/."""
    from airflow_webauthn.routes import STATIC_DIR

    for mode in ("light", "dark"):
        assert (STATIC_DIR / f"passkey-icon-{mode}.svg").is_file()
