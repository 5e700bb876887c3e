"""Clients for the pages and the JSON API, mounted at /auth like Airflow does, with helpers to sign in."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from airflow_webauthn.auth_manager import WebAuthnAuthManager
from airflow_webauthn.services.step_up import STEP_UP_COOKIE

from support import PERSON_TOKEN, session_user

if TYPE_CHECKING:
    from collections.abc import Callable


@pytest.fixture
def mounted(manager: WebAuthnAuthManager) -> TestClient:
    root = FastAPI()
    root.mount("/auth", manager.get_fastapi_app())
    return TestClient(root, follow_redirects=False)


@pytest.fixture
def sign_in(mounted: TestClient, manager: WebAuthnAuthManager) -> Callable[..., Any]:
    """Give the client Airflow's session cookie for a user (``role`` etc. as in ``session_user``)."""

    def _sign_in(**fields: Any) -> Any:
        user = session_user(**fields)
        manager.sessions.remember_login(user)  # as a passkey login does: the service just vouched
        mounted.cookies.set("_token", manager.generate_jwt(user), domain="testserver.local", path="/")
        return user

    return _sign_in


@pytest.fixture
def step_up(mounted: TestClient, manager: WebAuthnAuthManager) -> Callable[..., None]:
    """Give the client a step-up cookie as if the person had just confirmed with their passkey."""

    def _step_up(user: Any, *, token: str = PERSON_TOKEN, max_age: int = 300) -> None:
        blob = manager.step_up.seal(
            user_id=user.user_id, session_id=user.session_id or "", token=token, max_age_seconds=max_age
        )
        mounted.cookies.set(STEP_UP_COOKIE, blob, domain="testserver.local", path="/auth")

    return _step_up


@pytest.fixture
def confirmed(sign_in: Callable[..., Any], step_up: Callable[..., None]) -> Callable[..., Any]:
    """Sign a person in (``fields`` as in ``session_user``) with a fresh passkey confirmation, as every call
    made with the person's own token needs; returns the user."""

    def _confirmed(**fields: Any) -> Any:
        user = sign_in(**fields)
        step_up(user)
        return user

    return _confirmed


@pytest.fixture
def admin(confirmed: Callable[..., Any]) -> Any:
    """An administrator (Airflow's ADMIN role, the service's admin group) with a fresh passkey confirmation."""
    return confirmed(role="ADMIN", groups=("airflow-admins",))
