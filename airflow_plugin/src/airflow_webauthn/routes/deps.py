"""Shared pieces of the routes: the manager dependency and JSON error responses."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import JSONResponse

from airflow_webauthn.auth_manager import WebAuthnAuthManager


def _manager(request: Request) -> WebAuthnAuthManager:
    manager: WebAuthnAuthManager = request.app.state.webauthn_manager
    return manager


ManagerDep = Annotated[WebAuthnAuthManager, Depends(_manager)]

SERVICE_UNAVAILABLE_MESSAGE = "The sign-in service is unavailable right now. Try again in a moment."

# Never cache ceremony or token responses (challenges and tokens are single-use and personal).
NO_STORE = {"Cache-Control": "no-store"}


def error_response(status_code: int, error: str, detail: str) -> JSONResponse:
    return JSONResponse(status_code=status_code, content={"detail": detail, "error": error}, headers=NO_STORE)


def service_unavailable() -> JSONResponse:
    return error_response(503, "service_unavailable", SERVICE_UNAVAILABLE_MESSAGE)


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None
