"""The login page is served by the manager on Airflow's origin, with its assets (vendored SimpleWebAuthn)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx

    from support.stack import Stack


def test_login_page_offers_passkey_autofill(airflow: httpx.Client) -> None:
    """/auth/login is a page that cannot be framed or cached and offers passkey autofill on the username."""
    response = airflow.get("/auth/login")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert 'autocomplete="username webauthn"' in response.text
    assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"


def test_page_scripts_are_served_including_the_vendored_bundle(airflow: httpx.Client) -> None:
    """Every script the page loads is served (200, JavaScript) from Airflow itself, including the
    SimpleWebAuthn browser bundle that `npm run build` copies into the plugin's static/vendor."""
    page = airflow.get("/auth/login").text
    base = re.search(r'<base href="([^"]+)"', page)
    assert base is not None
    assert base.group(1) == "/auth/"
    scripts = re.findall(r'<script[^>]+src="([^"]+)"', page)
    assert "static/vendor/simplewebauthn-browser.umd.min.js" in scripts
    for src in scripts:
        assert not src.startswith(("http:", "https:", "//")), f"script from another origin: {src}"
        response = airflow.get(base.group(1) + src)
        assert response.status_code == 200, src
        assert "javascript" in response.headers["content-type"], (src, response.headers["content-type"])
    bundle = airflow.get("/auth/static/vendor/simplewebauthn-browser.umd.min.js").text
    assert "startAuthentication" in bundle
    assert "startRegistration" in bundle


def test_ui_login_redirects_to_the_passkey_page(airflow: httpx.Client) -> None:
    """Airflow's own /api/v2/auth/login sends the browser to the manager's page, keeping a safe ``next``."""
    response = airflow.get("/api/v2/auth/login", params={"next": "/dags"})
    assert response.status_code in {302, 303, 307}
    assert response.headers["location"].startswith("/auth/login")


def test_enroll_page_is_served(airflow: httpx.Client, stack: Stack) -> None:
    """The enrollment page that invite links point to (/auth/enroll?invite=...) is served by Airflow."""
    url = stack.invites["alice"]["url"]
    assert url.startswith(f"{stack.origin}/auth/enroll?invite=")
    response = airflow.get("/auth/enroll")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
