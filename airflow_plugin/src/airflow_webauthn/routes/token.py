"""``POST /auth/token``: API tokens for scripts and service accounts (client credentials)."""

from __future__ import annotations

import jwt
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from airflow_webauthn.datamodels.token import TokenBody, TokenResponse
from airflow_webauthn.routes.deps import NO_STORE, ManagerDep, error_response, service_unavailable
from airflow_webauthn.services.service_client import AuthServiceError, AuthServiceUnavailableError
from airflow_webauthn.services.token_verifier import JwksUnavailableError
from airflow_webauthn.services.users import NoRoleError, user_from_service_claims

token_router = APIRouter(tags=["WebAuthnToken"])


@token_router.post(
    "/token",
    status_code=201,
    response_model=TokenResponse,
    responses={400: {}, 401: {}, 403: {}, 503: {}},
)
async def create_token(body: TokenBody, manager: ManagerDep) -> JSONResponse:
    """Exchange client credentials for the service's access token, usable as ``Authorization: Bearer``.

    The token is checked exactly as the API will check it, so a client without an Airflow role learns
    that here (403) rather than on its first API call.
    """
    try:
        reply = await manager.service_client.client_credentials_token(
            client_id=body.client_id, client_secret=body.client_secret
        )
        token = reply["access_token"]
        claims = await manager.token_verifier.verify(token)
        user_from_service_claims(claims, role_mapping=manager.settings.role_mapping)
    except (AuthServiceUnavailableError, JwksUnavailableError):
        return service_unavailable()
    except AuthServiceError as refused:
        if refused.status_code in {400, 401}:
            status = 401 if refused.error == "invalid_client" or refused.status_code == 401 else 400
            return error_response(status, refused.error, refused.message)
        return error_response(refused.status_code, refused.error, refused.message)
    except NoRoleError as err:
        return error_response(
            403, "no_role", f"{err.username} is not in any group that grants an Airflow role."
        )
    except jwt.InvalidTokenError as err:
        manager.log.error("Auth service issued a token that does not verify: %s", err)
        return error_response(
            502, "invalid_service_token", "The auth service issued a token Airflow cannot verify."
        )
    return JSONResponse(status_code=201, content={"access_token": token}, headers=NO_STORE)
