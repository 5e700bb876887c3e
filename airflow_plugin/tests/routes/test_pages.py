"""Login and enrollment pages: served with their assets, accessible markup and strict headers."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from airflow_webauthn.auth_manager import WebAuthnAuthManager

from support import FakeAuthService


@pytest.fixture
def client(manager: WebAuthnAuthManager) -> TestClient:
    # Mounted like Airflow does, so <base href> and relative asset URLs are checked for real.
    root = FastAPI()
    root.mount("/auth", manager.get_fastapi_app())
    return TestClient(root)


def test_login_page(client: TestClient) -> None:
    """The login page offers conditional UI, a passkey button and an aria-live status region."""
    response = client.get("/auth/login?next=/dags")
    assert response.status_code == 200
    html = response.text
    assert '<base href="/auth/"' in html
    assert 'autocomplete="username webauthn"' in html
    assert "Sign in with a passkey" in html
    assert 'aria-live="polite"' in html
    assert "static/vendor/simplewebauthn-browser.umd.min.js" in html


def test_login_page_says_why_the_session_ended_once(client: TestClient) -> None:
    """After Airflow ended a session (its 401 set the reason cookie), the login page says why in
    words, and deletes the cookie so the next visit is not greeted with it."""
    client.cookies.set("webauthn_session_ended", "ended_account_disabled")
    response = client.get("/auth/login")
    assert "Your session ended because your account was disabled. Sign in again." in response.text
    assert 'webauthn_session_ended=""' in response.headers["set-cookie"]
    assert "Max-Age=0" in response.headers["set-cookie"]


@pytest.mark.parametrize("code", ["<script>alert(1)</script>", "constructor", "nope"])
def test_login_page_ignores_reason_codes_it_does_not_know(client: TestClient, code: str) -> None:
    """The cookie only selects one of the fixed sentences: anything else shows nothing."""
    client.cookies.set("webauthn_session_ended", code)
    html = client.get("/auth/login").text
    assert "Your session" not in html
    assert code not in html


def test_pages_cannot_be_framed_or_run_inline_script(client: TestClient) -> None:
    """Clickjacking and injected inline script are blocked by headers."""
    for path in ("/auth/login", "/auth/enroll?invite=x"):
        headers = client.get(path).headers
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert "script-src 'self'" in headers["content-security-policy"]
        assert headers["x-frame-options"] == "DENY"


def test_query_values_are_not_reflected(client: TestClient) -> None:
    """next/invite are read by script from the URL, never templated into HTML (no reflected XSS)."""
    payload = "<script>alert(1)</script>"
    assert payload not in client.get("/auth/login", params={"next": payload}).text
    assert payload not in client.get("/auth/enroll", params={"invite": payload}).text


def test_enroll_page(client: TestClient) -> None:
    """The enrollment page has an optional label field and the create button."""
    html = client.get("/auth/enroll?invite=valid-invite").text
    assert 'id="label"' in html
    assert "Create a passkey" in html


def test_enroll_page_names_the_account_without_using_the_link(
    client: TestClient, fake_service: FakeAuthService
) -> None:
    """Opening the page looks the invite up (never the registration options, which would start the
    ceremony) and names the account, escaped."""
    html = client.get("/auth/enroll?invite=valid-invite").text
    assert "<strong>carol</strong> (Carol &lt;Ops&gt;)" in html
    assert "2030-01-02 03:04 UTC" in html
    assert fake_service.count("/v1/registration/invite") == 1
    assert fake_service.count("/v1/registration/options") == 0


@pytest.mark.parametrize("query", ["?invite=used-or-garbage", "", "?invite="])
def test_enroll_page_with_an_unusable_link_says_so_once_and_shows_no_form(
    client: TestClient, query: str
) -> None:
    """A used, revoked, expired, garbage or missing invite: one sentence with the next step, no form."""
    html = client.get(f"/auth/enroll{query}").text
    assert 'id="enroll-form"' not in html
    assert html.count('id="invite-problem"') == 1
    assert "Ask an administrator for a new invite." in html or "Open the full link you were sent." in html


def test_enroll_page_when_the_service_is_down_still_offers_the_form(
    client: TestClient, fake_service: FakeAuthService
) -> None:
    """The check is a courtesy: when the service cannot answer, the page says so and the form stays
    (the ceremony itself is refused by the service if the link is bad)."""
    fake_service.up = False
    html = client.get("/auth/enroll?invite=valid-invite").text
    assert 'id="enroll-form"' in html
    assert "could not be checked" in html


@pytest.mark.parametrize("asset", ["common.js", "login.js", "enroll.js", "webauthn.css", "pin_32.png"])
def test_static_assets_are_served(client: TestClient, asset: str) -> None:
    """Page assets ship inside the package and are served under /auth/static/."""
    assert client.get(f"/auth/static/{asset}").status_code == 200
