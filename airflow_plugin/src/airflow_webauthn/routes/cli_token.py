"""``POST /auth/token/cli``: airflowctl's sign-in (``airflowctl auth login --username U``), unmodified.

airflowctl posts ``{"username", "password"}`` and keeps the ``access_token`` of the 201 answer. Here the
"password" is a person's one-time CLI code from their Passkeys page, or a service account's secret
(with its client id as the username). Refusals are JSON (``application/json``), which airflowctl prints.
"""

from __future__ import annotations

from airflow.configuration import conf
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from airflow_webauthn.datamodels.token import TokenResponse
from airflow_webauthn.routes.csrf import SameOriginJson
from airflow_webauthn.routes.deps import CallerDep, ComponentsDep
from airflow_webauthn.routes.responses import NO_STORE
from airflow_webauthn.services.cli_sign_in import sign_in_command_line

cli_token_router = APIRouter(tags=["WebAuthnToken"], dependencies=[SameOriginJson])


class CliLoginBody(BaseModel):
    """airflowctl's ``LoginBody``."""

    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=256)
    password: str = Field(min_length=1, max_length=1024, repr=False)


@cli_token_router.post(
    "/token/cli",
    status_code=201,
    response_model=TokenResponse,
    responses={400: {}, 401: {}, 403: {}, 429: {}, 503: {}},
)
async def create_cli_token(body: CliLoginBody, components: ComponentsDep, caller: CallerDep) -> JSONResponse:
    """An Airflow token for a command line, lasting ``[api_auth] jwt_cli_expiration_time``.

    The caller's address and User-Agent are forwarded: the service limits guesses per username (or
    client id) and address, and lists the command line with them.
    """
    signed_in = await sign_in_command_line(
        username=body.username,
        password=body.password,
        gateway=components.gateway,
        settings=components.settings,
        sessions=components.sessions,
        caller=caller,
        lifetime_seconds=conf.getint("api_auth", "jwt_cli_expiration_time"),
    )
    token = components.generate_jwt(signed_in.user, expiration_time_in_seconds=signed_in.lifetime_seconds)
    return JSONResponse(status_code=201, content={"access_token": token}, headers=NO_STORE)
