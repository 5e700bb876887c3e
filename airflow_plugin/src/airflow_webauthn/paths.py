"""Paths of the manager's pages inside its FastAPI app (Airflow mounts the app at ``/auth``)."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

LOGIN_PATH = "/login"
PASSKEYS_PATH = "/passkeys"
ADMIN_PATH = "/admin"
ENROLL_PATH = "/enroll"
# RFC 8628's verification_uri: where a person approves a command line (the service builds the link).
DEVICE_PATH = "/device"


def enroll_url(token: str, *, fallback_origin: str = "") -> str:
    """The one builder of the link an invited person opens: ``<origin><base path>/auth/enroll?invite=``.

    Airflow serves the enrollment page and is the WebAuthn relying party, so the link is on Airflow's
    origin: ``[api] base_url`` when set, else ``fallback_origin`` (the request's, on the admin page).
    """
    from airflow.api_fastapi.app import AUTH_MANAGER_FASTAPI_APP_PREFIX
    from airflow.configuration import conf

    parts = urlsplit(conf.get("api", "base_url", fallback="") or "")
    origin = f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else fallback_origin
    return f"{origin}{AUTH_MANAGER_FASTAPI_APP_PREFIX}{ENROLL_PATH}?invite={quote(token, safe='')}"
