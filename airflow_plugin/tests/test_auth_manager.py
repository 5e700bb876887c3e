"""WebAuthnAuthManager: which tokens become which users, and how sessions end."""

from __future__ import annotations

import time

import jwt
import pytest
from airflow.api_fastapi.auth.managers.exceptions import AuthManagerRefreshTokenExpiredException

from airflow_webauthn.auth_manager import SessionEndedError, WebAuthnAuthManager
from airflow_webauthn.user import WebAuthnUser

from support import (
    SERVICE_ACCOUNT_ID,
    FakeAuthService,
    ed25519_key,
    make_settings,
    mint,
    service_account_claims,
    user_claims,
)

pytestmark = pytest.mark.anyio


async def test_service_user_token_becomes_a_user(
    manager: WebAuthnAuthManager, fake_service: FakeAuthService
) -> None:
    """A genuine service token for a person yields that person with the role of their groups."""
    fake_service.add_user(user_claims()["sub"], groups=["users", "ops"])
    user = await manager.get_user_from_token(mint(fake_service.keys[0], user_claims(groups=["users", "ops"])))
    assert (user.get_id(), user.username, user.display_name, user.role) == (
        user_claims()["sub"],
        "ada",
        "Ada Lovelace",
        "OP",
    )
    assert user.get_name() == "ada"  # what Airflow shows in its user menu and records, not the display name
    assert not user.is_service_account
    assert user.passkey_id == "pk-1"


async def test_service_account_token_is_marked_as_service_account(
    manager: WebAuthnAuthManager, fake_service: FakeAuthService
) -> None:
    """Client-credentials tokens (client_id, no passkey) become service-account users."""
    user = await manager.get_user_from_token(mint(fake_service.keys[0], service_account_claims()))
    assert user.is_service_account
    assert user.username == "ci-bot"
    assert user.role == "OP"


async def test_disabled_service_account_token_is_refused(
    fake_service: FakeAuthService, no_revocations: None
) -> None:
    """A still-valid token of a service account disabled on the service is refused with a 401 saying
    why, not accepted until it expires."""
    transport = fake_service.transport()
    manager = WebAuthnAuthManager(
        settings=make_settings(recheck_interval_seconds="0"),  # re-checked on every request
        service_transport=transport,
    )
    token = mint(fake_service.keys[0], service_account_claims())
    await manager.get_user_from_token(token)
    fake_service.service_accounts[SERVICE_ACCOUNT_ID]["disabled"] = True
    with pytest.raises(SessionEndedError, match="the service account is disabled") as ended:
        await manager.get_user_from_token(token)
    assert ended.value.status_code == 401


async def test_person_tokens_do_not_list_service_accounts(
    manager: WebAuthnAuthManager, fake_service: FakeAuthService
) -> None:
    """Only service-account tokens are matched against the service-account list."""
    fake_service.add_user(user_claims()["sub"])
    await manager.get_user_from_token(mint(fake_service.keys[0], user_claims()))
    assert fake_service.count("/v1/admin/service-accounts") == 0


async def test_token_without_mapped_group_is_refused_with_403_error(
    manager: WebAuthnAuthManager, fake_service: FakeAuthService
) -> None:
    """Authenticated but unmapped: an InvalidTokenError (Airflow answers 403), not a user without role."""
    with pytest.raises(jwt.InvalidTokenError, match="not in any group"):
        await manager.get_user_from_token(mint(fake_service.keys[0], user_claims(groups=["nobody"])))


DELEGATION_ID = "d-1"
DELEGATED = {
    "client_id": "sa_copilot",
    "act": {"sub": "sa_copilot"},
    "agent_name": "copilot",
    "delegation_id": DELEGATION_ID,
    "scope": "dag:trigger:id=finance_*",
}


def delegation_record(state: str = "live", **fields: object) -> dict[str, object]:
    return {
        "id": DELEGATION_ID,
        "state": state,
        "endedBecause": None,
        "userId": user_claims()["sub"],
        "username": "ada",
        "agentClientId": "sa_copilot",
        "agentName": "copilot",
        "scope": "dag:trigger:id=finance_*",
        **fields,
    }


def delegated_token(fake_service: FakeAuthService, **overrides: object) -> str:
    return mint(fake_service.keys[0], {**user_claims(groups=["users"]), **DELEGATED, **overrides})


async def test_an_agents_delegated_token_is_the_person_narrowed(
    manager: WebAuthnAuthManager, fake_service: FakeAuthService
) -> None:
    """A genuine delegated token (RFC 8693 act) is the person, acted on by the agent: named for both in
    Airflow's records, never a service account, and its delegation is asked about on the service."""
    fake_service.add_user(user_claims()["sub"], groups=["users"])
    fake_service.reply("GET", f"/v1/admin/delegations/{DELEGATION_ID}", 200, delegation_record())
    user = await manager.get_user_from_token(delegated_token(fake_service))
    assert (user.get_id(), user.role, user.is_service_account) == (user_claims()["sub"], "USER", False)
    assert (user.delegation_id, user.agent_client_id, user.delegated_scope) == (
        DELEGATION_ID,
        "sa_copilot",
        "dag:trigger:id=finance_*",
    )
    assert user.get_name() == "copilot (for ada)"
    assert fake_service.count(f"/v1/admin/delegations/{DELEGATION_ID}") == 1
    assert WebAuthnUser.from_claims(user.to_claims()) == user  # survives Airflow's own JWT unchanged


@pytest.mark.parametrize(
    "malformed",
    [
        {"delegation_id": None},
        {"act": {"sub": ""}},
        {"act": "sa_copilot"},
        {"scope": "dag:read:id=x connections:read"},
        {"scope": None},
    ],
)
async def test_a_malformed_delegated_token_is_refused(
    manager: WebAuthnAuthManager, fake_service: FakeAuthService, malformed: dict[str, object]
) -> None:
    """Missing the agent, the delegation or a valid scope: refused, never read as the person's own token."""
    fake_service.add_user(user_claims()["sub"], groups=["users"])
    claims = {**user_claims(groups=["users"]), **DELEGATED, **malformed}
    claims = {name: value for name, value in claims.items() if value is not None}
    with pytest.raises(jwt.InvalidTokenError, match="delegated"):
        await manager.get_user_from_token(mint(fake_service.keys[0], claims))


@pytest.mark.parametrize(
    ("status", "record", "reason"),
    [
        (200, delegation_record("revoked"), "delegation is revoked"),
        (200, delegation_record("expired"), "delegation is expired"),
        (200, delegation_record("ended", endedBecause="agent_disabled"), "ended .agent disabled."),
        (200, delegation_record(userId="someone-else"), "another delegation"),
        (404, {"message": "no such delegation"}, "no longer exists"),
    ],
)
async def test_an_ended_delegation_ends_the_agents_token(
    fake_service: FakeAuthService,
    no_revocations: None,
    status: int,
    record: dict[str, object],
    reason: str,
) -> None:
    """Revoked, expired, ended (person or agent disabled, passkey revoked) or unknown: a 401 saying why."""
    transport = fake_service.transport()
    manager = WebAuthnAuthManager(
        settings=make_settings(recheck_interval_seconds="0"), service_transport=transport
    )
    fake_service.add_user(user_claims()["sub"], groups=["users"])
    fake_service.reply("GET", f"/v1/admin/delegations/{DELEGATION_ID}", status, record)
    with pytest.raises(SessionEndedError, match=reason) as ended:
        await manager.get_user_from_token(delegated_token(fake_service))
    assert ended.value.status_code == 401


async def test_a_revoked_delegation_ends_a_token_that_worked(
    fake_service: FakeAuthService, no_revocations: None
) -> None:
    """The same token, accepted while live, is refused on the next re-check after the person revokes."""
    manager = WebAuthnAuthManager(
        settings=make_settings(recheck_interval_seconds="0"), service_transport=fake_service.transport()
    )
    fake_service.add_user(user_claims()["sub"], groups=["users"])
    path = f"/v1/admin/delegations/{DELEGATION_ID}"
    fake_service.reply("GET", path, 200, delegation_record())
    token = delegated_token(fake_service)
    await manager.get_user_from_token(token)
    fake_service.reply("GET", path, 200, delegation_record("revoked"))
    with pytest.raises(SessionEndedError, match="revoked"):
        await manager.get_user_from_token(token)


@pytest.mark.parametrize("bad", ["garbage", "", "a.b.c"])
async def test_garbage_is_an_invalid_token(manager: WebAuthnAuthManager, bad: str) -> None:
    """Anything unparseable falls back to Airflow's validator and raises InvalidTokenError (no 500)."""
    with pytest.raises(jwt.InvalidTokenError):
        await manager.get_user_from_token(bad)


async def test_forged_service_token_is_refused(manager: WebAuthnAuthManager) -> None:
    """A token naming our issuer but signed by a stranger is refused by the JWKS verifier."""
    with pytest.raises(jwt.InvalidTokenError):
        await manager.get_user_from_token(mint(ed25519_key()))


async def test_service_token_is_refused_when_service_is_down(
    manager: WebAuthnAuthManager, fake_service: FakeAuthService
) -> None:
    """No JWKS means no trust: InvalidTokenError (403), never a 500."""
    fake_service.up = False
    with pytest.raises(jwt.InvalidTokenError):
        await manager.get_user_from_token(mint(fake_service.keys[0]))


async def test_revoked_service_token_is_refused(
    manager: WebAuthnAuthManager, fake_service: FakeAuthService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A service token whose jti was revoked at logout is no longer accepted."""
    from airflow.models.revoked_token import RevokedToken

    monkeypatch.setattr(RevokedToken, "is_revoked", classmethod(lambda cls, jti, session=None: True))
    with pytest.raises(jwt.InvalidTokenError, match="revoked"):
        await manager.get_user_from_token(mint(fake_service.keys[0]))


def airflow_user(**overrides: object) -> WebAuthnUser:
    fields: dict[str, object] = {
        "user_id": "u-1",
        "username": "ada",
        "display_name": "Ada",
        "role": "USER",
        "groups": ("users",),
        "passkey_id": "pk-1",
        "session_expires_at": int(time.time()) + 3600,
    }
    fields.update(overrides)
    return WebAuthnUser(**fields)  # type: ignore[arg-type]


async def test_airflow_cookie_token_round_trips(
    manager: WebAuthnAuthManager, fake_service: FakeAuthService
) -> None:
    """Airflow's own session token (minted by generate_jwt) deserializes to the same user."""
    fake_service.add_user("u-1")
    user = airflow_user()
    assert await manager.get_user_from_token(manager.generate_jwt(user)) == user


async def test_session_past_its_absolute_lifetime_is_expired(manager: WebAuthnAuthManager) -> None:
    """session_ttl_seconds is absolute: a re-minted cookie cannot extend it (401, back to login)."""
    token = manager.generate_jwt(airflow_user(session_expires_at=int(time.time()) - 1))
    with pytest.raises(SessionEndedError, match="maximum length") as ended:
        await manager.get_user_from_token(token)
    assert (ended.value.status_code, ended.value.code) == (401, "lifetime")


async def test_forged_role_in_cookie_is_refused(manager: WebAuthnAuthManager) -> None:
    """An Airflow token signed with another secret (e.g. a self-made ADMIN cookie) is refused."""
    forged = jwt.encode(
        {
            **airflow_user(role="ADMIN").to_claims(),
            "exp": int(time.time()) + 60,
            "iat": 0,
            "nbf": 0,
            "aud": "apache-airflow",
        },
        "not-the-secret-but-long-enough-to-keep-pyjwt-quiet-about-key-length-0123456789",
        algorithm="HS512",
    )
    with pytest.raises(jwt.InvalidTokenError):
        await manager.get_user_from_token(forged)


async def test_refresh_rejection_ends_the_session_on_the_same_request(
    manager: WebAuthnAuthManager, fake_service: FakeAuthService
) -> None:
    """When the service says the user is disabled, refresh_user raises and the cookie token is refused."""
    fake_service.add_user("u-1", disabled=True)
    user = airflow_user()
    token = manager.generate_jwt(user)
    with pytest.raises(AuthManagerRefreshTokenExpiredException):
        manager.refresh_user(user=user)
    with pytest.raises(SessionEndedError, match="Your session ended: the account is disabled") as ended:
        await manager.get_user_from_token(token)
    # 401 with the reason in words (not Airflow's "Token Expired"), and the login page's reason cookie.
    assert ended.value.status_code == 401
    assert (ended.value.headers or {})["Set-Cookie"].startswith("webauthn_session_ended=account_disabled;")


async def test_refresh_returns_updated_user_when_role_changed(
    manager: WebAuthnAuthManager, fake_service: FakeAuthService
) -> None:
    """A group change in the service changes the Airflow role at the next re-check (Airflow calls
    get_user_from_token, then refresh_user, which re-mints the cookie with the new role)."""
    fake_service.add_user("u-1", groups=["airflow-admins"])
    await manager.get_user_from_token(manager.generate_jwt(airflow_user()))
    refreshed = manager.refresh_user(user=airflow_user())
    assert refreshed is not None
    assert refreshed.role == "ADMIN"


def test_refresh_is_a_no_op_for_service_accounts(
    manager: WebAuthnAuthManager, fake_service: FakeAuthService
) -> None:
    """Service accounts hold short-lived service tokens; they are not re-checked per request."""
    assert manager.refresh_user(user=airflow_user(is_service_account=True)) is None
    assert fake_service.attempts == 0


def test_serialized_user_keeps_the_passkey(manager: WebAuthnAuthManager) -> None:
    """The session's passkey id survives serialization, so its revocation can end the session."""
    user = airflow_user()
    assert manager.deserialize_user(manager.serialize_user(user)).passkey_id == "pk-1"


@pytest.mark.parametrize("claims", [{}, {"sub": ""}, {"sub": 5}, {"sub": "x", "groups": 3}])
def test_malformed_user_claims_raise_value_or_key_error(
    manager: WebAuthnAuthManager, claims: dict[str, object]
) -> None:
    """Airflow maps ValueError/KeyError from deserialize_user to 403; nothing else may escape."""
    with pytest.raises((ValueError, KeyError)):
        manager.deserialize_user(claims)


def test_login_url_has_no_query(manager: WebAuthnAuthManager) -> None:
    """Airflow appends ?next=... itself, so the login URL must be bare."""
    assert manager.get_url_login() == "/auth/login"
    assert manager.get_url_logout() is None


def test_cli_commands_are_offered() -> None:
    """`airflow webauthn` with its command groups is exposed: the service CLI's names, and the old
    plural names kept working; `airflow users list` too, as FAB's manager offers `airflow users`."""
    group, users = WebAuthnAuthManager.get_cli_commands()
    assert (users.name, [c.name for c in users.subcommands]) == ("users", ["list"])
    assert group.name == "webauthn"
    names = {c.name for c in group.subcommands}
    assert {"users", "invites", "service-accounts", "keys", "audit"} <= names
    assert names == {
        "users",
        "passkeys",
        "command-lines",
        "invite",
        "invites",
        "service-account",
        "service-accounts",
        "keys",
        "audit",
        "report",
        "login",
    }


def test_airflow_users_is_left_to_another_configured_auth_manager(monkeypatch: pytest.MonkeyPatch) -> None:
    """With FAB (or any other manager) configured, `airflow users` is theirs: no conflicting group."""
    monkeypatch.setenv(
        "AIRFLOW__CORE__AUTH_MANAGER", "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"
    )
    assert [group.name for group in WebAuthnAuthManager.get_cli_commands()] == ["webauthn"]


def test_provider_info_is_valid_for_airflow() -> None:
    """The provider metadata passes Airflow's own runtime schema (so the CLI and config are found)."""
    import json
    from importlib.resources import files

    import jsonschema

    from airflow_webauthn.provider_info import get_provider_info

    schema = json.loads(files("airflow").joinpath("provider_info.schema.json").read_text())
    jsonschema.validate(get_provider_info(), schema)


# ---- menu items ----


def _menu(manager: WebAuthnAuthManager, **fields: object) -> list[tuple[str, str]]:
    from support import session_user

    return [(item.text, item.href) for item in manager.get_extra_menu_items(user=session_user(**fields))]


@pytest.mark.parametrize("role", ["VIEWER", "USER", "OP", None])
def test_non_admins_get_no_security_menu_item(manager: WebAuthnAuthManager, role: str | None) -> None:
    """Airflow would label a "Passkeys" item here ``security.passkeys``: everyone's Passkeys item is the
    user-menu plugin view (menu_plugin.py), so non-admins get nothing in the Security menu."""
    assert _menu(manager, role=role) == []


def test_admins_get_the_administration_menu_item(manager: WebAuthnAuthManager) -> None:
    """ADMIN sees the administration page as "Users", a label Airflow translates (hrefs under /auth/,
    which Airflow's UI frames)."""
    assert _menu(manager, role="ADMIN") == [("Users", "/auth/admin")]


def test_service_accounts_get_no_menu(manager: WebAuthnAuthManager) -> None:
    """No menu for a service account, whatever its role."""
    assert _menu(manager, role="ADMIN", is_service_account=True) == []


def test_start_is_refused_without_service_credentials() -> None:
    """Without service_credentials nothing could be re-checked: the api-server does not start, and the
    error says what to do."""
    from airflow_webauthn.config import WebAuthnConfigError

    manager = WebAuthnAuthManager(settings=make_settings(service_credentials=""))
    with pytest.raises(WebAuthnConfigError, match="sessions:read"):
        manager.init()


def test_unchecked_sessions_start_only_when_asked_for_and_say_so_loudly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """allow_unchecked_sessions = True starts without credentials, with a warning at start."""
    import logging

    manager = WebAuthnAuthManager(
        settings=make_settings(service_credentials="", allow_unchecked_sessions="True")
    )
    with caplog.at_level(logging.WARNING):
        manager.init()
    assert "NOT RE-CHECKED" in caplog.text


async def test_a_persons_service_jwt_as_bearer_is_rechecked(
    fake_service: FakeAuthService, no_revocations: None
) -> None:
    """A person's own service JWT used on the REST API is re-checked like a browser session: disabling
    the person refuses the still-unexpired token (401), and the service's CURRENT groups set the role."""
    manager = WebAuthnAuthManager(
        settings=make_settings(recheck_interval_seconds="0", unverified_grace_seconds="0"),
        service_transport=fake_service.transport(),
    )
    fake_service.add_user(user_claims()["sub"], groups=["viewers"])
    token = mint(fake_service.keys[0], user_claims(groups=["airflow-admins"]))
    user = await manager.get_user_from_token(token)
    assert user.role == "VIEWER"  # not the ADMIN its claims still say
    fake_service.users[user_claims()["sub"]]["disabled"] = True
    with pytest.raises(SessionEndedError, match="disabled") as ended:
        await manager.get_user_from_token(token)
    assert "Set-Cookie" not in (ended.value.headers or {})  # a script's token: no login page to tell


async def test_a_persons_bearer_token_is_refused_when_unconfirmed(
    fake_service: FakeAuthService, no_revocations: None
) -> None:
    """Service unreachable and nothing confirmed: the person's Bearer token is refused, not waved on."""
    manager = WebAuthnAuthManager(settings=make_settings(), service_transport=fake_service.transport())
    token = mint(fake_service.keys[0], user_claims())
    await manager.token_verifier.verify(token)  # keys cached first: only the status read fails
    fake_service.up = False
    with pytest.raises(SessionEndedError, match="cannot reach"):
        await manager.get_user_from_token(token)


async def test_logout_revokes_a_service_token_from_airflows_worker_thread(
    manager: WebAuthnAuthManager, fake_service: FakeAuthService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Airflow's logout route is synchronous: revoke_token verifies the token on Airflow's event loop
    (the gateway's client lives there) and revokes its jti; a forged token revokes nothing."""
    import anyio.to_thread
    from airflow.models.revoked_token import RevokedToken

    revoked: list[str] = []
    monkeypatch.setattr(
        RevokedToken, "revoke", classmethod(lambda cls, jti, exp, session=None: revoked.append(jti))
    )
    claims = user_claims()
    await anyio.to_thread.run_sync(manager.revoke_token, mint(fake_service.keys[0], claims))
    await anyio.to_thread.run_sync(manager.revoke_token, mint(ed25519_key("forged"), user_claims()))
    assert revoked == [claims["jti"]]


@pytest.mark.parametrize("kind", ["passkey", "cli"])
async def test_a_delegated_token_never_signs_the_person_in(
    manager: WebAuthnAuthManager, fake_service: FakeAuthService, kind: str
) -> None:
    """Handed to the one sign-in step (browser or command line), an agent's token opens no session."""
    from airflow_webauthn.services.errors import ServiceRefusedError
    from airflow_webauthn.services.login import complete_sign_in

    body = {"access_token": delegated_token(fake_service), "expires_in": 300}
    with pytest.raises(ServiceRefusedError, match="delegated"):
        await complete_sign_in(
            body,
            kind=kind,  # type: ignore[arg-type]
            gateway=manager.gateway,
            settings=manager.settings,
            sessions=manager.sessions,
        )
