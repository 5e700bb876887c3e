"""Ended sessions stay ended, on the real Airflow and the real service: disabling a person, or flagging
the passkey a session was signed in with, ends that session for good. Enabling the person again or
unflagging the passkey lets them sign in again; it never brings the old cookie back. Airflow's 401 says
why in words (not "Token Expired"), and the login page the UI sends them to says it too.
"""

from __future__ import annotations

import sqlite3
import time
from typing import TYPE_CHECKING

import httpx
import pytest
from support.soft_authenticator import SoftAuthenticator
from support.stack import RECHECK_INTERVAL_SECONDS
from support.waiting import holds_throughout, wait_for
from test_fail_closed import SLACK_SECONDS, signed_in
from test_passkey_login import enroll

if TYPE_CHECKING:
    from support.stack import Stack

REASON_COOKIE = "webauthn_session_ended"


@pytest.fixture(scope="module")
def people(stack: Stack) -> dict[str, SoftAuthenticator]:
    authenticators = {}
    with httpx.Client(base_url=stack.origin, timeout=30) as client:
        for name in ("ivan", "judy"):
            authenticators[name] = SoftAuthenticator(alg="EdDSA")
            enroll(client, stack, name, authenticators[name])
    return authenticators


def me(airflow: httpx.Client, headers: dict[str, str]) -> httpx.Response:
    return airflow.get("/ui/auth/me", headers=headers)


def refused_until(airflow: httpx.Client, headers: dict[str, str]) -> httpx.Response:
    """Poll until Airflow refuses the session (within the re-check interval); the refusal."""
    status, waited = wait_for(
        lambda: me(airflow, headers).status_code, {401}, within=RECHECK_INTERVAL_SECONDS + SLACK_SECONDS
    )
    assert status == 401, f"still {status} {waited:.1f}s later"
    return me(airflow, headers)


def stays_refused(airflow: httpx.Client, headers: dict[str, str]) -> httpx.Response:
    """Every answer for past the re-check interval (+ slack) is a 401: nothing revives the session."""
    response, held = holds_throughout(
        lambda: me(airflow, headers),
        lambda response: response.status_code == 401,
        seconds=RECHECK_INTERVAL_SECONDS + SLACK_SECONDS,
    )
    assert held, f"the old session came back: {response.text}"
    return response


def test_enabling_a_disabled_person_does_not_revive_their_session(
    airflow: httpx.Client, stack: Stack, people: dict[str, SoftAuthenticator]
) -> None:
    """disable → Airflow answers 401 "…the account is disabled…" with the login page's reason cookie;
    enable → the SAME cookie is still refused ("the account was disabled, which ended it for good");
    a new sign-in works."""
    ivan = signed_in(airflow, stack, people["ivan"], "ivan")
    assert me(airflow, ivan).status_code == 200

    stack.service.cli("users", "disable", "ivan")
    refusal = refused_until(airflow, ivan)
    assert refusal.json()["detail"] == "Your session ended: the account is disabled. Sign in again."
    assert f"{REASON_COOKIE}=account_disabled;" in refusal.headers.get("set-cookie", "")

    stack.service.cli("users", "enable", "ivan")
    stale = stays_refused(airflow, ivan)
    assert stale.json()["detail"] == (
        "Your session ended: the account was disabled, which ended it for good. Sign in again."
    )
    assert "Token Expired" not in stale.text
    reason = stale.cookies.get(REASON_COOKIE)
    assert reason == "ended_account_disabled"

    # Where Airflow's UI sends him next: the login page says why, once.
    page = airflow.get("/auth/login", headers={"Cookie": f"{REASON_COOKIE}={reason}"})
    assert "Your session ended because your account was disabled. Sign in again." in page.text
    assert f'{REASON_COOKIE}=""' in page.headers["set-cookie"]

    again = signed_in(airflow, stack, people["ivan"], "ivan")
    assert me(airflow, again).status_code == 200
    assert me(airflow, ivan).status_code == 401  # and the old cookie stays dead beside the new one


def test_unflagging_a_passkey_does_not_revive_the_sessions_from_before(
    airflow: httpx.Client, stack: Stack, people: dict[str, SoftAuthenticator]
) -> None:
    """A flagged passkey's session ends ("flagged as possibly cloned"); the admin's unflag lets the
    passkey sign in again, but the session from before the flag stays refused."""
    judy = signed_in(airflow, stack, people["judy"], "judy")
    assert me(airflow, judy).status_code == 200
    database = sqlite3.connect(stack.service.env["DATABASE_URL"], timeout=30)
    try:
        with database:
            (passkey_id,) = database.execute(
                "SELECT id FROM passkeys WHERE user_id = (SELECT id FROM users WHERE username = 'judy')"
            ).fetchone()
            database.execute(
                "UPDATE passkeys SET flagged_at = ?, flag_reason = 'integration-test' WHERE id = ?",
                (int(time.time() * 1000), passkey_id),
            )
    finally:
        database.close()
    assert "flagged as possibly cloned" in refused_until(airflow, judy).json()["detail"]

    stack.service.cli("passkeys", "unflag", passkey_id)
    stale = stays_refused(airflow, judy)
    assert "blocked after a security check" in stale.json()["detail"]

    again = signed_in(airflow, stack, people["judy"], "judy")
    assert me(airflow, again).status_code == 200
