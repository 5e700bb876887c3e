"""The manager's FastAPI sub-application, mounted by Airflow at ``/auth``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles

if TYPE_CHECKING:
    from airflow_webauthn.auth_manager import WebAuthnAuthManager

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


def create_app(manager: WebAuthnAuthManager) -> FastAPI:
    from airflow_webauthn.routes.admin import admin_router
    from airflow_webauthn.routes.ceremony import ceremony_router
    from airflow_webauthn.routes.guards import (
        ApiRefusalError,
        ServiceDownError,
        refusal_response,
        service_down_response,
    )
    from airflow_webauthn.routes.pages import pages_router
    from airflow_webauthn.routes.self_service import self_service_router
    from airflow_webauthn.routes.step_up import step_up_router
    from airflow_webauthn.routes.token import token_router

    app = FastAPI(
        title="WebAuthn auth manager",
        description="Passkey login, self-service and administration pages, the WebAuthn ceremony "
        "proxy, step-up, and the API token endpoint.",
        # Airflow documents the main API; these routes are for the login page and token clients.
        docs_url=None,
        redoc_url=None,
    )
    app.state.webauthn_manager = manager
    app.include_router(pages_router)
    app.include_router(ceremony_router)
    app.include_router(token_router)
    app.include_router(step_up_router)
    app.include_router(self_service_router)
    app.include_router(admin_router)

    async def _refused(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiRefusalError)
        return refusal_response(exc)

    async def _service_down(request: Request, exc: Exception) -> Response:
        return service_down_response()

    app.add_exception_handler(ApiRefusalError, _refused)
    app.add_exception_handler(ServiceDownError, _service_down)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="webauthn_static")
    return app
