"""Step-up as a dependency: the person's fresh service token, from a cookie bound to this session."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from airflow.api_fastapi.app import AUTH_MANAGER_FASTAPI_APP_PREFIX
from fastapi import Depends, Request

from airflow_webauthn.routes.deps import CallerDep, ComponentsDep, GatewayDep
from airflow_webauthn.routes.responses import ApiRefusalError
from airflow_webauthn.routes.session import SessionUser
from airflow_webauthn.services.step_up import STEP_UP_COOKIE, StepUpKeyError, StepUpSealer

if TYPE_CHECKING:
    from collections.abc import Mapping

    from fastapi.responses import Response

    from airflow_webauthn.services.errors import ServiceReply
    from airflow_webauthn.services.gateway import Caller, ServiceGateway
    from airflow_webauthn.user import WebAuthnUser

STEP_UP_DETAIL = "Confirm it's you with your passkey to continue."


def step_up_cookie_path() -> str:
    return AUTH_MANAGER_FASTAPI_APP_PREFIX or "/auth"


def clear_step_up_cookie(response: Response) -> None:
    response.delete_cookie(STEP_UP_COOKIE, path=step_up_cookie_path(), httponly=True, samesite="strict")


def step_up_sealer(components: ComponentsDep) -> StepUpSealer:
    """The manager's sealer; a deployment without a usable signing secret gets a clear 503, not a 500."""
    try:
        return components.step_up
    except StepUpKeyError as err:
        components.log.error("Passkey confirmation (step-up) is unavailable: %s", err)
        raise ApiRefusalError(
            503,
            "step_up_unavailable",
            "Airflow cannot keep a passkey confirmation right now (its JWT signing key is not usable). "
            "Ask an Airflow administrator.",
        ) from err


SealerDep = Annotated[StepUpSealer, Depends(step_up_sealer)]


def open_step_up(request: Request, sealer: StepUpSealer, user: WebAuthnUser) -> str | None:
    """The token sealed for this user AND this sign-in (another session's cookie does not open)."""
    return sealer.open(
        request.cookies.get(STEP_UP_COOKIE), user_id=user.user_id, session_id=user.session_id or ""
    )


async def step_up_token(request: Request, sealer: SealerDep, user: SessionUser) -> str:
    """The person's fresh service token from the step-up cookie, or 401 ``step_up_required``."""
    token = open_step_up(request, sealer, user)
    if token is None:
        # A cookie that no longer opens (expired, tampered, another user's or session's) is removed.
        blob = request.cookies.get(STEP_UP_COOKIE)
        raise ApiRefusalError(401, "step_up_required", STEP_UP_DETAIL, clear_step_up=blob is not None)
    return token


StepUpToken = Annotated[str, Depends(step_up_token)]


@dataclass(frozen=True)
class ServiceAsPerson:
    """The service as the signed-in person: their step-up token, sent from where they are (``Caller``).

    The pages' proxy routes hold this one object instead of the gateway, the caller and the token, so each
    route says only which service path it reaches.
    """

    gateway: ServiceGateway
    caller: Caller
    token: str

    async def call(
        self, method: str, path: str, *, json: Any = None, params: Mapping[str, str] | None = None
    ) -> ServiceReply:
        return await self.gateway.call_as_person(
            method, path, token=self.token, caller=self.caller, json=json, params=params
        )


def service_as_person(gateway: GatewayDep, caller: CallerDep, token: StepUpToken) -> ServiceAsPerson:
    return ServiceAsPerson(gateway=gateway, caller=caller, token=token)


AsPerson = Annotated[ServiceAsPerson, Depends(service_as_person)]
