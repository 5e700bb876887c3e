"""The manager's FastAPI sub-application, mounted by Airflow at ``/auth``."""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from airflow_webauthn.routes.deps import WebAuthnComponents

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


def create_app(components: WebAuthnComponents) -> FastAPI:
    """The routes over ``components`` (the auth manager, seen only through its protocol).

    The gateway's pooled HTTP client lives as long as this app: Airflow enters the lifespan of the
    apps it mounts when its api-server starts, and leaves it when it stops.
    """
    from airflow_webauthn.routes.admin import admin_router
    from airflow_webauthn.routes.ceremony import ceremony_router
    from airflow_webauthn.routes.cli_token import cli_token_router
    from airflow_webauthn.routes.command_lines import command_lines_router
    from airflow_webauthn.routes.csrf import BodyLimitMiddleware
    from airflow_webauthn.routes.device import device_router
    from airflow_webauthn.routes.device_requests import device_requests_router
    from airflow_webauthn.routes.error_handlers import install_error_handlers
    from airflow_webauthn.routes.my_delegations import my_delegations_router
    from airflow_webauthn.routes.oidc import oidc_router
    from airflow_webauthn.routes.pages import pages_router
    from airflow_webauthn.routes.self_service import self_service_router
    from airflow_webauthn.routes.step_up import step_up_router
    from airflow_webauthn.routes.token import token_router

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with components.gateway.lifespan():
            yield

    app = FastAPI(
        title="WebAuthn auth manager",
        description="Passkey login, self-service and administration pages, the WebAuthn ceremony "
        "proxy, step-up, and the API token endpoint.",
        # Airflow documents the main API; these routes are for the login page and token clients.
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.webauthn = components
    app.add_middleware(BodyLimitMiddleware)
    for router in (
        pages_router,
        ceremony_router,
        oidc_router,
        token_router,
        cli_token_router,
        command_lines_router,
        my_delegations_router,
        device_router,
        device_requests_router,
        step_up_router,
        self_service_router,
        admin_router,
    ):
        app.include_router(router)
    install_error_handlers(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="webauthn_static")
    return app
