"""What the routes get through FastAPI dependencies: the manager's collaborators, never its module.

``create_app`` puts the manager in ``app.state``; routes see it only as ``WebAuthnComponents`` (a
protocol), so ``routes`` never imports ``auth_manager`` and the two cannot form an import cycle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Protocol

from fastapi import Depends, Request

from airflow_webauthn.services.gateway import Caller

if TYPE_CHECKING:
    from airflow_webauthn.config import WebAuthnSettings
    from airflow_webauthn.services.confirmations import ServiceHealth
    from airflow_webauthn.services.gateway import ServiceGateway
    from airflow_webauthn.services.session_check import SessionChecker
    from airflow_webauthn.services.step_up import StepUpSealer
    from airflow_webauthn.user import WebAuthnUser


class WebAuthnComponents(Protocol):
    """The parts of the auth manager the routes use."""

    @property
    def settings(self) -> WebAuthnSettings: ...
    @property
    def gateway(self) -> ServiceGateway: ...
    @property
    def sessions(self) -> SessionChecker: ...
    @property
    def service_health(self) -> ServiceHealth: ...
    @property
    def step_up(self) -> StepUpSealer: ...
    @property
    def log(self) -> Any: ...  # Airflow's LoggingMixin logger

    def generate_jwt(self, user: WebAuthnUser, *, expiration_time_in_seconds: int = ...) -> str: ...
    async def get_user_from_token(self, token: str) -> Any: ...


def _components(request: Request) -> WebAuthnComponents:
    components: WebAuthnComponents = request.app.state.webauthn
    return components


def _gateway(components: Annotated[WebAuthnComponents, Depends(_components)]) -> ServiceGateway:
    return components.gateway


def _settings(components: Annotated[WebAuthnComponents, Depends(_components)]) -> WebAuthnSettings:
    return components.settings


def caller(request: Request) -> Caller:
    """The browser or script as Airflow sees it (its address, never a header it sent)."""
    return Caller(
        address=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
    )


ComponentsDep = Annotated[WebAuthnComponents, Depends(_components)]
GatewayDep = Annotated["ServiceGateway", Depends(_gateway)]
SettingsDep = Annotated["WebAuthnSettings", Depends(_settings)]
CallerDep = Annotated[Caller, Depends(caller)]
