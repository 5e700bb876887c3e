"""The "Passkeys" item of Airflow's user menu, as an Airflow plugin (``airflow.plugins`` entry point).

Why a plugin and not ``get_extra_menu_items``: Airflow 3.2 and 3.3 label an auth manager's extra menu items
with their own translation of ``security.<text lowercased>``, and only Airflow's own words (users, roles,
...) are translated there, so an item called "Passkeys" is shown as ``security.passkeys``. A plugin's
external view is labelled with its literal ``name``; ``category: "user"`` puts it in the user menu (where
Airflow keeps the person's own settings), and ``url_route`` makes the UI show ``href`` in its same-origin
iframe (scripts and forms allowed) at ``<base>/plugin/passkeys``.

Plugins are global, not per user: every person who may list plugins (``AccessView.PLUGINS``) sees the
item. Service accounts never open Airflow's UI, so they never see it. The item only appears when this
package's auth manager is the configured one, so installing the package alone changes nothing.
"""

from __future__ import annotations

from typing import Any

from airflow.configuration import conf
from airflow.plugins_manager import AirflowPlugin

from airflow_webauthn import paths
from airflow_webauthn.paths import PASSKEYS_PATH

PASSKEYS_MENU_LABEL = "Passkeys"
PASSKEYS_URL_ROUTE = "passkeys"
_OUR_MANAGER_PREFIX = "airflow_webauthn."


def auth_app_prefix() -> str:
    """Where Airflow mounts the manager's app, without importing the API server into every Airflow process
    that loads plugins (scheduler, workers, ...)."""
    return paths.auth_app_prefix(conf.get("api", "base_url", fallback="") or "")


def passkeys_menu_views() -> list[dict[str, Any]]:
    """The external view for the user menu, or none when another auth manager is configured."""
    if not conf.get("core", "auth_manager", fallback="").startswith(_OUR_MANAGER_PREFIX):
        return []
    prefix = auth_app_prefix()
    return [
        {
            "name": PASSKEYS_MENU_LABEL,
            "href": f"{prefix}{PASSKEYS_PATH}",
            # A key, in the line style of Airflow's own menu icons (the UI shows a plug-in icon otherwise).
            "icon": f"{prefix}/static/passkey-icon-light.svg",
            "icon_dark_mode": f"{prefix}/static/passkey-icon-dark.svg",
            "category": "user",
            "destination": "nav",
            "url_route": PASSKEYS_URL_ROUTE,
        }
    ]


class WebAuthnMenuPlugin(AirflowPlugin):
    """Registered through the ``airflow.plugins`` entry point in pyproject.toml."""

    name = "webauthn_passkeys"

    @classmethod
    def on_load(cls, *args: Any, **kwargs: Any) -> None:
        # Read when Airflow loads its plugins (after its configuration), not at import.
        cls.external_views = passkeys_menu_views()
