"""``/auth/step-up/*``: the signed-in person confirms it's them with a passkey, like GitHub's sudo mode.

The fresh service token that results stays on the server side of the browser: it is sealed into an
httponly, ``SameSite=Strict`` cookie scoped to ``/auth`` and bound to the session user (see
``services.step_up``). Responses never contain it.
"""

from __future__ import annotations

import time

import jwt
from airflow.configuration import conf
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from airflow_webauthn.datamodels.manage import EmptyBody, StepUpResult, StepUpVerifyBody
from airflow_webauthn.routes.deps import NO_STORE, ManagerDep
from airflow_webauthn.routes.guards import (
    ApiRefusalError,
    SameOriginJson,
    SessionUser,
    call_service_public,
    relay,
    step_up_cookie_path,
    step_up_sealer,
)
from airflow_webauthn.services.step_up import STEP_UP_COOKIE, STEP_UP_MAX_AGE_SECONDS
from airflow_webauthn.services.token_verifier import JwksUnavailableError

step_up_router = APIRouter(prefix="/step-up", tags=["WebAuthnStepUp"], dependencies=[SameOriginJson])


@step_up_router.post("/options")
async def step_up_options(
    body: EmptyBody, request: Request, manager: ManagerDep, user: SessionUser
) -> JSONResponse:
    """Assertion options for the session user's own passkeys (never a usernameless ceremony)."""
    reply = await call_service_public(
        manager, request, "/v1/authentication/options", {"username": user.username}
    )
    return relay(reply, as_person=False)


@step_up_router.post("/verify", response_model=StepUpResult)
async def step_up_verify(
    body: StepUpVerifyBody, request: Request, manager: ManagerDep, user: SessionUser
) -> JSONResponse:
    """Check the assertion with the service; keep the resulting token only if it is this person's."""
    reply = await call_service_public(
        manager, request, "/v1/authentication/verify", {"response": body.response}
    )
    if reply.status_code >= 400:
        return relay(reply, as_person=False)
    token = reply.body.get("access_token") if isinstance(reply.body, dict) else None
    if not isinstance(token, str):
        raise ApiRefusalError(502, "invalid_service_reply", "The sign-in service answered without a token.")
    try:
        claims = await manager.token_verifier.verify(token)
    except JwksUnavailableError as err:
        raise ApiRefusalError(
            503, "service_unavailable", "The sign-in service is unavailable right now."
        ) from err
    except jwt.InvalidTokenError as err:
        manager.log.error("Auth service returned a step-up token that does not verify: %s", err)
        raise ApiRefusalError(
            502, "invalid_service_token", "The sign-in service returned a token Airflow could not verify."
        ) from err
    if claims.get("sub") != user.user_id:
        manager.log.warning(
            "Step-up refused: %s (%s) confirmed with a passkey of another account",
            user.username,
            user.user_id,
        )
        raise ApiRefusalError(
            403,
            "step_up_wrong_user",
            f"That passkey belongs to another account. Confirm with a passkey of {user.username}.",
        )
    expires_in = reply.body.get("expires_in") if isinstance(reply.body, dict) else None
    lifetime = int(claims["exp"]) - int(time.time())
    if isinstance(expires_in, int | float):
        lifetime = min(lifetime, int(expires_in))
    max_age = min(STEP_UP_MAX_AGE_SECONDS, lifetime)
    if max_age <= 0:
        raise ApiRefusalError(502, "invalid_service_token", "The sign-in service returned an expired token.")
    response = JSONResponse({"confirmed": True, "expiresIn": max_age}, headers=NO_STORE)
    response.set_cookie(
        STEP_UP_COOKIE,
        step_up_sealer(manager).seal(user_id=user.user_id, token=token, max_age_seconds=max_age),
        max_age=max_age,
        path=step_up_cookie_path(),
        secure=request.url.scheme == "https" or bool(conf.get("api", "ssl_cert", fallback="")),
        httponly=True,
        samesite="strict",
    )
    return response
