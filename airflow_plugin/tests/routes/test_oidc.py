"""Sign-in through an OpenID provider, Airflow's side: the relay, the cookies, the login page's messages.

The service is the in-memory fake answering what the real one answers on ``/v1/oidc/*`` (the real pair is
exercised in test/integration/test_oidc_login.py).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

import pytest

from airflow_webauthn.services.errors import refusal_from
from airflow_webauthn.services.oidc import (
    FLOW_COOKIE,
    NEXT_COOKIE,
    OIDC_ERROR_MESSAGES,
    PENDING_COOKIE,
    login_error_code,
    login_error_message,
)

from support import JSON_HEADERS, ROLE_MAPPING, FakeAuthService, mint, user_claims

if TYPE_CHECKING:
    import httpx
    from fastapi.testclient import TestClient

BINDING = "b" * 43
PENDING = "p" * 43


def login_error(response: httpx.Response) -> str | None:
    assert response.status_code == 303, response.text
    location = urlsplit(response.headers["location"])
    assert location.path == "/auth/login"
    return parse_qs(location.query).get("oidc_error", [None])[0]


def session_cookie_set(response: httpx.Response) -> bool:
    return any(
        h.startswith("_token=") and not h.startswith('_token="";')
        for h in response.headers.get_list("set-cookie")
    )


@pytest.fixture
def provider_configured(fake_service: FakeAuthService) -> None:
    fake_service.reply("GET", "/v1/oidc", 200, {"enabled": True, "displayName": "Okta"})


def test_login_page_offers_the_provider_only_when_the_service_says_so(
    mounted: TestClient, fake_service: FakeAuthService
) -> None:
    """No button when the service has no provider, or cannot be asked; the button when it has one."""
    assert "oidc-sign-in" not in mounted.get("/auth/login").text  # the fake answers 404 on /v1/oidc
    fake_service.reply("GET", "/v1/oidc", 200, {"enabled": False})
    assert "oidc-sign-in" not in mounted.get("/auth/login").text
    fake_service.up = False
    assert mounted.get("/auth/login").status_code == 200
    fake_service.up = True
    fake_service.reply("GET", "/v1/oidc", 200, {"enabled": True, "displayName": "Okta"})
    assert "Sign in with Okta" in mounted.get("/auth/login").text


def test_login_page_shows_only_fixed_messages(mounted: TestClient) -> None:
    """``oidc_error`` selects one of the fixed messages; anything else shows nothing (no reflection)."""
    html = mounted.get("/auth/login", params={"oidc_error": "not_allowed"}).text
    assert OIDC_ERROR_MESSAGES["not_allowed"] in html
    html = mounted.get("/auth/login", params={"oidc_error": "<b>pwned</b>"}).text
    assert 'id="oidc-error"' not in html
    assert "pwned" not in html


def test_start_redirects_to_the_provider_and_keeps_the_binding_httponly(
    mounted: TestClient, fake_service: FakeAuthService, provider_configured: None
) -> None:
    fake_service.reply(
        "POST",
        "/v1/oidc/start",
        200,
        {"authorizationUrl": "https://idp.test/authorize?x=1", "binding": BINDING},
    )
    response = mounted.get("/auth/oidc/login", params={"next": "https://evil.example/"})
    assert response.status_code == 303
    assert response.headers["location"] == "https://idp.test/authorize?x=1"
    cookies = {h.split("=", 1)[0]: h for h in response.headers.get_list("set-cookie")}
    assert "httponly" in cookies[FLOW_COOKIE].lower()
    assert "samesite=lax" in cookies[FLOW_COOKIE].lower()
    # The unsafe next was replaced by the fallback before it was stored.
    assert "evil.example" not in cookies[NEXT_COOKIE]


def test_start_with_the_service_down_says_so_on_the_login_page(
    mounted: TestClient, fake_service: FakeAuthService
) -> None:
    fake_service.up = False
    assert login_error(mounted.get("/auth/oidc/login")) == "idp_unavailable"


def test_callback_without_the_flow_cookie_is_refused_without_asking_the_service(
    mounted: TestClient, fake_service: FakeAuthService
) -> None:
    assert login_error(mounted.get("/auth/oidc/callback?code=c&state=s")) == "state_invalid"
    assert fake_service.count("/v1/oidc/callback") == 0


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (400, "invalid_challenge", "state_invalid"),
        (401, "authentication_failed", "idp_refused"),
        (403, "forbidden", "not_allowed"),
        (409, "conflict", "account_conflict"),
        (401, "account_disabled", "account_disabled"),
        (400, "invalid_request", "state_invalid"),
        (429, "rate_limited", "rate_limited"),
        (503, "idp_unavailable", "idp_unavailable"),
        (403, "no_role", "no_role"),
    ],
)
def test_callback_refusals_reach_the_login_page_without_a_session(
    mounted: TestClient, fake_service: FakeAuthService, status: int, code: str, expected: str
) -> None:
    fake_service.reply(
        "POST", "/v1/oidc/callback", status, {"statusCode": status, "message": "no", "code": code}
    )
    mounted.cookies.set(FLOW_COOKIE, BINDING)
    response = mounted.get("/auth/oidc/callback?code=c&state=s")
    assert login_error(response) == expected
    assert not session_cookie_set(response)


def test_callback_relays_the_query_binding_and_role_groups_and_signs_in(
    mounted: TestClient, fake_service: FakeAuthService
) -> None:
    token = mint(fake_service.keys[0], user_claims(groups=["viewers"], amr=["fed"], passkey_id=None))
    fake_service.reply(
        "POST",
        "/v1/oidc/callback",
        200,
        {"status": "signed_in", "access_token": token, "token_type": "Bearer", "expires_in": 600},
    )
    mounted.cookies.set(FLOW_COOKIE, BINDING)
    mounted.cookies.set(NEXT_COOKIE, "/dags")
    response = mounted.get("/auth/oidc/callback?code=c&state=s")
    assert response.status_code == 303
    assert response.headers["location"] == "/dags"
    assert session_cookie_set(response)
    sent = json.loads(fake_service.last("/v1/oidc/callback").read())
    assert sent == {"query": "code=c&state=s", "binding": BINDING, "roleGroups": sorted(ROLE_MAPPING)}


def test_callback_for_a_passkey_required_person_sets_no_session(
    mounted: TestClient, fake_service: FakeAuthService
) -> None:
    fake_service.reply(
        "POST",
        "/v1/oidc/callback",
        200,
        {"status": "passkey_required", "action": "enroll", "pending": PENDING},
    )
    mounted.cookies.set(FLOW_COOKIE, BINDING)
    response = mounted.get("/auth/oidc/callback?code=c&state=s")
    assert response.headers["location"] == "/auth/oidc/passkey"
    assert not session_cookie_set(response)
    assert any(h.startswith(f"{PENDING_COOKIE}={PENDING}") for h in response.headers.get_list("set-cookie"))


def test_passkey_step_needs_the_pending_cookie_and_same_origin(
    mounted: TestClient, fake_service: FakeAuthService
) -> None:
    assert mounted.post("/auth/oidc/passkey/options", json={}, headers=JSON_HEADERS).status_code == 400
    mounted.cookies.set(PENDING_COOKIE, PENDING)
    fake_service.reply("POST", "/v1/oidc/passkey/options", 200, {"action": "confirm", "options": {}})
    assert (
        mounted.post(
            "/auth/oidc/passkey/options", json={}, headers={"Origin": "https://evil.example"}
        ).status_code
        == 403
    )
    assert (
        mounted.post("/auth/oidc/passkey/options", json={}, headers=JSON_HEADERS).json()["action"]
        == "confirm"
    )


def test_backchannel_logout_relays_the_token_and_answers_400_on_refusal(
    mounted: TestClient, fake_service: FakeAuthService
) -> None:
    assert mounted.post("/auth/oidc/backchannel-logout", data={}).status_code == 400
    fake_service.reply(
        "POST",
        "/v1/oidc/backchannel-logout",
        400,
        {"statusCode": 400, "message": "bad", "code": "invalid_request"},
    )
    assert mounted.post("/auth/oidc/backchannel-logout", data={"logout_token": "x.y.z"}).status_code == 400
    fake_service.reply("POST", "/v1/oidc/backchannel-logout", 200, {})
    assert mounted.post("/auth/oidc/backchannel-logout", data={"logout_token": "x.y.z"}).status_code == 200
    assert fake_service.last("/v1/oidc/backchannel-logout").read() == b'{"logout_token":"x.y.z"}'


# Every ErrorCode the service's federation paths can answer the callback or the start with (read from
# libs/federation and apps/auth-service/src/sign-in/federated-sign-in.ts), with the status it comes with.
FEDERATION_REFUSALS = [
    (400, "invalid_request"),
    (400, "invalid_challenge"),
    (401, "authentication_failed"),
    (401, "account_disabled"),
    (403, "forbidden"),
    (404, "not_found"),
    (409, "conflict"),
    (409, None),  # a unique-constraint race answered without a code
    (429, "rate_limited"),
]


@pytest.mark.parametrize(("status", "code"), FEDERATION_REFUSALS)
def test_every_federation_refusal_has_its_own_login_page_message(status: int, code: str | None) -> None:
    """No refusal the service can send ends in the catch-all "failed": each names what went wrong."""
    body = {"statusCode": status, "message": "<b>service text</b>", **({"code": code} if code else {})}
    page_code = login_error_code(refusal_from(status, body).error)
    assert page_code != "failed"
    message = login_error_message(page_code)
    assert message
    assert "service text" not in message  # the page's text is fixed, never the service's


def test_start_refused_because_not_configured_says_so(
    mounted: TestClient, fake_service: FakeAuthService
) -> None:
    """The service answers 404 when no provider is configured: the login page says that, not "failed"."""
    fake_service.reply(
        "POST", "/v1/oidc/start", 404, {"statusCode": 404, "message": "no", "code": "not_found"}
    )
    response = mounted.get("/auth/oidc/login")
    assert login_error(response) == "not_configured"
    assert not session_cookie_set(response)


def test_passkey_step_page_links_resolve_from_the_sub_apps_root(mounted: TestClient) -> None:
    """/auth/oidc/passkey is one folder below /auth: its <base href> must still be /auth/, or its
    stylesheet, script and API calls (all relative) would go to /auth/oidc/... and the step could not run."""
    mounted.cookies.set(PENDING_COOKIE, "p" * 43)
    page = mounted.get("/auth/oidc/passkey")
    assert page.status_code == 200
    assert '<base href="/auth/" />' in page.text
    assert mounted.get("/auth/static/oidc-passkey.js").status_code == 200
