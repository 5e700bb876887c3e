"""HTTP client for the auth service: the browser ceremony (async, from routes) and the admin API (sync).

The admin API needs a Bearer token; Airflow gets one with the client-credentials grant using
``service_credentials`` and caches it until shortly before it expires.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from airflow_webauthn.config import ServiceCredentials

log = logging.getLogger(__name__)

# Renew the cached admin token this long before it expires, so a request never carries a token that
# expires in flight.
TOKEN_RENEW_MARGIN_SECONDS = 30


class AuthServiceUnavailableError(Exception):
    """The auth service could not be reached, timed out, or failed (5xx)."""


class AuthServiceError(Exception):
    """The auth service refused the request (4xx); ``message`` is safe to show to the caller."""

    def __init__(self, *, status_code: int, error: str, message: str) -> None:
        super().__init__(f"{status_code} {error}: {message}")
        self.status_code = status_code
        self.error = error
        self.message = message


class AuthServiceNotConfiguredError(Exception):
    """An admin call was needed but ``service_credentials`` is not set."""


@dataclass(frozen=True)
class ServiceReply:
    status_code: int
    body: Any


def error_from_response(response: httpx.Response) -> AuthServiceError:
    """Map the service's error JSON (Nest ``{statusCode,error,message}`` or RFC 6749 ``{error,...}``)."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    message = body.get("message") or body.get("error_description") or response.reason_phrase
    if isinstance(message, list):  # class-validator reports a list of messages
        message = "; ".join(str(item) for item in message)
    return AuthServiceError(
        status_code=response.status_code,
        error=str(body.get("error") or "request_failed"),
        message=str(message or "request refused by the auth service"),
    )


def _check(response: httpx.Response) -> httpx.Response:
    if response.status_code >= 500:
        raise AuthServiceUnavailableError(f"auth service answered {response.status_code}")
    if response.status_code >= 400:
        raise error_from_response(response)
    return response


def _json(response: httpx.Response) -> Any:
    if response.status_code == 204 or not response.content:
        return None
    try:
        return response.json()
    except ValueError as err:
        raise AuthServiceUnavailableError("auth service sent a response that is not JSON") from err


class AuthServiceClient:
    def __init__(
        self,
        *,
        base_url: str,
        timeout_seconds: float,
        credentials: ServiceCredentials | None,
        transport: httpx.BaseTransport | None = None,
        async_transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._timeout = timeout_seconds
        self._credentials = credentials
        self._transport = transport
        self._async_transport = async_transport
        self._clock = clock
        self._sync_client: httpx.Client | None = None
        self._token_lock = threading.Lock()
        self._admin_token: tuple[str, float] | None = None  # (token, monotonic expiry)

    @property
    def has_credentials(self) -> bool:
        return self._credentials is not None

    # ---- browser ceremony and token endpoint (async, called from FastAPI routes) ----

    async def forward(
        self, path: str, body: Any, *, client_ip: str | None, user_agent: str | None
    ) -> ServiceReply:
        """POST ``body`` to the service and return its reply as is; 5xx/network → unavailable."""
        headers = {"Accept": "application/json"}
        if client_ip:
            headers["X-Forwarded-For"] = client_ip  # for the service's audit log and rate limits
        if user_agent:
            headers["User-Agent"] = user_agent
        try:
            async with httpx.AsyncClient(transport=self._async_transport, timeout=self._timeout) as client:
                response = await client.post(f"{self._base_url}{path}", json=body, headers=headers)
        except httpx.HTTPError as err:
            raise AuthServiceUnavailableError(str(err)) from err
        if response.status_code >= 500:
            raise AuthServiceUnavailableError(f"auth service answered {response.status_code}")
        return ServiceReply(status_code=response.status_code, body=_json(response))

    async def call_as_person(
        self,
        method: str,
        path: str,
        *,
        token: str,
        json: Any = None,
        params: Mapping[str, str] | None = None,
        client_ip: str | None = None,
        user_agent: str | None = None,
    ) -> ServiceReply:
        """Call ``path`` with a signed-in person's own service token (``Authorization: Bearer``).

        Used for self-service and admin actions taken in Airflow's pages, so the service checks that
        person's rights and its audit trail names them. 5xx/network/non-JSON → unavailable.
        """
        if not path.startswith("/v1/"):
            raise ValueError("service paths start with /v1/")
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        if client_ip:
            headers["X-Forwarded-For"] = client_ip
        if user_agent:
            headers["User-Agent"] = user_agent
        try:
            async with httpx.AsyncClient(transport=self._async_transport, timeout=self._timeout) as client:
                response = await client.request(
                    method, f"{self._base_url}{path}", json=json, params=params, headers=headers
                )
        except httpx.HTTPError as err:
            raise AuthServiceUnavailableError(str(err)) from err
        if response.status_code >= 500:
            raise AuthServiceUnavailableError(f"auth service answered {response.status_code}")
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = None
            return ServiceReply(status_code=response.status_code, body=body)
        return ServiceReply(status_code=response.status_code, body=_json(response))

    async def client_credentials_token(self, *, client_id: str, client_secret: str) -> dict[str, Any]:
        """Run the client-credentials grant for a caller; 4xx → AuthServiceError."""
        form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret}
        try:
            async with httpx.AsyncClient(transport=self._async_transport, timeout=self._timeout) as client:
                response = await client.post(f"{self._base_url}/v1/oauth/token", data=form)
        except httpx.HTTPError as err:
            raise AuthServiceUnavailableError(str(err)) from err
        return _token_body(_check(response))

    # ---- admin API (sync: used by refresh_user and the CLI) ----

    def admin(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, str] | None = None,
        raw: bool = False,
    ) -> Any:
        """Call ``/v1/admin{path}`` with Airflow's service token; returns parsed JSON (or text if raw)."""
        response = self._admin_send(method, path, json=json, params=params)
        if response.status_code == 401:
            # The cached token may have been revoked (e.g. key rotation); get a fresh one once.
            self._admin_token = None
            response = self._admin_send(method, path, json=json, params=params)
        _check(response)
        return response.text if raw else _json(response)

    def get_user(self, user_id: str) -> dict[str, Any] | None:
        """The service's record of a user (with passkeys), or None if it no longer exists."""
        try:
            user = self.admin("GET", f"/users/{quote(user_id, safe='')}")
        except AuthServiceError as err:
            if err.status_code == 404:
                return None
            raise
        if not isinstance(user, dict):
            raise AuthServiceUnavailableError("auth service sent an unexpected user record")
        return user

    def list_service_accounts(self) -> list[dict[str, Any]]:
        """The service's service accounts (``id``, ``clientId``, ``disabled``, ...; never secrets)."""
        accounts = self.admin("GET", "/service-accounts")
        if not isinstance(accounts, list):
            raise AuthServiceUnavailableError("auth service sent an unexpected service-account list")
        return [account for account in accounts if isinstance(account, dict)]

    def _admin_send(
        self, method: str, path: str, *, json: Any, params: Mapping[str, str] | None
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self._service_token()}", "Accept": "application/json"}
        try:
            return self._client().request(
                method, f"{self._base_url}/v1/admin{path}", json=json, params=params, headers=headers
            )
        except httpx.HTTPError as err:
            raise AuthServiceUnavailableError(str(err)) from err

    def _client(self) -> httpx.Client:
        if self._sync_client is None:
            self._sync_client = httpx.Client(transport=self._transport, timeout=self._timeout)
        return self._sync_client

    def _service_token(self) -> str:
        if self._credentials is None:
            raise AuthServiceNotConfiguredError(
                "[webauthn_auth_manager] service_credentials is not set (client_id:client_secret of a "
                "service account in the auth service's admin group)"
            )
        with self._token_lock:
            now = self._clock()
            if self._admin_token is not None and self._admin_token[1] > now:
                return self._admin_token[0]
            form = {
                "grant_type": "client_credentials",
                "client_id": self._credentials.client_id,
                "client_secret": self._credentials.client_secret,
            }
            try:
                response = self._client().post(f"{self._base_url}/v1/oauth/token", data=form)
            except httpx.HTTPError as err:
                raise AuthServiceUnavailableError(str(err)) from err
            body = _token_body(_check(response))
            lifetime = max(float(body.get("expires_in") or 60) - TOKEN_RENEW_MARGIN_SECONDS, 0.0)
            self._admin_token = (body["access_token"], now + lifetime)
            return self._admin_token[0]


def _token_body(response: httpx.Response) -> dict[str, Any]:
    body = _json(response)
    if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
        raise AuthServiceUnavailableError("auth service token response has no access_token")
    return body
