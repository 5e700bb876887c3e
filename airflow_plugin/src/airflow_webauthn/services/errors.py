"""What the plugin says when the auth service refuses or fails: ONE table, ONE "unavailable".

The service's JSON errors carry ``statusCode``, ``error`` (an HTTP reason phrase), ``message`` and, when
it refused on purpose, ``code`` (``libs/errors/src/app-error.ts``). Its token endpoint answers RFC 6749
``{"error", "error_description"}`` instead. Only ``code`` (or the RFC 6749 ``error``) decides what the
plugin calls a refusal; the reason phrase is never shown, and a code the table does not know falls back
to the HTTP status, so a changed service can never make the plugin reflect arbitrary text as a code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SERVICE_UNAVAILABLE_MESSAGE = "The sign-in service is unavailable right now. Try again in a moment."

# The service's ``code`` (and the token endpoint's RFC 6749 ``error``) → the plugin's error code.
SERVICE_CODES: dict[str, str] = {
    "invalid_request": "invalid_request",
    "invalid_invite": "invalid_invite",
    "invalid_challenge": "invalid_challenge",
    "registration_failed": "registration_failed",
    "authentication_failed": "authentication_failed",
    "unauthenticated": "unauthenticated",
    # A person or service account the service knows but refuses now (libs/errors ErrorCode).
    "account_disabled": "account_disabled",
    "account_unknown": "unauthenticated",
    "passkey_revoked": "passkey_revoked",
    "passkey_flagged": "passkey_flagged",
    # A passkey the authenticator policy no longer allows for the person's groups, after its grace period.
    "authenticator_policy": "authenticator_policy",
    # A token from before its account's sessions were ended for good (disabled once, passkey unflagged,
    # signed out at the provider, secret rotated): sign in again / get a new token.
    "session_ended": "session_ended",
    "step_up_required": "step_up_required",
    "forbidden": "forbidden",
    # A provider sign-in whose groups map to no Airflow role (refused before any passkey step).
    "no_role": "no_role",
    "insufficient_scope": "forbidden",
    "not_found": "not_found",
    "conflict": "conflict",
    # The change would leave no enabled administrator with an active passkey (the service says so).
    "last_admin": "last_admin",
    "rate_limited": "rate_limited",
    # 503s: the gateway turns every 5xx into ServiceUnavailableError first; listed so the table is whole.
    "idp_unavailable": "idp_unavailable",
    "signing_key_unavailable": "service_unavailable",
    # RFC 6749 §5.2 (POST /v1/oauth/token)
    "invalid_client": "invalid_client",
    "invalid_scope": "invalid_request",
    "unsupported_grant_type": "invalid_request",
    "unauthorized_client": "invalid_client",
}

# Refusals without a known code (body parser, rate limiter, a proxy in between): by HTTP status.
STATUS_CODES: dict[int, str] = {
    400: "invalid_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    409: "conflict",
    413: "request_too_large",
    415: "invalid_request",
    422: "invalid_request",
    429: "rate_limited",
}

DEFAULT_MESSAGE = "The request was refused."


class ServiceUnavailableError(Exception):
    """The service could not be reached, timed out, failed (5xx) or answered something unusable.

    Always shown to people as ``SERVICE_UNAVAILABLE_MESSAGE`` (503 ``service_unavailable``); the
    exception's own text is for logs only.
    """


class ServiceRefusedError(Exception):
    """The service (or Airflow, about the service's answer) refused; ``message`` is safe to show."""

    def __init__(self, status_code: int, error: str, message: str) -> None:
        super().__init__(f"{status_code} {error}: {message}")
        self.status_code = status_code
        self.error = error
        self.message = message


@dataclass(frozen=True)
class ServiceReply:
    status_code: int
    body: Any


def refusal_from(status_code: int, body: Any) -> ServiceRefusedError:
    """The plugin's refusal for a service 4xx, by ``code`` first and by status otherwise."""
    body = body if isinstance(body, dict) else {}
    code = body.get("code")
    if not isinstance(code, str):  # RFC 6749 bodies name the code in ``error``
        code = body.get("error") if "error_description" in body else None
    error = SERVICE_CODES.get(code) if isinstance(code, str) else None
    if error is None:
        error = STATUS_CODES.get(status_code, "request_refused")
    message = body.get("message") or body.get("error_description") or DEFAULT_MESSAGE
    if isinstance(message, list):  # class-validator may list several messages
        message = "; ".join(str(item) for item in message)
    status = status_code if 400 <= status_code < 500 else 502
    return ServiceRefusedError(status, error, str(message)[:500])
