"""The api-server's start-up check of Airflow's own credential (``service_credentials``).

Airflow needs exactly the scope ``sessions:read`` (it re-checks sessions and service-account tokens with
it). Without it every session check is refused and every session fails closed, with no word at start-up;
with ``admin`` it holds far more than it needs. So at start-up the api-server asks the service for a
token with the credential and reads the scopes granted:

- refused (unknown client, wrong secret, disabled account) or no ``sessions:read``: the api-server does
  not start, with a one-line reason;
- ``admin``: a loud warning (it still starts: the sessions work);
- the service does not answer (down, 5xx, 429, timeout): a loud warning and the api-server starts. Refusing
  would make Airflow unbootable whenever the service is merely down, which is no safer: sessions fail
  closed anyway until the service confirms them, and every later grant checks the scopes again
  (``ServiceGateway`` logs an error for a token without ``sessions:read``).
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from airflow_webauthn.config import SECTION, WebAuthnConfigError
from airflow_webauthn.services.errors import ServiceRefusedError, ServiceUnavailableError

if TYPE_CHECKING:
    from airflow_webauthn.services.gateway import ServiceGateway

log = logging.getLogger(__name__)

SESSIONS_READ = "sessions:read"
ADMIN = "admin"


async def _granted_scopes(gateway: ServiceGateway) -> frozenset[str] | None:
    try:
        return await gateway.airflow_scopes()
    finally:
        await gateway.aclose()


def check_airflow_credential(gateway: ServiceGateway, *, client_id: str) -> None:
    """Raise ``WebAuthnConfigError`` (the api-server does not start) or log; ``gateway`` is a fresh one,
    closed here (the check runs on its own event loop, whether or not one is running in this thread)."""
    setting = f"[{SECTION}] service_credentials"
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="webauthn-credential-check") as pool:
        try:
            scopes = pool.submit(asyncio.run, _granted_scopes(gateway)).result()
        except ServiceUnavailableError as err:
            _cannot_check(setting, f"the auth service did not answer ({err})")
            return
        except ServiceRefusedError as err:
            if err.status_code == 429:
                _cannot_check(setting, "the auth service is rate limiting this address")
                return
            raise WebAuthnConfigError(
                f"{setting}: the auth service refused client {client_id!r} ({err.message}); check the client "
                "id and secret, and that the service account is enabled"
            ) from err
    if scopes is None:
        _cannot_check(setting, "the auth service's token response does not list the scopes granted")
        return
    if SESSIONS_READ not in scopes:
        held = " ".join(sorted(scopes)) or "none"
        raise WebAuthnConfigError(
            f"{setting}: client {client_id!r} lacks the scope {SESSIONS_READ} (it holds: {held}), so every "
            f"session check would be refused; create Airflow's account with --scopes {SESSIONS_READ}"
        )
    if ADMIN in scopes:
        log.warning(
            "%s: CLIENT %r HOLDS THE SCOPE admin, FAR MORE THAN AIRFLOW NEEDS: anyone who can read Airflow's "
            "configuration can administer the auth service. Give Airflow an account with the scope %s "
            "only, and keep admin credentials for cli_credentials.",
            setting,
            client_id,
            SESSIONS_READ,
        )
        return
    log.info("%s: client %r holds %s", setting, client_id, SESSIONS_READ)


def _cannot_check(setting: str, why: str) -> None:
    log.warning(
        "%s COULD NOT BE CHECKED AT START-UP: %s. Starting anyway; sessions are refused (fail closed) "
        "until the service confirms them, and each token grant checks the scope %s again.",
        setting,
        why,
        SESSIONS_READ,
    )
