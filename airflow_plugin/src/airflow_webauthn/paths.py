"""Paths of the manager's pages inside its FastAPI app (Airflow mounts the app at ``/auth``)."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

LOGIN_PATH = "/login"
PASSKEYS_PATH = "/passkeys"
ADMIN_PATH = "/admin"
ENROLL_PATH = "/enroll"
# RFC 8628's verification_uri: where a person approves a command line (the service builds the link).
DEVICE_PATH = "/device"


def auth_app_prefix(base_url: str) -> str:
    """Where Airflow mounts the manager's app (``<base path>auth``) for ``[api] base_url``, computed as
    ``airflow.api_fastapi.app`` computes ``AUTH_MANAGER_FASTAPI_APP_PREFIX``, without importing the API server
    (the scheduler's plugins, ``airflow-webauthn``)."""
    if not base_url.endswith("/"):
        base_url += "/"
    return f"{urlsplit(base_url).path}auth"


def enroll_url(token: str, *, fallback_origin: str = "") -> str:
    """The one builder of the link an invited person opens: ``<origin><base path>/auth/enroll?invite=``.

    Airflow serves the enrollment page and is the WebAuthn relying party, so the link is on Airflow's
    origin: ``[api] base_url`` when set, else ``fallback_origin`` (the request's, on the admin page).
    """
    from airflow_webauthn.config import option_value

    base_url = option_value("api", "base_url") or ""
    parts = urlsplit(base_url)
    origin = f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else fallback_origin
    return f"{origin}{auth_app_prefix(base_url)}{ENROLL_PATH}?invite={quote(token, safe='')}"
