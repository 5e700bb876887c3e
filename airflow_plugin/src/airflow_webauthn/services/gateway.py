"""The one way Airflow talks to the auth service: one pooled async HTTP client, one error mapping.

Three kinds of calls, kept apart on purpose:

- **Relays** of a caller's request (the four ceremony calls, ``POST /auth/token``, a person's own
  step-up token calls): they forward the caller's address (``X-Forwarded-For``) so the service limits
  and audits the caller, not Airflow. A flood through Airflow lands in the flooder's bucket.
- **Status reads** with Airflow's own credential (``service_credentials``, scope ``sessions:read``):
  ``GET /v1/admin/users/{id}`` and ``GET /v1/admin/service-accounts`` and nothing else. They send no
  forwarded header, so the service sees (and limits) Airflow's client, never a caller's.
- **Admin calls** for the ``airflow webauthn`` CLI, with the CLI's own credential (a gateway built by
  the CLI, never the api-server's).

The client lives as long as the manager's FastAPI app (``lifespan``); outside an app (CLI, tests) it
is created on first use and closed with ``aclose``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx
import jwt

from airflow_webauthn.services.errors import (
    ServiceRefusedError,
    ServiceReply,
    ServiceUnavailableError,
    refusal_from,
)
from airflow_webauthn.services.token_verifier import JwksUnavailableError

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Mapping

    from airflow_webauthn.config import ServiceCredentials
    from airflow_webauthn.services.token_verifier import ServiceTokenVerifier

log = logging.getLogger(__name__)

# Renew the cached token of Airflow's credential this long before it expires, so a request never
# carries a token that expires in flight.
TOKEN_RENEW_MARGIN_SECONDS = 30
# Connections kept to the service; status reads are single-flight, so few are ever busy at once.
POOL_LIMITS = httpx.Limits(max_connections=20, max_keepalive_connections=10)


class CredentialsMissingError(Exception):
    """A call needed a credential (``service_credentials`` or ``cli_credentials``) that is not set."""


@dataclass(frozen=True)
class Caller:
    """Who a relayed request comes from, as Airflow sees it (never taken from the caller's headers)."""

    address: str | None
    user_agent: str | None = None

    def headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        if self.address:
            headers["X-Forwarded-For"] = self.address
        if self.user_agent:
            headers["User-Agent"] = self.user_agent[:512]
        return headers


@dataclass(frozen=True)
class VerifiedToken:
    token: str
    claims: dict[str, Any]
    expires_in: int | None


class ServiceGateway:
    def __init__(
        self,
        *,
        base_url: str,
        timeout_seconds: float,
        credentials: ServiceCredentials | None,
        credentials_setting: str = "service_credentials",
        token_verifier: ServiceTokenVerifier | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._timeout = timeout_seconds
        self._credentials = credentials
        self._credentials_setting = credentials_setting
        self._verifier = token_verifier
        self._transport = transport
        self._clock = clock
        self._client: httpx.AsyncClient | None = None
        self._token: tuple[str, float] | None = None  # (token, monotonic expiry)
        self._token_lock: asyncio.Lock | None = None
        self._token_loop: asyncio.AbstractEventLoop | None = None

    @property
    def has_credentials(self) -> bool:
        return self._credentials is not None

    # ---- lifecycle ----

    @property
    def client(self) -> httpx.AsyncClient:
        """The pooled client (created on first use when no app lifespan started it)."""
        if self._client is None or self._client.is_closed:
            self._client = httpx.AsyncClient(
                transport=self._transport, timeout=self._timeout, limits=POOL_LIMITS
            )
        return self._client

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    @asynccontextmanager
    async def lifespan(self) -> AsyncIterator[ServiceGateway]:
        """Open the pool with the app and close it (and its connections) when the app stops."""
        await self.aclose()  # a client made before the loop started belongs to no loop we run
        try:
            yield self
        finally:
            await self.aclose()

    # ---- relays (forward the caller's address) ----

    async def relay(self, path: str, body: Any, *, caller: Caller) -> ServiceReply:
        """POST ``body`` to one of the service's public endpoints; 4xx replies are returned as they are."""
        return await self._send("POST", path, json=body, headers=caller.headers())

    async def relay_get(self, path: str, *, caller: Caller) -> ServiceReply:
        """GET one of the service's public read endpoints (e.g. ``/v1/oidc``); 4xx replies as they are."""
        return await self._send("GET", path, headers=caller.headers())

    async def relay_form(
        self, path: str, form: Mapping[str, str], *, caller: Caller, authorization: str | None = None
    ) -> ServiceReply:
        """POST an OAuth form (the device flow's two endpoints) for a caller; 4xx replies as they are.

        ``authorization``: a confidential client's own HTTP Basic credentials, passed through untouched
        (the service authenticates the client; Airflow never reads the secret).
        """
        headers = caller.headers()
        if authorization:
            headers["Authorization"] = authorization
        return await self._send("POST", path, data=form, headers=headers)

    async def call_as_person(
        self,
        method: str,
        path: str,
        *,
        token: str,
        caller: Caller,
        json: Any = None,
        params: Mapping[str, str] | None = None,
    ) -> ServiceReply:
        """Call ``path`` with a signed-in person's own service token: the service checks THEIR rights."""
        if not path.startswith("/v1/"):
            raise ValueError("service paths start with /v1/")
        headers = {**caller.headers(), "Authorization": f"Bearer {token}"}
        return await self._send(method, path, json=json, params=params, headers=headers)

    async def client_credentials(self, *, client_id: str, client_secret: str, caller: Caller) -> Any:
        """A caller's client-credentials grant (``POST /auth/token``): the service's token response.

        Refusals raise ``ServiceRefusedError`` (``invalid_client`` for a wrong secret).
        """
        form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret}
        reply = _ok(await self._send("POST", "/v1/oauth/token", data=form, headers=caller.headers()))
        _access_token(reply)
        return reply.body

    # ---- status reads (Airflow's own credential, no forwarded header) ----

    async def user_status(self, user_id: str, *, command_line: str | None = None) -> dict[str, Any] | None:
        """The service's record of a user (with passkeys), or None if it no longer exists.

        ``command_line``: a command line being re-checked because it is in use; the service records
        that as its last use.
        """
        params = {"commandLine": command_line} if command_line else None
        try:
            reply = await self._as_airflow("GET", f"/v1/admin/users/{quote(user_id, safe='')}", params=params)
        except ServiceRefusedError as err:
            if err.status_code == 404:
                return None
            raise
        if not isinstance(reply, dict):
            raise ServiceUnavailableError("the auth service sent an unexpected user record")
        return reply

    async def delegation_status(self, delegation_id: str) -> dict[str, Any] | None:
        """The service's view of an agent's delegation (``state``: live, revoked, expired, ended), or
        None if it does not exist."""
        try:
            reply = await self._as_airflow("GET", f"/v1/admin/delegations/{quote(delegation_id, safe='')}")
        except ServiceRefusedError as err:
            if err.status_code == 404:
                return None
            raise
        if not isinstance(reply, dict):
            raise ServiceUnavailableError("the auth service sent an unexpected delegation record")
        return reply

    async def service_accounts(self) -> list[dict[str, Any]]:
        """The service's service accounts (``id``, ``clientId``, ``disabled``, ...; never secrets)."""
        accounts = await self._as_airflow("GET", "/v1/admin/service-accounts")
        if not isinstance(accounts, list):
            raise ServiceUnavailableError("the auth service sent an unexpected service-account list")
        return [account for account in accounts if isinstance(account, dict)]

    # ---- admin calls (the CLI's gateway, with the CLI's credential) ----

    async def admin(
        self, method: str, path: str, *, json: Any = None, params: Mapping[str, str] | None = None
    ) -> Any:
        """Call ``/v1/admin{path}``; returns parsed JSON (or text for non-JSON answers)."""
        return await self._as_airflow(method, f"/v1/admin{path}", json=json, params=params)

    # ---- tokens the service issued ----

    async def verify_service_token(self, body: Any) -> VerifiedToken:
        """Check the access token in a service answer (``{"access_token", "expires_in"?}``).

        The one place that turns "the service gave us a token" into claims: JWKS unreachable means
        unavailable; a token that does not verify means the two sides are misconfigured (502).
        """
        if self._verifier is None:
            raise RuntimeError("this gateway verifies no tokens")
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str):
            raise ServiceUnavailableError("the auth service answered without an access token")
        try:
            claims = await self._verifier.verify(token)
        except JwksUnavailableError as err:
            raise ServiceUnavailableError(str(err)) from err
        except jwt.InvalidTokenError as err:
            log.error("The auth service issued a token that does not verify: %s", err)
            raise ServiceRefusedError(
                502,
                "invalid_service_token",
                "The sign-in service returned a token Airflow could not verify. Check the issuer, "
                "audience and algorithms configured on both sides.",
            ) from err
        expires_in = body.get("expires_in")
        return VerifiedToken(
            token=token,
            claims=claims,
            expires_in=int(expires_in) if isinstance(expires_in, int | float) else None,
        )

    # ---- plumbing ----

    async def _as_airflow(
        self, method: str, path: str, *, json: Any = None, params: Mapping[str, str] | None = None
    ) -> Any:
        reply = await self._send_as_airflow(method, path, json=json, params=params)
        if reply.status_code == 401:
            # The cached token may have been revoked (key rotation, secret rotated): one fresh grant.
            self._token = None
            reply = await self._send_as_airflow(method, path, json=json, params=params)
        return _ok(reply).body

    async def _send_as_airflow(
        self, method: str, path: str, *, json: Any, params: Mapping[str, str] | None
    ) -> ServiceReply:
        headers = {"Authorization": f"Bearer {await self._airflow_token()}"}
        return await self._send(method, path, json=json, params=params, headers=headers)

    async def _airflow_token(self) -> str:
        if self._credentials is None:
            raise CredentialsMissingError(
                f"[webauthn_auth_manager] {self._credentials_setting} is not set "
                "(client_id:client_secret of a service account on the auth service)"
            )
        async with self._lock():
            now = self._clock()
            if self._token is not None and self._token[1] > now:
                return self._token[0]
            token, _scopes = await self._grant(now)
            return token

    async def airflow_scopes(self) -> frozenset[str] | None:
        """A fresh grant with the credentials (kept as the cached token): the scopes the service granted,
        or None when its answer does not say (an older service). Raises like every other call."""
        if self._credentials is None:
            raise CredentialsMissingError(f"[webauthn_auth_manager] {self._credentials_setting} is not set")
        async with self._lock():
            _token, scopes = await self._grant(self._clock())
            return scopes

    async def _grant(self, now: float) -> tuple[str, frozenset[str] | None]:
        assert self._credentials is not None
        form = {
            "grant_type": "client_credentials",
            "client_id": self._credentials.client_id,
            "client_secret": self._credentials.client_secret,
        }
        reply = _ok(await self._send("POST", "/v1/oauth/token", data=form))
        token = _access_token(reply)
        expires_in = reply.body.get("expires_in") if isinstance(reply.body, dict) else None
        lifetime = float(expires_in) if isinstance(expires_in, int | float) else 60.0
        self._token = (token, now + max(lifetime - TOKEN_RENEW_MARGIN_SECONDS, 0.0))
        scope = reply.body.get("scope") if isinstance(reply.body, dict) else None
        scopes = frozenset(scope.split()) if isinstance(scope, str) else None
        if scopes is not None and not scopes & {"sessions:read", "admin"}:
            # Every status read will be refused (sessions fail closed): say why where operators look.
            # An `admin` credential (the `airflow webauthn` CLI's) reads status too: not this mistake.
            log.error(
                "[webauthn_auth_manager] %s: client %r was granted no sessions:read scope; every session "
                "check is refused until it holds it",
                self._credentials_setting,
                self._credentials.client_id,
            )
        return token, scopes

    def _lock(self) -> asyncio.Lock:
        """One grant at a time per event loop (concurrent status reads share it)."""
        loop = asyncio.get_running_loop()
        if self._token_lock is None or self._token_loop is not loop:
            self._token_lock, self._token_loop = asyncio.Lock(), loop
        return self._token_lock

    async def _send(
        self,
        method: str,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> ServiceReply:
        """One request; transport failures, 5xx and unparseable bodies are all "unavailable"."""
        try:
            response = await self.client.request(
                method,
                f"{self._base_url}{path}",
                json=json,
                data=data,
                params=params,
                headers={"Accept": "application/json", **(headers or {})},
            )
        except httpx.HTTPError as err:
            raise ServiceUnavailableError(f"{type(err).__name__}: {err}") from err
        if response.status_code >= 500:
            raise ServiceUnavailableError(f"the auth service answered {response.status_code}")
        return ServiceReply(status_code=response.status_code, body=_body(response))


def _body(response: httpx.Response) -> Any:
    if response.status_code == 204 or not response.content:
        return None
    if response.headers.get("content-type", "").startswith("application/x-ndjson"):
        return response.text  # the audit export
    try:
        return response.json()
    except ValueError as err:
        if response.status_code >= 400:
            return None  # a proxy's error page: the status says enough
        raise ServiceUnavailableError("the auth service sent a response that is not JSON") from err


def _ok(reply: ServiceReply) -> ServiceReply:
    if reply.status_code >= 400:
        raise refusal_from(reply.status_code, reply.body)
    return reply


def _access_token(reply: ServiceReply) -> str:
    token = reply.body.get("access_token") if isinstance(reply.body, dict) else None
    if not isinstance(token, str):
        raise ServiceUnavailableError("the auth service token response has no access_token")
    return token
