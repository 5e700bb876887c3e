"""Airflow's session cookie and the rule for when a cookie is ``Secure``, written once."""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow.api_fastapi.app import get_cookie_path
from airflow.api_fastapi.auth.managers.base_auth_manager import COOKIE_NAME_JWT_TOKEN
from airflow.configuration import conf

if TYPE_CHECKING:
    from fastapi import Request
    from fastapi.responses import Response


def secure_cookie(request: Request) -> bool:
    """Same rule as Airflow's own login routes: https, or Airflow serving TLS itself (behind a TLS
    proxy, run the api-server with --proxy-headers so the scheme is seen as https)."""
    return request.url.scheme == "https" or bool(conf.get("api", "ssl_cert", fallback=""))


def set_session_cookie(response: Response, request: Request, token: str) -> None:
    """Airflow's own session token for a browser sign-in (any ``SignInKind`` that opens one)."""
    response.set_cookie(
        COOKIE_NAME_JWT_TOKEN,
        token,
        path=get_cookie_path(),
        secure=secure_cookie(request),
        httponly=True,
        samesite="lax",
    )
