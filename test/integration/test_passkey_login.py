"""A full passkey sign-in through the manager's routes on AIRFLOW's origin, with a software authenticator.

Invite (service CLI) → /auth/webauthn/registration/options|verify
→ /auth/webauthn/authentication/options|verify
→ Airflow's own httponly ``_token`` cookie. The browser never talks to the auth service.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from support import jwt_forge as forge
from support.soft_authenticator import SoftAuthenticator
from support.stack import RECHECK_INTERVAL_SECONDS, Stack
from support.waiting import wait_until, wait_until_rechecked

OPTIONS_REG = "/auth/webauthn/registration/options"
VERIFY_REG = "/auth/webauthn/registration/verify"
OPTIONS_AUTH = "/auth/webauthn/authentication/options"
VERIFY_AUTH = "/auth/webauthn/authentication/verify"


@dataclass
class Cookie:
    value: str
    attributes: dict[str, str | bool]


def session_cookie(response: httpx.Response) -> Cookie | None:
    """The ``_token`` Set-Cookie of a response, with lower-cased attributes (flags map to True)."""
    for header in response.headers.get_list("set-cookie"):
        name_value, *attrs = (part.strip() for part in header.split(";"))
        name, _, value = name_value.partition("=")
        if name == "_token":
            parsed: dict[str, str | bool] = {}
            for attr in attrs:
                key, sep, val = attr.partition("=")
                parsed[key.lower()] = val if sep else True
            return Cookie(value=value.strip('"'), attributes=parsed)
    return None


def enroll(client: httpx.Client, stack: Stack, username: str, authenticator: SoftAuthenticator) -> None:
    invite = stack.invites[username]
    options = client.post(OPTIONS_REG, json={"inviteToken": invite["token"]})
    assert options.status_code == 200, options.text
    assert options.json()["rp"]["id"] == "localhost"
    credential = authenticator.create(options.json(), origin=stack.origin)
    verified = client.post(VERIFY_REG, json={"response": credential, "label": "soft authenticator"})
    assert verified.status_code == 201, verified.text


def sign_in(
    client: httpx.Client,
    stack: Stack,
    authenticator: SoftAuthenticator,
    *,
    username: str | None = None,
    next_url: str | None = None,
    origin: str | None = None,
) -> httpx.Response:
    options = client.post(OPTIONS_AUTH, json={"username": username} if username else {})
    assert options.status_code == 200, options.text
    assertion = authenticator.get(options.json(), origin=origin or stack.origin)
    body: dict[str, Any] = {"response": assertion}
    if next_url is not None:
        body["next"] = next_url
    return client.post(VERIFY_AUTH, json=body)


def with_cookie(token: str) -> dict[str, str]:
    return {"Cookie": f"_token={token}"}


@pytest.fixture(scope="module")
def alice(stack: Stack) -> SoftAuthenticator:
    """alice (it-users → USER) enrolled from her invite with an Ed25519 passkey."""
    authenticator = SoftAuthenticator(alg="EdDSA")
    with httpx.Client(base_url=stack.origin, timeout=30) as client:
        enroll(client, stack, "alice", authenticator)
    return authenticator


def test_passkey_sign_in_sets_only_airflows_httponly_cookie(
    airflow: httpx.Client, stack: Stack, alice: SoftAuthenticator
) -> None:
    """A passkey login answers a same-origin redirect and an httponly SameSite=Lax ``_token`` cookie holding
    AIRFLOW's token; the service JWT appears nowhere in what the browser receives."""
    response = sign_in(airflow, stack, alice, username="alice", next_url="/dags?tags=x")
    assert response.status_code == 200, response.text
    assert response.json() == {"redirect": "/dags?tags=x"}
    assert "access_token" not in response.text
    assert "eyJ" not in response.text
    assert response.headers["cache-control"] == "no-store"

    cookie = session_cookie(response)
    assert cookie is not None, response.headers
    assert cookie.attributes.get("httponly") is True
    assert str(cookie.attributes.get("samesite", "")).lower() == "lax"
    assert cookie.attributes.get("path") == "/"
    assert "secure" not in cookie.attributes  # plain http on localhost; Secure is set on https
    header, claims, _ = forge.parts(cookie.value)
    assert header.get("typ") != "at+jwt"  # Airflow-minted, not the service's access token
    assert claims.get("iss") != stack.service.url
    assert claims["role"] == "USER"
    assert claims["username"] == "alice"

    me = airflow.get("/ui/auth/me", headers=with_cookie(cookie.value))
    assert me.status_code == 200, me.text
    assert me.json() == {"id": claims["sub"], "username": "alice"}
    assert airflow.get("/api/v2/dags", headers=with_cookie(cookie.value)).status_code == 200
    # USER: Dags yes, variables no.
    assert airflow.get("/api/v2/variables", headers=with_cookie(cookie.value)).status_code == 403


def test_usernameless_sign_in(airflow: httpx.Client, stack: Stack, alice: SoftAuthenticator) -> None:
    """A discoverable-credential ceremony (no username typed) signs the right person in."""
    response = sign_in(airflow, stack, alice)
    assert response.status_code == 200, response.text
    cookie = session_cookie(response)
    assert cookie is not None
    assert airflow.get("/ui/auth/me", headers=with_cookie(cookie.value)).json()["username"] == "alice"


@pytest.mark.parametrize(
    ("next_url", "expected"),
    [
        ("/dags/example?tab=runs", "/dags/example?tab=runs"),
        ("{origin}/dags", "{origin}/dags"),
        (None, "/"),
        ("//evil.example", "/"),
        ("https://evil.example/x", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("http://localhost:1/x", "/"),
        ("http://user@{host}/x", "/"),
    ],
)
def test_next_is_only_followed_on_this_origin(
    airflow: httpx.Client, stack: Stack, alice: SoftAuthenticator, next_url: str | None, expected: str
) -> None:
    """``next`` is followed only when it stays on Airflow's origin; anything else becomes ``/`` (no open
    redirect after a successful login)."""
    host = stack.origin.split("://", 1)[1]
    fill = {"origin": stack.origin, "host": host}
    response = sign_in(
        airflow, stack, alice, username="alice", next_url=next_url.format(**fill) if next_url else None
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"redirect": expected.format(**fill)}
    assert session_cookie(response) is not None


def test_assertion_for_another_origin_is_refused(
    airflow: httpx.Client, stack: Stack, alice: SoftAuthenticator
) -> None:
    """An assertion the authenticator made for a phishing origin is refused (4xx) and sets no cookie."""
    response = sign_in(airflow, stack, alice, username="alice", origin="http://localhost.evil.example")
    assert 400 <= response.status_code < 500, response.text
    assert session_cookie(response) is None


def test_user_without_mapped_group_gets_no_session(airflow: httpx.Client, stack: Stack) -> None:
    """A valid passkey of a person whose groups map to no Airflow role gives 403 and no cookie."""
    authenticator = SoftAuthenticator(alg="ES256")
    enroll(airflow, stack, "nora", authenticator)
    response = sign_in(airflow, stack, authenticator, username="nora")
    assert response.status_code == 403, response.text
    assert response.json()["error"] == "no_role"
    assert session_cookie(response) is None
    assert "eyJ" not in response.text


def test_airflow_minted_api_token_from_a_passkey_session(
    airflow: httpx.Client, stack: Stack, alice: SoftAuthenticator
) -> None:
    """Airflow's own token flow keeps working: the signed-in person gets an API token from
    POST /ui/auth/token (generate_jwt) and it authenticates as the same user with the same role."""
    cookie = session_cookie(sign_in(airflow, stack, alice, username="alice"))
    assert cookie is not None
    minted = airflow.post("/ui/auth/token", json={}, headers=with_cookie(cookie.value))
    assert minted.status_code in {200, 201}, minted.text
    token = minted.json()["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    me = airflow.get("/ui/auth/me", headers=bearer)
    assert me.status_code == 200
    assert me.json()["username"] == "alice"
    assert airflow.get("/api/v2/dags", headers=bearer).status_code == 200
    assert airflow.get("/api/v2/variables", headers=bearer).status_code == 403


def test_logout_revokes_the_session_token(
    airflow: httpx.Client, stack: Stack, alice: SoftAuthenticator
) -> None:
    """After /api/v2/auth/logout the old cookie value is refused even if replayed (revoked jti)."""
    cookie = session_cookie(sign_in(airflow, stack, alice, username="alice"))
    assert cookie is not None
    assert airflow.get("/ui/auth/me", headers=with_cookie(cookie.value)).status_code == 200
    logout = airflow.get("/api/v2/auth/logout", headers=with_cookie(cookie.value))
    assert logout.status_code in {302, 303, 307}, logout.text
    replay = airflow.get("/ui/auth/me", headers=with_cookie(cookie.value))
    assert replay.status_code in {401, 403}, replay.text


def test_disabling_the_user_ends_the_session_within_the_recheck_interval(
    airflow: httpx.Client, stack: Stack
) -> None:
    """``users disable`` in the service ends a live browser session (401, cookie cleared) within
    recheck_interval_seconds, and the person cannot sign in again."""
    authenticator = SoftAuthenticator(alg="EdDSA")
    enroll(airflow, stack, "dave", authenticator)
    cookie = session_cookie(sign_in(airflow, stack, authenticator, username="dave"))
    assert cookie is not None
    headers = with_cookie(cookie.value)

    def me() -> httpx.Response:
        return airflow.get("/ui/auth/me", headers=headers)

    # Re-checked with the service since the sign-in (which confirmed it), and still good.
    rechecked = wait_until_rechecked(
        stack, cookie.value, lambda: me().status_code, within=RECHECK_INTERVAL_SECONDS + 5
    )
    assert rechecked == 200

    stack.service.cli("users", "disable", "dave")
    response, ended_after = wait_until(
        me, lambda answer: answer.status_code == 401, within=RECHECK_INTERVAL_SECONDS + 5, every=0.1
    )
    assert response.status_code == 401, response.text
    assert ended_after <= RECHECK_INTERVAL_SECONDS + 1, f"session ended only after {ended_after:.1f}s"
    cleared = session_cookie(response)
    assert cleared is not None
    assert cleared.value == ""
    assert cleared.attributes.get("max-age") == "0"
    # Still refused afterwards (the rejection is cached), and on the API too.
    assert airflow.get("/api/v2/dags", headers=headers).status_code == 401

    options = airflow.post(OPTIONS_AUTH, json={"username": "dave"})
    if options.status_code == 200:  # decoy options are allowed; the assertion must still fail
        response = airflow.post(
            VERIFY_AUTH, json={"response": authenticator.get(options.json(), origin=stack.origin)}
        )
    else:
        response = options
    assert 400 <= response.status_code < 500, response.text
    assert session_cookie(response) is None
