"""Test doubles: real signing keys, a token minter and an in-memory auth service (httpx MockTransport)."""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from jwt.algorithms import ECAlgorithm, OKPAlgorithm

from airflow_webauthn.config import WebAuthnSettings

SERVICE_URL = "https://auth.test"
ISSUER = SERVICE_URL
AUDIENCE = "airflow"
ADMIN_CLIENT_ID = "airflow-admin-client"
ADMIN_CLIENT_SECRET = "admin-secret"
SERVICE_ACCOUNT_ID = "5a5a5a5a-0000-4000-8000-000000000002"  # "ci-bot", sub of its tokens
ADMIN_ACCOUNT_ID = "5a5a5a5a-0000-4000-8000-000000000003"  # Airflow's own admin service account
ROLE_MAPPING = {"airflow-admins": "ADMIN", "ops": "OP", "users": "USER", "viewers": "VIEWER"}


@dataclass
class SigningKey:
    kid: str
    alg: str
    private_key: Any

    def public_jwk(self) -> dict[str, Any]:
        public = self.private_key.public_key()
        algorithm = OKPAlgorithm if self.alg == "EdDSA" else ECAlgorithm
        jwk: dict[str, Any] = algorithm.to_jwk(public, as_dict=True)
        return {**jwk, "kid": self.kid, "alg": self.alg, "use": "sig"}


def ed25519_key(kid: str = "ed-1") -> SigningKey:
    return SigningKey(kid=kid, alg="EdDSA", private_key=ed25519.Ed25519PrivateKey.generate())


def p256_key(kid: str = "ec-1") -> SigningKey:
    return SigningKey(kid=kid, alg="ES256", private_key=ec.generate_private_key(ec.SECP256R1()))


# The one-time CLI code FakeAuthService accepts (for ada, once).
GOOD_CLI_CODE = "afcli_" + "g" * 32


def user_claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "7f9c2d1e-0000-4000-8000-000000000001",
        "exp": now + 600,
        "iat": now,
        "nbf": now,
        "jti": str(uuid.uuid4()),
        "client_id": "airflow-webauthn",
        "preferred_username": "ada",
        "name": "Ada Lovelace",
        "groups": ["users"],
        "auth_time": now,
        "amr": ["hwk", "user", "mfa"],
        "passkey_id": "pk-1",
    }
    claims.update(overrides)
    return claims


def service_account_claims(**overrides: Any) -> dict[str, Any]:
    claims = user_claims(
        sub=SERVICE_ACCOUNT_ID,
        client_id="ci-bot",
        preferred_username="ci-bot",
        groups=["ops"],
    )
    for name in ("name", "auth_time", "amr", "passkey_id"):
        claims.pop(name)
    claims.update(overrides)
    return claims


def mint(
    key: SigningKey,
    claims: dict[str, Any] | None = None,
    *,
    header: dict[str, Any] | None = None,
    drop: tuple[str, ...] = (),
) -> str:
    """Sign ``claims`` (default: a valid user token) as the service would; ``drop`` removes claims."""
    payload = dict(claims if claims is not None else user_claims())
    for name in drop:
        payload.pop(name, None)
    headers = {"typ": "at+jwt", "kid": key.kid, **(header or {})}
    return jwt.encode(payload, key.private_key, algorithm=key.alg, headers=headers)


def make_settings(**overrides: str) -> WebAuthnSettings:
    raw = {
        "service_url": SERVICE_URL,
        "role_mapping": json.dumps(ROLE_MAPPING),
        "service_credentials": f"{ADMIN_CLIENT_ID}:{ADMIN_CLIENT_SECRET}",
        "jwks_min_refetch_interval_seconds": "30",
    }
    raw.update(overrides)
    return WebAuthnSettings.from_values(raw)


@dataclass
class FakeAuthService:
    """Just enough of the auth service's v1 HTTP contract, in memory."""

    keys: list[SigningKey] = field(default_factory=lambda: [ed25519_key()])
    up: bool = True
    requests: list[httpx.Request] = field(default_factory=list)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    login_claims: dict[str, Any] = field(default_factory=user_claims)
    login_key: SigningKey | None = None
    token_claims: dict[str, Any] = field(default_factory=service_account_claims)
    admin_tokens_issued: int = 0
    attempts: int = 0  # every request, including those refused while "down"
    login_expires_in: int = 600
    # What the service adds to a sign-in with a passkey in its authenticator-policy grace period.
    login_policy_notice: dict[str, Any] | None = None
    # What the service grants Airflow's own credential (the real one lists the scopes in its token response).
    airflow_scopes: str | None = "sessions:read"
    cli_code_used: bool = False
    # The device-code grant's answers, one per poll: an RFC 8628 error code, or "approved" (a token for
    # ada's new command line "cli-device"); like the real service, an unknown device code is invalid_grant.
    device_answers: list[str] = field(default_factory=list)
    service_accounts: dict[str, dict[str, Any]] = field(
        default_factory=lambda: {
            account["id"]: account
            for account in (
                service_account_record(SERVICE_ACCOUNT_ID, name="ci-bot", groups=["ops"]),
                service_account_record(
                    ADMIN_ACCOUNT_ID, name="airflow", client_id=ADMIN_CLIENT_ID, groups=["airflow-admins"]
                ),
            )
        }
    )
    # Canned answers for (method, path), checked before anything else: what a test expects the proxy
    # to call, and what the service answers there.
    replies: dict[tuple[str, str], tuple[int, Any]] = field(default_factory=dict)

    def reply(self, method: str, path: str, status: int, body: Any = None) -> None:
        self.replies[(method, path)] = (status, body)

    def sent_to(self, method: str, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.method == method and r.url.path == path]

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def count(self, path: str) -> int:
        return sum(1 for request in self.requests if request.url.path == path)

    def last(self, path: str) -> httpx.Request:
        return [request for request in self.requests if request.url.path == path][-1]

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.attempts += 1
        if not self.up:
            raise httpx.ConnectError("connection refused", request=request)
        self.requests.append(request)
        path, method = request.url.path, request.method
        if (method, path) in self.replies:
            status, canned = self.replies[(method, path)]
            if isinstance(canned, str):  # not JSON (a proxy's error page, say)
                return httpx.Response(status, text=canned)
            if status >= 500 and canned is None:
                return httpx.Response(status, text="upstream failure")
            return httpx.Response(status, json=canned) if canned is not None else httpx.Response(status)
        if path == "/.well-known/jwks.json":
            return httpx.Response(200, json={"keys": [key.public_jwk() for key in self.keys]})
        if path == "/v1/oauth/token":
            return self._token(request)
        if path.startswith("/v1/admin/"):
            return self._admin(request, method, path.removeprefix("/v1/admin"))
        body = json.loads(request.content or b"{}")
        if path == "/v1/authentication/options":
            # Like the real service: any username gets options (unknown ones a stable decoy credential
            # id), so the answer never reveals which usernames exist.
            options: dict[str, Any] = {"challenge": "Y2hhbGxlbmdl", "rpId": "localhost", "timeout": 60000}
            # Like the real service under WEBAUTHN_USER_VERIFICATION=preferred: a step-up asks for UV.
            options["userVerification"] = (
                "required" if body.get("userVerification") == "required" else "preferred"
            )
            if body.get("username"):
                decoy = hashlib.sha256(str(body["username"]).lower().encode()).digest()[:16]
                options["allowCredentials"] = [
                    {"id": base64.urlsafe_b64encode(decoy).decode().rstrip("="), "type": "public-key"}
                ]
            return httpx.Response(200, json=options)
        if path == "/v1/authentication/verify":
            if body.get("response", {}).get("id") != "good-credential":
                return _error(401, "Unauthorized", "passkey not recognised", "authentication_failed")
            token = mint(self.login_key or self.keys[0], self.login_claims)
            return httpx.Response(
                200,
                json={
                    "access_token": token,
                    "token_type": "Bearer",
                    "expires_in": self.login_expires_in,
                    **(
                        {"authenticator_policy": self.login_policy_notice} if self.login_policy_notice else {}
                    ),
                },
            )
        if path == "/v1/cli/token":
            # Like the real service: the one code it issued, for its person, once.
            if (body.get("username"), body.get("code")) != ("ada", GOOD_CLI_CODE) or self.cli_code_used:
                return _error(
                    401, "Unauthorized", "this username and one-time code do not sign in", "unauthenticated"
                )
            self.cli_code_used = True
            claims = user_claims(amr=["hwk", "user", "otp"], cli_sign_in="cli-1")
            return httpx.Response(
                200,
                json={"access_token": mint(self.keys[0], claims), "token_type": "Bearer", "expires_in": 600},
            )
        if path == "/v1/registration/invite":
            if body.get("inviteToken") != "valid-invite":
                return _error(400, "Bad Request", "this invite link is invalid", "invalid_invite")
            return httpx.Response(
                200,
                json={
                    "username": "carol",
                    "displayName": "Carol <Ops>",
                    "expiresAt": "2030-01-02T03:04:05.000Z",
                    "existingAccount": False,
                },
            )
        if path == "/v1/registration/options":
            if body.get("inviteToken") != "valid-invite":
                return _error(400, "Bad Request", "invite is invalid or expired", "invalid_invite")
            return httpx.Response(200, json={"challenge": "Y2hhbGxlbmdl", "rp": {"id": "localhost"}})
        if path == "/v1/registration/verify":
            return httpx.Response(
                201, json={"credentialId": "cred", "label": body.get("label"), "createdAt": "now"}
            )
        return _error(404, "Not Found", f"no route {method} {path}")

    def _token(self, request: httpx.Request) -> httpx.Response:
        form = {key: values[0] for key, values in parse_qs(request.content.decode()).items()}
        if form.get("grant_type") == "urn:ietf:params:oauth:grant-type:device_code":
            answer = self.device_answers.pop(0) if self.device_answers else "invalid_grant"
            if answer != "approved":
                return httpx.Response(400, json={"error": answer, "error_description": f"{answer}."})
            claims = user_claims(amr=["hwk", "user"], cli_sign_in="cli-device")
            token = mint(self.keys[0], claims)
            return httpx.Response(
                200, json={"access_token": token, "token_type": "Bearer", "expires_in": 600}
            )
        if form.get("grant_type") != "client_credentials":
            return httpx.Response(400, json={"error": "unsupported_grant_type", "error_description": "nope"})
        if (form.get("client_id"), form.get("client_secret")) == (ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET):
            self.admin_tokens_issued += 1
            claims = service_account_claims(
                sub=ADMIN_ACCOUNT_ID, client_id=ADMIN_CLIENT_ID, groups=["airflow-admins"]
            )
            body = {"access_token": mint(self.keys[0], claims), "token_type": "Bearer", "expires_in": 900}
            if self.airflow_scopes is not None:
                body["scope"] = self.airflow_scopes
            return httpx.Response(200, json=body)
        if (form.get("client_id"), form.get("client_secret")) == ("ci-bot", "bot-secret"):
            token = mint(self.keys[0], self.token_claims)
            return httpx.Response(
                200, json={"access_token": token, "token_type": "Bearer", "expires_in": 900, "scope": ""}
            )
        return httpx.Response(
            401, json={"error": "invalid_client", "error_description": "client authentication failed"}
        )

    def _admin(self, request: httpx.Request, method: str, path: str) -> httpx.Response:
        if not request.headers.get("authorization", "").startswith("Bearer "):
            return _error(401, "Unauthorized", "missing bearer token", "unauthenticated")
        if method == "GET" and path == "/users":
            return httpx.Response(
                200, json=[{k: v for k, v in u.items() if k != "passkeys"} for u in self.users.values()]
            )
        if method == "GET" and path.startswith("/users/"):
            user = self.users.get(path.removeprefix("/users/"))
            return (
                httpx.Response(200, json=user)
                if user
                else _error(404, "Not Found", "no such user", "not_found")
            )
        if method == "POST" and path.endswith(("/disable", "/enable")) and path.startswith("/users/"):
            user_id = path.split("/")[2]
            if user_id not in self.users:
                return _error(404, "Not Found", "no such user", "not_found")
            self.users[user_id]["disabled"] = path.endswith("/disable")
            return httpx.Response(200, json=self.users[user_id])
        if method == "POST" and path == "/invites":
            body = json.loads(request.content)
            if not body.get("username"):
                return _error(400, "Bad Request", "username should not be empty", "invalid_request")
            return httpx.Response(
                201, json={"id": "inv-1", "token": "tok-123", "url": "", "expiresAt": "2030-01-01T00:00:00Z"}
            )
        if method == "GET" and path == "/service-accounts":
            return httpx.Response(200, json=list(self.service_accounts.values()))
        if method == "POST" and path == "/service-accounts":
            body = json.loads(request.content)
            return httpx.Response(
                201,
                json={
                    "id": "sa-2",
                    "name": body["name"],
                    "clientId": "c2",
                    "clientSecret": "s2",
                    "groups": body.get("groups", []),
                },
            )
        if method == "POST" and path.startswith("/service-accounts/") and path.endswith("/rotate-secret"):
            account = self.service_account(path.split("/")[2])
            if account is None:
                return _error(404, "Not Found", "no such service account", "not_found")
            return httpx.Response(200, json={"clientId": account["clientId"], "clientSecret": "new-secret"})
        if (
            method == "POST"
            and path.endswith(("/disable", "/enable"))
            and path.startswith("/service-accounts/")
        ):
            account = self.service_account(path.split("/")[2])
            if account is None:
                return _error(404, "Not Found", "no such service account", "not_found")
            account["disabled"] = path.endswith("/disable")
            return httpx.Response(200, json=account)
        if method == "POST" and path == "/keys/rotate":
            return httpx.Response(201, json={"kid": "ed-2", "activatesAt": "now"})
        if method == "GET" and path == "/audit/verify":
            verdict = {"ok": True, "events": 7, "broken": None, "last": {"seq": 7, "hash": "ab" * 32}}
            return httpx.Response(200, json=verdict)
        if method == "GET" and path == "/audit/export":
            lines = [
                json.dumps({"type": "login", "params": dict(request.url.params)}),
                json.dumps({"type": "enroll"}),
            ]
            return httpx.Response(
                200, text="\n".join(lines) + "\n", headers={"content-type": "application/x-ndjson"}
            )
        return _error(404, "Not Found", f"no route {method} {path}")

    def service_account(self, id_or_name: str) -> dict[str, Any] | None:
        """Resolve like the service: account id, client id or name."""
        return next(
            (
                account
                for account in self.service_accounts.values()
                if id_or_name in (account["id"], account["clientId"], account["name"])
            ),
            None,
        )

    def add_service_account(self, account_id: str, **fields: Any) -> dict[str, Any]:
        account = service_account_record(account_id, **fields)
        self.service_accounts[account_id] = account
        return account

    def add_user(self, user_id: str, **fields: Any) -> dict[str, Any]:
        user = {
            "id": user_id,
            "username": fields.pop("username", "ada"),
            "displayName": "Ada Lovelace",
            "groups": ["users"],
            "disabled": False,
            "createdAt": "2025-01-01T00:00:00Z",
            "lastLoginAt": None,
            "idp": None,
            "lastIdpLoginAt": None,
            "sessionGeneration": 0,
            "sessionsEndedReason": None,
            "sessionsEndedAt": None,
            "passkeys": [{"id": "pk-1", "label": "laptop", "revokedAt": None, "flaggedAt": None}],
        }
        user.update(fields)
        self.users[user_id] = user
        return user


def service_account_record(
    account_id: str,
    *,
    name: str | None = None,
    client_id: str | None = None,
    groups: list[str] | None = None,
    disabled: bool = False,
) -> dict[str, Any]:
    """What ``GET /v1/admin/service-accounts`` lists for one account (the service's view)."""
    name = name or account_id
    return {
        "id": account_id,
        "name": name,
        "clientId": client_id or name,
        "groups": groups or [],
        "disabled": disabled,
        "createdBy": "cli",
        "createdAt": "2025-01-01T00:00:00.000Z",
        "secretRotatedAt": None,
        "disabledAt": "2025-02-01T00:00:00.000Z" if disabled else None,
        "sessionGeneration": 0,
        "sessionsEndedReason": None,
        "sessionsEndedAt": None,
    }


def _error(status: int, error: str, message: str, code: str | None = None) -> httpx.Response:
    """The service's error body (``libs/errors``): ``code`` only when it refused on purpose."""
    body: dict[str, Any] = {"statusCode": status, "error": error, "message": message}
    if code is not None:
        body["code"] = code
    return httpx.Response(status, json=body)


# ---- browser sessions for the passkeys and administration pages ----

PERSON_TOKEN = "person-step-up-token.for-the-service.only"  # what the step-up cookie carries in tests
ORIGIN = "http://testserver"
JSON_HEADERS = {"Origin": ORIGIN}  # what a same-origin fetch() sends along with its JSON body


def session_user(*, role: str = "USER", **overrides: Any) -> Any:
    """The Airflow user of a passkey session (same subject as ``user_claims()``)."""
    from airflow_webauthn.user import WebAuthnUser

    fields: dict[str, Any] = {
        "user_id": user_claims()["sub"],
        "username": "ada",
        "display_name": "Ada Lovelace",
        "role": role,
        "groups": ("users",),
        "passkey_id": "pk-1",
        "session_expires_at": int(time.time()) + 3600,
        "session_id": "sid-1",
    }
    fields.update(overrides)
    return WebAuthnUser(**fields)


# ---- the gateway and re-check policy the service-side unit tests share ----


def make_gateway(
    service: FakeAuthService,
    *,
    clock: Any,
    credentials: bool = True,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Any:
    """A ``ServiceGateway`` to the fake service with Airflow's credential (or none) and a test clock."""
    from airflow_webauthn.services.gateway import ServiceGateway

    settings = make_settings()
    return ServiceGateway(
        base_url=settings.service_url,
        timeout_seconds=1,
        credentials=settings.service_credentials if credentials else None,
        transport=transport or service.transport(),
        clock=clock,
    )


def make_policy(*, interval: float, grace: float, clock: Any, sleep: Any = None) -> Any:
    """A ``RecheckPolicy`` on a test clock (``sleep`` advances it instead of waiting, when given)."""
    import asyncio

    from airflow_webauthn.services.confirmations import RecheckPolicy, ServiceHealth

    return RecheckPolicy(
        interval_seconds=interval,
        grace_seconds=grace,
        health=ServiceHealth(interval_seconds=interval, clock=clock),
        clock=clock,
        sleep=sleep or asyncio.sleep,
    )


def gated_transport(service: FakeAuthService, path: str) -> tuple[httpx.MockTransport, Any, Any]:
    """A transport whose answers on ``path`` wait for ``release``; ``fetching`` is set once one waits.

    Returns ``(transport, fetching, release)`` (asyncio events of the running loop).
    """
    import asyncio

    fetching, release = asyncio.Event(), asyncio.Event()

    async def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == path:
            fetching.set()
            await asyncio.wait_for(release.wait(), 10)
        return service.handle(request)

    return httpx.MockTransport(handle), fetching, release


def service_command_line(**overrides: Any) -> dict[str, Any]:
    """A command line as the service lists it, with a field (``codeHash``) that must never reach a page."""
    line: dict[str, Any] = {
        "id": "cli-1",
        "state": "signed_in",
        "createdAt": "2026-01-01T00:00:00.000Z",
        "expiresAt": "2026-01-01T00:05:00.000Z",
        "usedAt": "2026-01-01T00:01:00.000Z",
        "lastUsedAt": "2026-01-02T00:00:00.000Z",
        "revokedAt": None,
        "createdFrom": "198.51.100.7",
        "usedFrom": "198.51.100.8",
        "client": "airflowctl/0.1.5",
        "codeHash": "must-not-reach-the-page",
    }
    return {**line, **overrides}


def assert_step_up_required(response: Any, service: FakeAuthService) -> None:
    """The call was refused for want of a fresh passkey confirmation (401 ``step_up_required``, with words
    for the page), and nothing was asked of the service."""
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "step_up_required"
    assert response.json()["detail"]
    assert service.requests == []


def service_delegation(**overrides: Any) -> dict[str, Any]:
    """A delegation as the service's DelegationView has it (``userId`` and ``revokedReason`` stay off the pages)."""
    delegation: dict[str, Any] = {
        "id": "d-1",
        "state": "live",
        "endedBecause": None,
        "userId": "u-1",
        "username": "alice",
        "agentId": "a-1",
        "agentName": "copilot",
        "agentClientId": "sa_copilot",
        "scope": "dag:trigger:id=finance_*",
        "parentId": None,
        "depth": 1,
        "createdAt": "2026-01-01T00:00:00.000Z",
        "expiresAt": "2026-01-31T00:00:00.000Z",
        "revokedAt": None,
        "revokedReason": None,
    }
    return {**delegation, **overrides}
