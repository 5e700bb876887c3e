"""Airflow's ``POST /auth/token`` on a real api-server: the OAuth form body next to JSON.

The form (what ``curl -u id:secret -d grant_type=client_credentials`` sends) is something any web page can
post cross-site, with the visitor's cookies attached. Accepting it is safe only because the route uses no
ambient authority; these tests hold it to that: a session cookie alone earns nothing.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

    from support.stack import Stack

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _basic(account: dict[str, Any]) -> dict[str, str]:
    pair = f"{account['clientId']}:{account['clientSecret']}".encode()
    return {"Authorization": f"Basic {base64.b64encode(pair).decode()}"}


def _works_as_bearer(airflow: httpx.Client, token: str) -> bool:
    return airflow.get("/api/v2/dags", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_form_body_with_http_basic_issues_a_usable_token(airflow: httpx.Client, stack: Stack) -> None:
    """``curl -u id:secret -d grant_type=client_credentials``: 201 {access_token}, accepted by the API."""
    response = airflow.post(
        "/auth/token",
        content="grant_type=client_credentials",
        headers={**FORM, **_basic(stack.accounts["viewer"])},
    )
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    assert _works_as_bearer(airflow, response.json()["access_token"])


def test_form_body_with_client_fields_issues_a_usable_token(airflow: httpx.Client, stack: Stack) -> None:
    """client_id and client_secret as form fields work the same (RFC 6749 §2.3.1)."""
    account = stack.accounts["viewer"]
    response = airflow.post(
        "/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": account["clientId"],
            "client_secret": account["clientSecret"],
        },
    )
    assert response.status_code == 201, response.text
    assert _works_as_bearer(airflow, response.json()["access_token"])


def test_wrong_basic_secret_is_rfc6749_invalid_client(airflow: httpx.Client, stack: Stack) -> None:
    """A wrong secret: 401 {error: invalid_client, error_description} with a Basic challenge, no token."""
    account = {**stack.accounts["viewer"], "clientSecret": "x" * 43}
    response = airflow.post(
        "/auth/token", content="grant_type=client_credentials", headers={**FORM, **_basic(account)}
    )
    assert response.status_code == 401
    body = response.json()
    assert body["error"] == "invalid_client"
    assert body["error_description"]
    assert response.headers["www-authenticate"].startswith("Basic")
    assert "access_token" not in body


def test_other_grant_types_are_unsupported(airflow: httpx.Client) -> None:
    """A password grant (SimpleAuthManager's habit) is 400 unsupported_grant_type, never forwarded as such."""
    response = airflow.post(
        "/auth/token", data={"grant_type": "password", "username": "admin", "password": "x"}
    )
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


def test_a_session_cookie_alone_earns_no_token(
    airflow: httpx.Client, stack: Stack, service_token: Any
) -> None:
    """A form post that carries only a valid Airflow session cookie (what a cross-site form would ride on)
    gets 400 invalid_request and no token: the route never uses the cookie."""
    minted = airflow.post(
        "/ui/auth/token", json={}, headers={"Authorization": f"Bearer {service_token('admin')}"}
    )
    assert minted.status_code in {200, 201}, minted.text
    session = minted.json()["access_token"]
    airflow.cookies.set("_token", session)
    assert airflow.get("/ui/auth/me").status_code == 200  # the cookie is a working session

    for body in ("grant_type=client_credentials", ""):
        response = airflow.post("/auth/token", content=body, headers=FORM)
        assert response.status_code == 400, response.text
        assert response.json()["error"] == "invalid_request"
        assert "access_token" not in response.text


def test_a_cross_site_form_post_is_refused(airflow: httpx.Client, stack: Stack) -> None:
    """The browser rule is unchanged: a form posted from another site (its Origin) is 403 csrf_rejected,
    even with valid credentials in it."""
    account = stack.accounts["viewer"]
    response = airflow.post(
        "/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": account["clientId"],
            "client_secret": account["clientSecret"],
        },
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403
    assert response.json()["error"] == "csrf_rejected"
    assert "access_token" not in response.text
