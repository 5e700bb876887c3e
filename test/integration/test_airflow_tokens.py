"""Airflow-minted tokens keep working next to the service's tokens (the issuer decides who checks them)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from support import jwt_forge as forge

if TYPE_CHECKING:
    from collections.abc import Callable

    import httpx

    from support.stack import Stack


def test_airflow_minted_token_for_a_service_account(
    airflow: httpx.Client, stack: Stack, service_token: Callable[[str], str]
) -> None:
    """A service account authenticated by a service JWT can get Airflow's own token (generate_jwt via
    POST /ui/auth/token); that token is validated by Airflow and keeps the account's identity and role."""
    service_jwt = service_token("op")
    minted = airflow.post("/ui/auth/token", json={}, headers={"Authorization": f"Bearer {service_jwt}"})
    assert minted.status_code in {200, 201}, minted.text
    token = minted.json()["access_token"]
    header, claims, _ = forge.parts(token)
    assert header.get("typ") != "at+jwt"
    assert claims.get("iss") != stack.service.url

    bearer = {"Authorization": f"Bearer {token}"}
    me = airflow.get("/ui/auth/me", headers=bearer)
    assert me.status_code == 200
    assert me.json() == {"id": stack.accounts["op"]["id"], "username": "it-op"}
    assert airflow.get("/api/v2/variables", headers=bearer).status_code == 200  # still OP
    assert airflow.get("/api/v2/dags", headers=bearer).status_code == 200


def test_airflow_minted_token_does_not_raise_the_role(
    airflow: httpx.Client, service_token: Callable[[str], str]
) -> None:
    """A VIEWER's Airflow-minted token is still a VIEWER's: the exchange is not a way up the ladder."""
    minted = airflow.post(
        "/ui/auth/token", json={}, headers={"Authorization": f"Bearer {service_token('viewer')}"}
    )
    assert minted.status_code in {200, 201}
    bearer = {"Authorization": f"Bearer {minted.json()['access_token']}"}
    assert airflow.get("/api/v2/dags", headers=bearer).status_code == 200
    assert airflow.get("/api/v2/variables", headers=bearer).status_code == 403
