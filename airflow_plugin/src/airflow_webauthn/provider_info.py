"""Provider metadata read by Airflow's ProvidersManager (entry point ``apache_airflow_provider``).

Airflow 3.3 loads auth-manager CLI commands only from provider metadata, and this is also what makes
``airflow config list`` show the ``[webauthn_auth_manager]`` options with their descriptions.
"""

from __future__ import annotations

from typing import Any

from airflow_webauthn import __version__
from airflow_webauthn.config import OPTIONS, SECTION


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "airflow-webauthn",
        "name": "WebAuthn",
        "description": "Passwordless passkey login for Airflow, backed by the airflow-webauthn auth service.",
        "versions": [__version__],
        "auth-managers": ["airflow_webauthn.auth_manager.WebAuthnAuthManager"],
        "cli": ["airflow_webauthn.cli.definition.get_webauthn_cli_commands"],
        "config": {
            SECTION: {
                "description": "Settings of the WebAuthn auth manager (airflow_webauthn).",
                "options": {
                    name: {
                        "description": option.description,
                        "type": option.type_name,
                        "version_added": "0.1.0",
                        "example": option.example,
                        "default": option.default,
                        **({"sensitive": True} if option.sensitive else {}),
                    }
                    for name, option in OPTIONS.items()
                },
            }
        },
    }
