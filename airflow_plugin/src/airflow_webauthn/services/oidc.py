"""Sign-in through the organisation's OpenID provider: what the login page says, and the cookies.

The flow itself lives in the auth service; Airflow relays it and keeps the browser's part of it in
httponly cookies (the flow binding, the validated ``next``, the sign-in waiting for its passkey step).
Errors reach the login page as one of the codes below, never as text from the request, so nobody can
make Airflow's login page show a message of their choosing.
"""

from __future__ import annotations

from typing import Any

FLOW_COOKIE = "_webauthn_oidc_flow"
NEXT_COOKIE = "_webauthn_oidc_next"
PENDING_COOKIE = "_webauthn_oidc_pending"
# Long enough for the provider's own sign-in (password, its MFA); the service expires the flow anyway.
FLOW_COOKIE_SECONDS = 600

OIDC_ERROR_MESSAGES: dict[str, str] = {
    "idp_refused": "Your identity provider did not sign you in, or its answer did not pass Airflow's "
    "checks. No session was created.",
    "state_invalid": "This sign-in attempt expired or was already used. Start again.",
    "not_allowed": "Your identity provider account is not in a group allowed to sign in to Airflow.",
    "account_conflict": "An Airflow account with your username already exists and is not linked to "
    "your identity provider account. Ask an Airflow administrator.",
    "idp_unavailable": "Sign-in through your identity provider is not possible right now (it or the "
    "sign-in service cannot be reached). Try again later.",
    "no_role": "Your identity provider signed you in, but you have no Airflow role. Ask an Airflow "
    "administrator to add you to a group that grants one.",
    "account_disabled": "Your Airflow account is disabled. Ask an Airflow administrator.",
    "rate_limited": "Too many sign-in attempts. Wait a minute, then start again.",
    "not_configured": "Sign-in through an identity provider is not set up for this Airflow. Sign in with "
    "your passkey.",
    "passkey_failed": "The passkey step was not completed, so no session was created. Start again.",
    "failed": "Sign-in through your identity provider failed. Start again.",
}

# The service's refusal (as mapped by ``services.errors``) → the login page's code. Every code the
# service's federation paths send has a row (libs/federation, apps/.../sign-in/federated-*.ts):
# invalid_request is a callback the service could not read (too long, malformed), so "start again".
_REFUSALS: dict[str, str] = {
    "authentication_failed": "idp_refused",
    "invalid_challenge": "state_invalid",
    "invalid_request": "state_invalid",
    "forbidden": "not_allowed",
    "conflict": "account_conflict",
    "account_disabled": "account_disabled",
    "unauthenticated": "idp_refused",
    "rate_limited": "rate_limited",
    "idp_unavailable": "idp_unavailable",
    "not_found": "not_configured",
    "no_role": "no_role",
}


def login_error_code(error: str) -> str:
    """The login page's code for a refusal of the provider sign-in (``failed`` when unknown)."""
    return _REFUSALS.get(error, "failed")


def login_error_message(code: str | None) -> str | None:
    """The fixed message for a code from the login page's query string; None for anything else."""
    return OIDC_ERROR_MESSAGES.get(code) if code else None


def provider_button(reply_body: Any) -> str | None:
    """The provider's display name when the service says sign-in through it is configured."""
    if not isinstance(reply_body, dict) or reply_body.get("enabled") is not True:
        return None
    name = reply_body.get("displayName")
    return name[:80] if isinstance(name, str) and name.strip() else None
