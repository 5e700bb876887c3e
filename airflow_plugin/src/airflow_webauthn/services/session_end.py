"""Telling a person (and a script) why their session or token ended.

Airflow answers every ``jwt.ExpiredSignatureError`` from ``get_user_from_token`` with a fixed
``{"detail": "Token Expired"}``, and its UI then sends the person to the login page, which knew nothing
of the reason. So an ended session is refused with a 401 ``HTTPException`` whose ``detail`` says why in
words, and which sets a short-lived cookie naming the reason by CODE (one of ``LOGIN_NOTICES``): the
login page shows the matching fixed sentence and deletes the cookie. A forged cookie can only select one
of these sentences, never put text of its choosing on the page.
"""

from __future__ import annotations

from fastapi import HTTPException, status

SESSION_ENDED_COOKIE = "webauthn_session_ended"
# Long enough to survive the UI's redirect to the login page, short enough not to greet a later visit.
SESSION_ENDED_COOKIE_SECONDS = 300

# Reason code → what the login page says. Codes come from ``session_check.decide`` (and the two below).
LOGIN_NOTICES: dict[str, str] = {
    "account_unknown": "Your session ended: your account no longer exists.",
    "account_disabled": "Your session ended: your account is disabled. Ask an administrator to enable it.",
    "passkey_revoked": (
        "Your session ended: the passkey you signed in with was revoked. Sign in with another passkey."
    ),
    "passkey_flagged": (
        "Your session ended: the passkey you signed in with was blocked after a security check. "
        "Ask an administrator to review it, or sign in with another passkey."
    ),
    "no_role": "Your session ended: your account no longer has an Airflow role.",
    "ended_account_disabled": "Your session ended because your account was disabled. Sign in again.",
    "ended_passkey_flagged": (
        "Your session ended because a passkey of your account was blocked after a security check. "
        "Sign in again."
    ),
    "ended_idp_logout": "Your session ended because you signed out at your identity provider. Sign in again.",
    "ended_unknown": "Your session was ended by an administrator. Sign in again.",
    "lifetime": "Your session reached its maximum length. Sign in again.",
    "unconfirmed": (
        "Your session ended: Airflow could not confirm it with its sign-in service. Sign in again."
    ),
}


def login_notice(code: str | None) -> str | None:
    """The login page's sentence for a reason code; None for no code or one this table does not know."""
    return LOGIN_NOTICES.get(code) if code else None


class SessionEndedError(HTTPException):
    """A session or token that must not be honoured any more: 401, ``detail`` in words.

    ``code`` names the reason (a key of ``LOGIN_NOTICES`` for people's sessions); the cookie carrying it
    is set for the login page only when ``cookie_path`` is given (a browser session, not a script).
    """

    def __init__(self, detail: str, *, code: str, cookie_path: str | None = None) -> None:
        headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
        if cookie_path is not None and code in LOGIN_NOTICES:
            headers["Set-Cookie"] = (
                f"{SESSION_ENDED_COOKIE}={code}; Path={cookie_path}; Max-Age={SESSION_ENDED_COOKIE_SECONDS}; "
                "HttpOnly; SameSite=Lax"
            )
        super().__init__(status_code=status.HTTP_401_UNAUTHORIZED, detail=detail, headers=headers)
        self.code = code
