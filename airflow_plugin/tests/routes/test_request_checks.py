"""Checks in front of every ``/auth/*`` POST, logout, and what the login page says about the service.

Every property here is a refusal: a cross-site form, a non-JSON body or an oversized body never reaches
the service; a logout leaves no usable step-up cookie; the login page's notice cannot be chosen by a
visitor.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from airflow_webauthn.services.step_up import STEP_UP_COOKIE

from support import ORIGIN, FakeAuthService

if TYPE_CHECKING:
    from collections.abc import Callable

    from fastapi.testclient import TestClient

    from airflow_webauthn.auth_manager import WebAuthnAuthManager

GOOD = {"response": {"id": "good-credential", "type": "public-key"}}

# Every POST route that needs no session (a session is given where one is needed).
PUBLIC_POSTS = [
    ("/auth/webauthn/registration/options", {"inviteToken": "valid-invite"}),
    ("/auth/webauthn/registration/verify", {"response": {"id": "x"}}),
    ("/auth/webauthn/authentication/options", {}),
    ("/auth/webauthn/authentication/verify", GOOD),
    ("/auth/token", {"client_id": "ci-bot", "client_secret": "bot-secret"}),
]
SESSION_POSTS = [
    ("/auth/step-up/options", {}),
    ("/auth/step-up/verify", GOOD),
    ("/auth/api/me/passkeys/registration/options", {}),
]
ALL_POSTS = PUBLIC_POSTS + SESSION_POSTS


@pytest.fixture
def signed_in(confirmed: Callable[..., Any]) -> Any:
    return confirmed()


@pytest.mark.parametrize(("path", "body"), ALL_POSTS, ids=[p for p, _ in ALL_POSTS])
def test_cross_site_posts_are_refused_before_the_service(
    mounted: TestClient, fake_service: FakeAuthService, signed_in: Any, path: str, body: dict[str, Any]
) -> None:
    """A foreign Origin (a page on another site posting here) is 403 csrf_rejected, ceremonies included."""
    response = mounted.post(path, json=body, headers={"Origin": "https://evil.test"})
    assert response.status_code == 403, response.text
    assert response.json()["error"] == "csrf_rejected"
    assert fake_service.requests == []


@pytest.mark.parametrize(("path", "body"), ALL_POSTS, ids=[p for p, _ in ALL_POSTS])
def test_non_json_posts_are_refused_before_the_service(
    mounted: TestClient, fake_service: FakeAuthService, signed_in: Any, path: str, body: dict[str, Any]
) -> None:
    """A form post (text/plain needs no CORS preflight) is refused: only application/json is accepted."""
    import json

    response = mounted.post(
        path, content=json.dumps(body), headers={"Content-Type": "text/plain", "Origin": ORIGIN}
    )
    assert response.status_code == 403, response.text
    assert response.json()["error"] == "csrf_rejected"
    assert fake_service.requests == []


@pytest.mark.parametrize(("path", "body"), ALL_POSTS, ids=[p for p, _ in ALL_POSTS])
def test_same_origin_json_still_works(
    mounted: TestClient, signed_in: Any, path: str, body: dict[str, Any]
) -> None:
    """The checks refuse only what they must: same-origin JSON passes them (whatever the service says)."""
    response = mounted.post(path, json=body, headers={"Origin": ORIGIN})
    assert response.json().get("error") != "csrf_rejected"
    assert response.status_code not in {403, 413}


def test_scripts_without_origin_can_get_tokens(mounted: TestClient) -> None:
    """A script sends no Origin: POST /auth/token works for it (the check is for browsers)."""
    response = mounted.post("/auth/token", json={"client_id": "ci-bot", "client_secret": "bot-secret"})
    assert response.status_code == 201


@pytest.mark.parametrize("path", [p for p, _ in PUBLIC_POSTS])
def test_oversized_bodies_are_413_before_parsing(
    mounted: TestClient, fake_service: FakeAuthService, path: str
) -> None:
    """A body over 64 KiB is refused with 413, declared or not, and nothing is forwarded."""
    big = b'{"response": {"id": "' + b"x" * (70 * 1024) + b'"}}'
    declared = mounted.post(path, content=big, headers={"Content-Type": "application/json"})
    assert declared.status_code == 413
    assert declared.json()["error"] == "request_too_large"

    def chunks() -> Any:
        for _ in range(80):
            yield b"x" * 1024

    streamed = mounted.post(path, content=chunks(), headers={"Content-Type": "application/json"})
    assert streamed.status_code == 413
    assert fake_service.requests == []


def test_token_relay_forwards_the_callers_address(mounted: TestClient, fake_service: FakeAuthService) -> None:
    """A flood of wrong secrets through Airflow lands in the flooder's bucket on the service."""
    mounted.post("/auth/token", json={"client_id": "ci-bot", "client_secret": "wrong"})
    assert fake_service.last("/v1/oauth/token").headers["x-forwarded-for"] == "testclient"


def test_ceremony_relay_ignores_a_forwarded_header_sent_by_the_caller(
    mounted: TestClient, fake_service: FakeAuthService
) -> None:
    """The caller cannot choose whose bucket it spends: the address is the one Airflow sees."""
    mounted.post(
        "/auth/webauthn/authentication/options", json={}, headers={"X-Forwarded-For": "198.51.100.7"}
    )
    assert fake_service.last("/v1/authentication/options").headers["x-forwarded-for"] == "testclient"


# ---- logout and the next sign-in ----


def test_the_login_page_where_logout_ends_deletes_the_step_up_cookie(
    mounted: TestClient, signed_in: Any
) -> None:
    """Airflow's logout revokes the session and sends the browser to /auth/login, which deletes the
    step-up cookie (path /auth) so no confirmation outlives the session it was made in."""
    response = mounted.get("/auth/login")
    cleared = [h.lower() for h in response.headers.get_list("set-cookie") if h.startswith(STEP_UP_COOKIE)]
    assert len(cleared) == 1
    assert "max-age=0" in cleared[0]
    assert "path=/auth" in cleared[0]
    mounted.cookies.clear()
    assert "set-cookie" not in mounted.get("/auth/login").headers  # nothing to delete, nothing sent


def test_a_step_up_cookie_does_not_survive_into_the_next_sign_in(
    mounted: TestClient, sign_in: Callable[..., Any], confirmed: Callable[..., Any]
) -> None:
    """Even if the browser kept it, the step-up cookie of a previous sign-in opens in no later one."""
    confirmed(session_id="sid-before-logout")
    sign_in(session_id="sid-after-login-again")
    response = mounted.patch("/auth/api/me/passkeys/pk-1", json={"label": "x"}, headers={"Origin": ORIGIN})
    assert response.status_code == 401
    assert response.json()["error"] == "step_up_required"


# ---- what the login page says ----


def test_login_page_says_when_airflow_cannot_reach_the_service(
    mounted: TestClient, manager: WebAuthnAuthManager
) -> None:
    """The notice reflects Airflow's own last status read, never the request."""
    assert "cannot reach its sign-in service" not in mounted.get("/auth/login").text
    manager.service_health.failed("connection refused")
    html = mounted.get("/auth/login", params={"reason": "<b>pwned</b>"}).text
    assert "Airflow cannot reach its sign-in service" in html
    assert "pwned" not in html
    manager.service_health.succeeded()
    assert "cannot reach its sign-in service" not in mounted.get("/auth/login").text
