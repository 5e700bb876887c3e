"""Passwordless passkey (WebAuthn) login for Apache Airflow 3.

Set ``[core] auth_manager = airflow_webauthn.auth_manager.WebAuthnAuthManager``. This module is imported
by Airflow's CLI and API server at start-up, so it stays free of heavy imports.
"""

from __future__ import annotations

__version__ = "0.1.0"
