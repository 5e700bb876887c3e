"""How the routes answer: ``{"detail", "error"}`` JSON refusals, never cached, never a 500.

Every refusal is an ``ApiRefusalError`` (or a gateway error), answered by the handlers in
``routes.error_handlers`` that ``create_app`` registers, so routes stay thin. The service's refusals
are mapped once, in ``services.errors``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.responses import JSONResponse

from airflow_webauthn.services.errors import (
    SERVICE_UNAVAILABLE_MESSAGE,
    ServiceReply,
    refusal_from,
)

# Never cache ceremony, token or management responses (challenges and tokens are single-use and personal).
NO_STORE = {"Cache-Control": "no-store"}


class ApiRefusalError(Exception):
    def __init__(self, status_code: int, error: str, detail: str, *, clear_step_up: bool = False) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.error = error
        self.detail = detail
        self.clear_step_up = clear_step_up


def error_response(status_code: int, error: str, detail: str) -> JSONResponse:
    return JSONResponse(status_code=status_code, content={"detail": detail, "error": error}, headers=NO_STORE)


def service_unavailable() -> JSONResponse:
    return error_response(503, "service_unavailable", SERVICE_UNAVAILABLE_MESSAGE)


def relay(reply: ServiceReply, *, as_person: bool = True) -> JSONResponse:
    """A service answer for the page: success as is, refusals raised as ``{detail, error}`` with a 4xx.

    ``as_person``: the call carried the person's step-up token, so a 401 means that token no longer
    works (expired, not fresh enough, account disabled) and another passkey confirmation is needed.
    """
    if reply.status_code < 400:
        body = reply.body if reply.body is not None else {}
        return JSONResponse(status_code=reply.status_code, content=body, headers=NO_STORE)
    refusal = refusal_from(reply.status_code, reply.body)
    if refusal.status_code == 401 and as_person:
        raise ApiRefusalError(401, "step_up_required", refusal.message, clear_step_up=True)
    raise ApiRefusalError(refusal.status_code, refusal.error, refusal.message)


def shown(reply: ServiceReply, view: Callable[[Any], Any], *, status_code: int = 200) -> JSONResponse:
    """The service's refusal relayed, else only what ``view`` keeps of its answer (never cached)."""
    if reply.status_code >= 400:
        return relay(reply)
    return JSONResponse(status_code=status_code, content=view(reply.body) or {}, headers=NO_STORE)
