"""Sign-in through an OpenID provider on AIRFLOW's origin, with the real service and a REAL provider.

The provider is the certified ``oidc-provider`` package (test/support/oidc-provider.mjs, its own process);
the service is restarted with ``OIDC_*`` pointing at it for this module, and restored afterwards.
Browser: ``/auth/login`` shows the button → ``/auth/oidc/login`` → the provider → ``/auth/oidc/callback``
→ Airflow's ``_token`` cookie (or the passkey step first) → the role the provider's groups map to.
"""

from __future__ import annotations

import signal
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from support.oidc_provider import Provider
from support.soft_authenticator import SoftAuthenticator
from support.stack import RECHECK_INTERVAL_SECONDS, Stack
from support.waiting import wait_for, wait_until_rechecked

if TYPE_CHECKING:
    from collections.abc import Iterator

ACCOUNTS = {
    "oviewer": {"preferred_username": "oviewer", "name": "O Viewer", "groups": ["it-viewers"]},
    "oadmin": {"preferred_username": "oadmin", "name": "O Admin", "groups": ["airflow-admins", "idp-admins"]},
    "ooutsider": {"preferred_username": "ooutsider", "name": "O Outsider", "groups": ["it-contractors"]},
    # Same username as a local person this module enrolls by invite: must never take that account over.
    "otaker": {"preferred_username": "olocal", "name": "Not O Local", "groups": ["airflow-admins"]},
    # The admin group spelled with a leading space (issue 18): the same group for every decision.
    "ospaced": {
        "preferred_username": "ospaced",
        "name": "O Spaced",
        "groups": ["it-viewers", " airflow-admins"],
    },
    # Another case is another group: neither the passkey rule nor role_mapping sees an admin in it.
    "oshouting": {
        "preferred_username": "oshouting",
        "name": "O Shout",
        "groups": ["AIRFLOW-ADMINS", "it-viewers"],
    },
    # A passkey-required group, but no group Airflow maps to a role.
    "onorole": {
        "preferred_username": "onorole",
        "name": "O No Role",
        "groups": ["idp-admins", "it-contractors"],
    },
}
OIDC_SETTINGS = (
    "OIDC_ISSUER",
    "OIDC_CLIENT_ID",
    "OIDC_CLIENT_SECRET",
    "OIDC_ALLOW_HTTP",
    "OIDC_DISPLAY_NAME",
)


@pytest.fixture(scope="module")
def provider(stack: Stack) -> Iterator[Provider]:
    # A back-channel logout URI registered with sessions required (Keycloak's default): ID tokens carry `sid`.
    # The provider posts there only when someone signs out at it; these tests post logout tokens themselves.
    op = Provider(
        f"{stack.airflow.url}/auth/oidc/callback",
        accounts=ACCOUNTS,
        backchannel_logout_uri=f"{stack.airflow.url}/auth/oidc/backchannel-logout",
    )
    stack.service.restart(
        **op.service_env(
            OIDC_DISPLAY_NAME="Test IdP", FEDERATION_PASSKEY_REQUIRED_GROUPS="idp-admins, airflow-admins"
        )
    )
    try:
        yield op
    finally:
        # Empty values are "not set" for the service: sign-in through a provider is off again.
        stack.service.restart(**dict.fromkeys(OIDC_SETTINGS, ""), FEDERATION_PASSKEY_REQUIRED_GROUPS="*")
        op.stop()


def at_provider(authorization_url: str, login_hint: str, callback_prefix: str) -> str:
    """Plays the browser at the provider (its own cookies) until it redirects back to Airflow."""
    url = f"{authorization_url}&login_hint={login_hint}"
    with httpx.Client(follow_redirects=False, timeout=30) as browser:
        for _ in range(10):
            response = browser.get(url)
            location = response.headers.get("location")
            assert location, f"provider stopped at {url}: {response.status_code} {response.text[:300]}"
            url = str(httpx.URL(url).join(location))
            if url.startswith(callback_prefix):
                return url
    raise AssertionError("too many redirects at the provider")


def sign_in_at_provider(
    airflow: httpx.Client, stack: Stack, login_hint: str, next_url: str | None = None
) -> httpx.Response:
    """/auth/oidc/login → provider → /auth/oidc/callback on Airflow; returns the callback's answer."""
    started = airflow.get("/auth/oidc/login", params={"next": next_url} if next_url else None)
    assert started.status_code == 303, started.text
    callback = at_provider(started.headers["location"], login_hint, f"{stack.airflow.url}/auth/oidc/callback")
    return airflow.get(callback.removeprefix(stack.airflow.url))


def token_cookie(response: httpx.Response) -> str | None:
    for header in response.headers.get_list("set-cookie"):
        name, _, rest = header.partition("=")
        if name == "_token" and rest.split(";")[0]:
            return rest.split(";")[0].strip('"')
    return None


def login_error(response: httpx.Response) -> str | None:
    assert response.status_code == 303, response.text
    return parse_qs(urlsplit(response.headers["location"]).query).get("oidc_error", [None])[0]


@pytest.fixture
def browser(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.airflow.url, follow_redirects=False, timeout=30) as client:
        yield client


def test_login_page_offers_the_provider(provider: Provider, browser: httpx.Client) -> None:
    """The button appears because the service says sign-in through a provider is configured."""
    page = browser.get("/auth/login", params={"next": "/dags"})
    assert page.status_code == 200
    assert "Sign in with Test IdP" in page.text
    assert 'href="oidc/login"' in page.text  # login.js adds next from the URL, never the template


def test_viewer_signs_in_with_the_provider_alone_and_lands_on_next(
    provider: Provider, browser: httpx.Client, stack: Stack
) -> None:
    """Outside FEDERATION_PASSKEY_REQUIRED_GROUPS: the provider alone, VIEWER from its groups, next kept."""
    answer = sign_in_at_provider(browser, stack, "oviewer", next_url="/dags?tags=x")
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/dags?tags=x"
    token = token_cookie(answer)
    assert token
    me = browser.get("/ui/auth/me", headers={"Cookie": f"_token={token}"})
    assert me.status_code == 200
    assert me.json()["username"] == "oviewer"  # the username (the provider's preferred_username)
    assert browser.get("/api/v2/dags", headers={"Cookie": f"_token={token}"}).status_code == 200
    assert browser.get("/api/v2/variables", headers={"Cookie": f"_token={token}"}).status_code == 403
    # Admins see where this person signs in (the provider's issuer) and when they last did.
    shown = stack.service.cli("users", "show", "oviewer")
    assert shown["idp"] == provider.issuer
    assert shown["lastIdpLoginAt"]


def test_next_to_another_site_is_not_followed(
    provider: Provider, browser: httpx.Client, stack: Stack
) -> None:
    answer = sign_in_at_provider(browser, stack, "oviewer", next_url="https://evil.example/steal")
    assert answer.status_code == 303
    assert not answer.headers["location"].startswith("https://evil.example")


def test_admin_group_needs_a_passkey_enrolled_then_confirmed(
    provider: Provider, browser: httpx.Client, stack: Stack
) -> None:
    """No session from the provider alone; first time a passkey is set up, then it is confirmed."""
    key = SoftAuthenticator()
    for expected in ("enroll", "confirm"):
        answer = sign_in_at_provider(browser, stack, "oadmin", next_url="/dags")
        assert answer.status_code == 303
        assert answer.headers["location"] == "/auth/oidc/passkey"
        assert token_cookie(answer) is None
        assert browser.get("/auth/oidc/passkey").status_code == 200
        step = browser.post("/auth/oidc/passkey/options", json={}, headers={"Origin": stack.airflow.url})
        assert step.status_code == 200, step.text
        assert step.json()["action"] == expected
        options: dict[str, Any] = step.json()["options"]
        response = (
            key.create(options, origin=stack.origin)
            if expected == "enroll"
            else key.get(options, origin=stack.origin)
        )
        done = browser.post(
            "/auth/oidc/passkey/verify",
            json={"action": expected, "response": response},
            headers={"Origin": stack.airflow.url},
        )
        assert done.status_code == 200, done.text
        assert done.json()["redirect"] == "/dags"
        token = token_cookie(done)
        assert token
        me = browser.get("/ui/auth/me", headers={"Cookie": f"_token={token}"})
        assert me.json()["username"] == "oadmin"
        assert browser.get("/api/v2/variables", headers={"Cookie": f"_token={token}"}).status_code == 200


def passkey_step(browser: httpx.Client, stack: Stack, key: SoftAuthenticator) -> str:
    """Runs the passkey step that follows a provider sign-in (enrolling ``key``); returns Airflow's token."""
    step = browser.post("/auth/oidc/passkey/options", json={}, headers={"Origin": stack.airflow.url})
    assert step.status_code == 200, step.text
    assert step.json()["action"] == "enroll"
    done = browser.post(
        "/auth/oidc/passkey/verify",
        json={"action": "enroll", "response": key.create(step.json()["options"], origin=stack.origin)},
        headers={"Origin": stack.airflow.url},
    )
    assert done.status_code == 200, done.text
    token = token_cookie(done)
    assert token
    return token


def test_admin_group_spelled_with_a_space_does_not_skip_the_passkey_step(
    provider: Provider, browser: httpx.Client, stack: Stack
) -> None:
    """Groups ["it-viewers", " airflow-admins"]: the passkey step first, then ADMIN, from one stored list."""
    answer = sign_in_at_provider(browser, stack, "ospaced")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/auth/oidc/passkey"
    assert token_cookie(answer) is None
    assert stack.service.cli("users", "show", "ospaced")["groups"] == ["airflow-admins", "it-viewers"]
    session = {"Cookie": f"_token={passkey_step(browser, stack, SoftAuthenticator())}"}
    assert browser.get("/api/v2/connections", headers=session).status_code == 200
    assert browser.get("/api/v2/config", headers=session).status_code == 200


def test_admin_group_in_another_case_is_another_group_everywhere(
    provider: Provider, browser: httpx.Client, stack: Stack
) -> None:
    """ "AIRFLOW-ADMINS" needs no passkey because it grants no admin role either: VIEWER from it-viewers."""
    token = token_cookie(sign_in_at_provider(browser, stack, "oshouting"))
    assert token
    session = {"Cookie": f"_token={token}"}
    assert browser.get("/api/v2/dags", headers=session).status_code == 200
    assert browser.get("/api/v2/connections", headers=session).status_code == 403
    assert stack.service.cli("users", "show", "oshouting")["groups"] == ["AIRFLOW-ADMINS", "it-viewers"]


def test_no_airflow_role_is_refused_before_the_passkey_step_and_leaves_nothing(
    provider: Provider, browser: httpx.Client, stack: Stack
) -> None:
    """A passkey-required person whose groups map to no Airflow role is never asked for a passkey: the
    login page says "no role", and no account (nor passkey) is left behind."""
    answer = sign_in_at_provider(browser, stack, "onorole")
    assert login_error(answer) == "no_role"
    assert token_cookie(answer) is None
    # No sign-in waits for a passkey: the pending cookie is only ever cleared (empty, expired), never set.
    pending = [h for h in answer.headers.get_list("set-cookie") if h.startswith("_webauthn_oidc_pending=")]
    assert all(h.startswith('_webauthn_oidc_pending="";') for h in pending), pending
    assert "onorole" not in {user["username"] for user in stack.service.cli("users", "list")}
    assert "no Airflow role" in browser.get(answer.headers["location"]).text


def test_cancelling_the_passkey_step_leaves_no_session(
    provider: Provider, browser: httpx.Client, stack: Stack
) -> None:
    answer = sign_in_at_provider(browser, stack, "oadmin")
    assert answer.headers["location"] == "/auth/oidc/passkey"
    cancelled = browser.get("/auth/oidc/cancel")
    assert login_error(cancelled) == "passkey_failed"
    assert token_cookie(cancelled) is None
    # The waiting sign-in's cookie is gone: the passkey step cannot be resumed without the provider.
    assert (
        browser.post("/auth/oidc/passkey/options", json={}, headers={"Origin": stack.airflow.url}).status_code
        == 400
    )


def enroll_local_person(browser: httpx.Client, stack: Stack, username: str) -> None:
    invite = stack.service.cli("invite", "create", "--username", username, "--groups", "it-users")
    options = browser.post("/auth/webauthn/registration/options", json={"inviteToken": invite["token"]})
    assert options.status_code == 200, options.text
    credential = SoftAuthenticator().create(options.json(), origin=stack.origin)
    verified = browser.post("/auth/webauthn/registration/verify", json={"response": credential})
    assert verified.status_code == 201, verified.text


def test_errors_go_to_the_login_page_with_a_fixed_message_and_no_session(
    provider: Provider, browser: httpx.Client, stack: Stack
) -> None:
    enroll_local_person(browser, stack, "olocal")
    refused = sign_in_at_provider(browser, stack, "deny")
    assert login_error(refused) == "idp_refused"
    assert token_cookie(refused) is None
    no_role = sign_in_at_provider(browser, stack, "ooutsider")
    assert login_error(no_role) == "no_role"
    assert token_cookie(no_role) is None
    taken = sign_in_at_provider(browser, stack, "otaker")
    assert login_error(taken) == "account_conflict"
    page = browser.get(refused.headers["location"])
    assert "did not sign you in" in page.text
    # A made-up code shows nothing: the page never reflects text from the request.
    assert 'id="oidc-error"' not in browser.get("/auth/login?oidc_error=%3Cscript%3E").text


def test_replayed_or_foreign_callback_is_refused(
    provider: Provider, browser: httpx.Client, stack: Stack
) -> None:
    started = browser.get("/auth/oidc/login")
    callback = at_provider(started.headers["location"], "oviewer", f"{stack.airflow.url}/auth/oidc/callback")
    path = callback.removeprefix(stack.airflow.url)
    # Another browser (no flow cookie) cannot finish it ...
    with httpx.Client(base_url=stack.airflow.url, follow_redirects=False, timeout=30) as other:
        assert login_error(other.get(path)) == "state_invalid"
    # ... and once finished, it cannot be replayed.
    assert token_cookie(browser.get(path))
    browser.cookies.set("_webauthn_oidc_flow", "A" * 43)
    assert login_error(browser.get(path)) == "state_invalid"


def test_provider_down_is_a_clear_message_and_no_session(
    provider: Provider, browser: httpx.Client, stack: Stack
) -> None:
    """The provider stops answering between the redirect and the code exchange."""
    started = browser.get("/auth/oidc/login")
    callback = at_provider(started.headers["location"], "oviewer", f"{stack.airflow.url}/auth/oidc/callback")
    provider.process.send_signal(signal.SIGSTOP)
    try:
        answer = browser.get(callback.removeprefix(stack.airflow.url))
    finally:
        provider.process.send_signal(signal.SIGCONT)
    assert login_error(answer) == "idp_unavailable"
    assert token_cookie(answer) is None
    assert "cannot be reached" in browser.get(answer.headers["location"]).text


@pytest.mark.parametrize("mode", ["", "sid-only"], ids=["by-sub", "by-sid-only"])
def test_backchannel_logout_ends_a_live_session(
    provider: Provider, browser: httpx.Client, stack: Stack, mode: str
) -> None:
    """A bad logout token changes nothing; a valid one (naming the person, or only their provider session)
    ends the session within recheck_interval_seconds."""
    token = token_cookie(sign_in_at_provider(browser, stack, "oviewer"))
    assert token
    session = {"Cookie": f"_token={token}"}
    assert browser.get("/api/v2/dags", headers=session).status_code == 200
    bad = browser.post(
        "/auth/oidc/backchannel-logout",
        data={"logout_token": provider.logout_token("oviewer", "wrong-events")},
    )
    assert bad.status_code == 400

    def dags() -> int:
        return browser.get("/api/v2/dags", headers=session).status_code

    # Re-checked with the service since the bad logout token, and still good.
    assert wait_until_rechecked(stack, token, dags, within=RECHECK_INTERVAL_SECONDS + 5) == 200
    good = browser.post(
        "/auth/oidc/backchannel-logout", data={"logout_token": provider.logout_token("oviewer", mode)}
    )
    assert good.status_code == 200, good.text
    status, waited = wait_for(dags, {401, 403}, within=30, every=0.5)
    assert status in {401, 403}, f"the session outlived the back-channel logout by {waited:.1f}s"
    # Signing in again through the provider works and brings the role back.
    again = token_cookie(sign_in_at_provider(browser, stack, "oviewer"))
    assert again
    assert browser.get("/api/v2/dags", headers={"Cookie": f"_token={again}"}).status_code == 200
