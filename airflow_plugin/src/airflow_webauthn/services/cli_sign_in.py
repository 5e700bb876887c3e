"""Signing a command line in (airflowctl's ``POST /auth/token/cli``): a person's one-time code, or a
service account's client id and secret, turned into an Airflow token with the CLI's lifetime.

The token is Airflow's own JWT (like a browser session's cookie), lasting ``[api_auth]
jwt_cli_expiration_time`` and re-checked with the service exactly like a browser session: a person's
names the command line (``cli_sign_in``), so revoking it on the Passkeys page ends it, as do disabling
the person, revoking or flagging the confirming passkey, or losing the role; a service account's is
checked against the service's list of accounts, so disabling the account ends it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_webauthn.services.errors import ServiceRefusedError, refusal_from
from airflow_webauthn.services.login import SignedIn, complete_sign_in

if TYPE_CHECKING:
    from airflow_webauthn.config import WebAuthnSettings
    from airflow_webauthn.services.gateway import Caller, ServiceGateway
    from airflow_webauthn.services.session_check import SessionChecker

# The service's one-time codes start with this (libs/cli-sign-in CLI_CODE_PREFIX): anything else in the
# password field is a service account's secret. Both are authenticated by the service either way, so
# the shape picks the path but never decides who gets in.
CLI_CODE_PREFIX = "afcli_"

REFUSED_CODE = (
    "This username and one-time code do not sign in: the code may be wrong, used, expired (codes last 5 "
    "minutes) or revoked. Create a new code on your Passkeys page in Airflow (Sign in a command line)."
)
REFUSED_CLIENT = (
    "This client id and secret do not sign in (wrong secret, or the service account is disabled)."
)


def is_cli_code(password: str) -> bool:
    return password.startswith(CLI_CODE_PREFIX)


async def sign_in_command_line(
    *,
    username: str,
    password: str,
    gateway: ServiceGateway,
    settings: WebAuthnSettings,
    sessions: SessionChecker,
    caller: Caller,
    lifetime_seconds: int,
) -> SignedIn:
    """Who the command line signs in as (the route mints Airflow's token for ``lifetime_seconds``).

    Raises ``ServiceRefusedError`` (401 for wrong credentials).
    """
    if is_cli_code(password):
        reply = await gateway.relay("/v1/cli/token", {"username": username, "code": password}, caller=caller)
        if reply.status_code == 401:
            raise ServiceRefusedError(401, "invalid_cli_code", REFUSED_CODE)
        if reply.status_code >= 400:
            raise refusal_from(reply.status_code, reply.body)
        body = reply.body
    else:
        try:
            body = await gateway.client_credentials(client_id=username, client_secret=password, caller=caller)
        except ServiceRefusedError as err:
            if err.status_code == 401:
                raise ServiceRefusedError(401, "invalid_client", REFUSED_CLIENT) from err
            raise
    return await command_line_sign_in(
        body,
        gateway=gateway,
        settings=settings,
        sessions=sessions,
        lifetime_seconds=lifetime_seconds,
        names_command_line=is_cli_code(password),
    )


async def command_line_sign_in(
    body: object,
    *,
    gateway: ServiceGateway,
    settings: WebAuthnSettings,
    sessions: SessionChecker,
    lifetime_seconds: int,
    names_command_line: bool,
) -> SignedIn:
    """Who the service's token answer ``body`` signs in as a command line (a person's or a service
    account): the one path for every kind of command-line sign-in (one-time code, client secret, device
    authorization); the route mints Airflow's token for ``lifetime_seconds``.

    ``names_command_line``: the token is a person's command line, so it must name it (``cli_sign_in``).
    """
    signed_in = await complete_sign_in(
        body,
        kind="cli",
        gateway=gateway,
        settings=settings,
        sessions=sessions,
        lifetime_seconds=lifetime_seconds,
    )
    if names_command_line and signed_in.user.cli_sign_in_id is None:
        # Only a token naming its command line can be signed out from the Passkeys page.
        raise ServiceRefusedError(
            502, "invalid_service_token", "The sign-in service did not name the command line."
        )
    return signed_in
