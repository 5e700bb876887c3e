"""Cross-site request forgery and oversized bodies: the checks in front of every ``/auth/*`` mutation.

A cross-site form can send neither a JSON content type (without a CORS preflight Airflow does not
grant) nor a matching ``Origin``; SameSite cookies are a second layer, not the only one. Bodies are
capped before anything parses them, so a caller cannot make Airflow buffer or forward megabytes.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from airflow.configuration import conf
from fastapi import Depends, HTTPException, Request

from airflow_webauthn.routes.responses import ApiRefusalError

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The service's own limit (64 KiB): anything larger would be refused there anyway.
MAX_BODY_BYTES = 64 * 1024
_MUTATIONS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def request_origin(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}".lower()


def configured_origin() -> str | None:
    """Airflow's address as configured (``[api] base_url``), e.g. ``https://airflow.example.com``."""
    parts = urlsplit(conf.get("api", "base_url", fallback="") or "")
    if parts.scheme in {"http", "https"} and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}".lower()
    return None


def _allowed_origins(request: Request) -> set[str]:
    allowed = {request_origin(request)}
    configured = configured_origin()
    if configured:
        allowed.add(configured)
    return allowed


def content_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def same_origin_json(request: Request) -> None:
    """Mutations accept only JSON bodies from this origin (scripts send no ``Origin``: allowed)."""
    if content_type(request) != "application/json":
        raise ApiRefusalError(403, "csrf_rejected", "This request must be sent as application/json.")
    same_origin(request)


def same_origin_json_or_form(request: Request) -> None:
    """``POST /auth/token`` also takes the OAuth form body (RFC 6749 §4.4.2), which any page can post.

    That is safe only because the route uses no ambient authority: it never reads a cookie, and its
    answer depends on nothing but the credentials in the request itself, so a cross-site form that
    rides on someone's session gets nothing it could not get alone. Browsers still meet the same
    origin checks as everywhere else (their cross-site posts carry ``Origin`` or ``Sec-Fetch-Site``).
    """
    if content_type(request) not in {"application/json", "application/x-www-form-urlencoded"}:
        raise ApiRefusalError(
            403,
            "csrf_rejected",
            "This request must be sent as application/json or application/x-www-form-urlencoded.",
        )
    same_origin(request)


def same_origin(request: Request) -> None:
    origin = request.headers.get("origin")
    if origin is not None and origin.lower().rstrip("/") not in _allowed_origins(request):
        raise ApiRefusalError(403, "csrf_rejected", "This request came from another site.")
    if request.headers.get("sec-fetch-site", "").lower() == "cross-site":
        raise ApiRefusalError(403, "csrf_rejected", "This request came from another site.")


SameOriginJson = Depends(same_origin_json)
SameOriginJsonOrForm = Depends(same_origin_json_or_form)


class BodyLimitMiddleware:
    """Answer 413 to a request body over ``limit`` bytes, declared or streamed, before it is parsed."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in _MUTATIONS:
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await _too_large(send, self.limit)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise RequestTooLargeError(self.limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except RequestTooLargeError:
            if not started:
                await _too_large(send, self.limit)


class RequestTooLargeError(HTTPException):
    """Raised while the body streams in (FastAPI would turn any other exception into a 400)."""

    def __init__(self, limit: int = MAX_BODY_BYTES) -> None:
        super().__init__(413, f"The request body is too large (limit {limit // 1024} KiB).")


async def _too_large(send: Send, limit: int) -> None:
    body = json.dumps(
        {
            "detail": f"The request body is too large (limit {limit // 1024} KiB).",
            "error": "request_too_large",
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
