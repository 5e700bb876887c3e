"""``/auth/step-up/*``: the signed-in person confirms it's them with a passkey, like GitHub's sudo mode.

The fresh service token that results stays on the server side of the browser: it is sealed into an
httponly, ``SameSite=Strict`` cookie scoped to ``/auth`` and bound to the session user AND to this
sign-in (see ``services.step_up``), so it dies with the session. Responses never contain it.
"""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from airflow_webauthn.datamodels.manage import EmptyBody, StepUpResult, StepUpVerifyBody
from airflow_webauthn.routes.cookies import secure_cookie
from airflow_webauthn.routes.csrf import SameOriginJson
from airflow_webauthn.routes.deps import CallerDep, ComponentsDep, GatewayDep
from airflow_webauthn.routes.responses import NO_STORE, ApiRefusalError, relay
from airflow_webauthn.routes.session import SessionUser
from airflow_webauthn.routes.step_up_auth import SealerDep, step_up_cookie_path
from airflow_webauthn.services.step_up import STEP_UP_COOKIE, STEP_UP_MAX_AGE_SECONDS

step_up_router = APIRouter(prefix="/step-up", tags=["WebAuthnStepUp"], dependencies=[SameOriginJson])


@step_up_router.post("/options")
async def step_up_options(
    body: EmptyBody, gateway: GatewayDep, caller: CallerDep, user: SessionUser
) -> JSONResponse:
    """Assertion options for the session user's own passkeys (never a usernameless ceremony).

    ``userVerification: required`` makes the service ask for PIN or biometrics and store that demand with
    the challenge, so it refuses an assertion without user verification even where everyday sign-in only
    prefers it: a step-up proves the person, not just the device.
    """
    reply = await gateway.relay(
        "/v1/authentication/options",
        {"username": user.username, "userVerification": "required"},
        caller=caller,
    )
    return relay(reply, as_person=False)


@step_up_router.post("/verify", response_model=StepUpResult)
async def step_up_verify(
    body: StepUpVerifyBody,
    request: Request,
    components: ComponentsDep,
    sealer: SealerDep,
    caller: CallerDep,
    user: SessionUser,
) -> JSONResponse:
    """Check the assertion with the service; keep the resulting token only if it is this person's."""
    gateway = components.gateway
    reply = await gateway.relay("/v1/authentication/verify", {"response": body.response}, caller=caller)
    if reply.status_code >= 400:
        return relay(reply, as_person=False)
    verified = await gateway.verify_service_token(reply.body)
    if verified.claims.get("sub") != user.user_id:
        components.log.warning(
            "Step-up refused: %s (%s) confirmed with a passkey of another account",
            user.username,
            user.user_id,
        )
        raise ApiRefusalError(
            403,
            "step_up_wrong_user",
            f"That passkey belongs to another account. Confirm with a passkey of {user.username}.",
        )
    lifetime = int(verified.claims["exp"]) - int(time.time())
    if verified.expires_in is not None:
        lifetime = min(lifetime, verified.expires_in)
    max_age = min(STEP_UP_MAX_AGE_SECONDS, lifetime)
    if max_age <= 0:
        raise ApiRefusalError(502, "invalid_service_token", "The sign-in service returned an expired token.")
    response = JSONResponse({"confirmed": True, "expiresIn": max_age}, headers=NO_STORE)
    response.set_cookie(
        STEP_UP_COOKIE,
        sealer.seal(
            user_id=user.user_id,
            session_id=user.session_id or "",
            token=verified.token,
            max_age_seconds=max_age,
        ),
        max_age=max_age,
        path=step_up_cookie_path(),
        secure=secure_cookie(request),
        httponly=True,
        samesite="strict",
    )
    return response
