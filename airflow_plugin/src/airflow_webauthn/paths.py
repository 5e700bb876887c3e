"""Paths of the manager's pages inside its FastAPI app (Airflow mounts the app at ``/auth``)."""

from __future__ import annotations

LOGIN_PATH = "/login"
PASSKEYS_PATH = "/passkeys"
ADMIN_PATH = "/admin"
ENROLL_PATH = "/enroll"
