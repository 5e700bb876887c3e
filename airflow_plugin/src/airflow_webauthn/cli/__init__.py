"""``airflow webauthn ...`` commands: administration through the auth service's admin API."""

from __future__ import annotations
