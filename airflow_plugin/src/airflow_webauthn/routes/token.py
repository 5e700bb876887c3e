"""``POST /auth/token``: API tokens for scripts and service accounts (client credentials)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from airflow_webauthn.datamodels.token import TokenBody, TokenResponse
from airflow_webauthn.routes.csrf import SameOriginJson
from airflow_webauthn.routes.deps import CallerDep, GatewayDep, SettingsDep
from airflow_webauthn.routes.responses import NO_STORE, error_response
from airflow_webauthn.services.users import NoRoleError, user_from_service_claims

token_router = APIRouter(tags=["WebAuthnToken"], dependencies=[SameOriginJson])


@token_router.post(
    "/token",
    status_code=201,
    response_model=TokenResponse,
    responses={400: {}, 401: {}, 403: {}, 503: {}},
)
async def create_token(
    body: TokenBody, gateway: GatewayDep, settings: SettingsDep, caller: CallerDep
) -> JSONResponse:
    """Exchange client credentials for the service's access token, usable as ``Authorization: Bearer``.

    The caller's address is forwarded: a flood of wrong secrets is limited in the caller's bucket on the
    service, never in Airflow's own. The token is checked exactly as the API will check it, so a client
    without an Airflow role learns that here (403) rather than on its first API call.
    """
    reply = await gateway.client_credentials(
        client_id=body.client_id, client_secret=body.client_secret, caller=caller
    )
    verified = await gateway.verify_service_token(reply)
    try:
        user_from_service_claims(verified.claims, role_mapping=settings.role_mapping)
    except NoRoleError as err:
        return error_response(
            403, "no_role", f"{err.username} is not in any group that grants an Airflow role."
        )
    return JSONResponse(status_code=201, content={"access_token": verified.token}, headers=NO_STORE)
