"""The manager's FastAPI sub-application, mounted by Airflow at ``/auth``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

if TYPE_CHECKING:
    from airflow_webauthn.auth_manager import WebAuthnAuthManager

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


def create_app(manager: WebAuthnAuthManager) -> FastAPI:
    from airflow_webauthn.routes.ceremony import ceremony_router
    from airflow_webauthn.routes.pages import pages_router
    from airflow_webauthn.routes.token import token_router

    app = FastAPI(
        title="WebAuthn auth manager",
        description="Passkey login pages, the WebAuthn ceremony proxy and the API token endpoint.",
        # Airflow documents the main API; these routes are for the login page and token clients.
        docs_url=None,
        redoc_url=None,
    )
    app.state.webauthn_manager = manager
    app.include_router(pages_router)
    app.include_router(ceremony_router)
    app.include_router(token_router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="webauthn_static")
    return app
