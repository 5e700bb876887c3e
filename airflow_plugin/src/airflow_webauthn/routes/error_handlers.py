"""The app's exception handlers: every refusal leaves as ``{"detail", "error"}`` JSON, never cached.

Kept apart from ``routes.responses`` (which the dependencies raise from) so that the dependencies and the
handlers that answer for them do not import each other.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_webauthn.routes.csrf import RequestTooLargeError
from airflow_webauthn.routes.responses import ApiRefusalError, error_response, service_unavailable
from airflow_webauthn.routes.step_up_auth import clear_step_up_cookie
from airflow_webauthn.services.errors import ServiceRefusedError, ServiceUnavailableError

if TYPE_CHECKING:
    from fastapi import FastAPI, Request, Response


def install_error_handlers(app: FastAPI) -> None:
    async def refused(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiRefusalError)
        response = error_response(exc.status_code, exc.error, exc.detail)
        if exc.clear_step_up:
            clear_step_up_cookie(response)
        return response

    async def service_refused(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ServiceRefusedError)
        return error_response(exc.status_code, exc.error, exc.message)

    async def unavailable(request: Request, exc: Exception) -> Response:
        return service_unavailable()

    async def too_large(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestTooLargeError)
        return error_response(413, "request_too_large", str(exc.detail))

    app.add_exception_handler(RequestTooLargeError, too_large)
    app.add_exception_handler(ApiRefusalError, refused)
    app.add_exception_handler(ServiceRefusedError, service_refused)
    app.add_exception_handler(ServiceUnavailableError, unavailable)
