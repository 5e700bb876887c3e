"""Real REST calls to Airflow with service-account Bearer tokens: the role ladder, decided inside Airflow.

Expected codes follow SimpleAuthManager's ladder (which the plugin's services/authorization.py mirrors):
VIEWER reads Dags and configuration; USER also changes Dags; OP also reads and writes connections and
variables; ADMIN everything. A token whose groups map to no role gets nothing.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import httpx
import pytest

if TYPE_CHECKING:
    from support.stack import Stack

ROLES = ("viewer", "user", "op", "admin")

# (method, path) -> roles that get 2xx; every other role gets exactly 403.
LADDER = {
    ("GET", "/api/v2/dags"): {"viewer", "user", "op", "admin"},
    ("GET", "/api/v2/config"): {"viewer", "user", "op", "admin"},
    ("GET", "/ui/auth/me"): {"viewer", "user", "op", "admin"},
    ("GET", "/api/v2/variables"): {"op", "admin"},
    ("POST", "/api/v2/variables"): {"op", "admin"},
    ("GET", "/api/v2/connections"): {"op", "admin"},
}
SUCCESS = {"GET": 200, "POST": 201}


def _call(client: httpx.Client, method: str, path: str, token: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"}
    if method == "POST":  # the only POST in the ladder creates a variable
        body = {"key": f"it-{uuid.uuid4().hex[:8]}", "value": "v"}
        return client.post(path, json=body, headers=headers)
    return client.get(path, headers=headers)


@pytest.fixture(scope="module")
def airflow_tokens(stack: Stack) -> dict[str, str]:
    """One token per role, obtained the documented way: POST /auth/token on Airflow (client credentials)."""
    tokens = {}
    with httpx.Client(base_url=stack.airflow.url, timeout=30) as client:
        for role in (*ROLES, "multi"):
            account = stack.accounts[role]
            response = client.post(
                "/auth/token",
                json={"client_id": account["clientId"], "client_secret": account["clientSecret"]},
            )
            assert response.status_code == 201, response.text
            tokens[role] = response.json()["access_token"]
    return tokens


@pytest.mark.parametrize(("method", "path"), list(LADDER))
@pytest.mark.parametrize("role", ROLES)
def test_role_ladder(
    airflow: httpx.Client, airflow_tokens: dict[str, str], role: str, method: str, path: str
) -> None:
    """Each role reaches exactly the resources its rung allows (exact 2xx), and is refused (403) above it."""
    response = _call(airflow, method, path, airflow_tokens[role])
    expected = SUCCESS[method] if role in LADDER[(method, path)] else 403
    assert response.status_code == expected, f"{role} {method} {path}: {response.text[:300]}"


def test_user_may_change_dags_and_viewer_may_not(
    airflow: httpx.Client, airflow_tokens: dict[str, str]
) -> None:
    """Changing a Dag needs USER: a VIEWER is refused before the lookup (403); a USER gets to it (404)."""
    for role, expected in (("viewer", 403), ("user", 404), ("op", 404), ("admin", 404)):
        response = airflow.patch(
            "/api/v2/dags/no_such_dag",
            json={"is_paused": True},
            headers={"Authorization": f"Bearer {airflow_tokens[role]}"},
        )
        assert response.status_code == expected, f"{role}: {response.text[:300]}"


def test_highest_mapped_group_wins(airflow: httpx.Client, airflow_tokens: dict[str, str]) -> None:
    """An account in a VIEWER group and an OP group acts as OP (the highest mapped role)."""
    headers = {"Authorization": f"Bearer {airflow_tokens['multi']}"}
    assert airflow.get("/api/v2/variables", headers=headers).status_code == 200
    assert airflow.get("/api/v2/connections", headers=headers).status_code == 200


def test_me_names_the_service_account(
    airflow: httpx.Client, airflow_tokens: dict[str, str], stack: Stack
) -> None:
    """/ui/auth/me identifies the caller by the service's stable id, not by anything the caller chose."""
    response = airflow.get("/ui/auth/me", headers={"Authorization": f"Bearer {airflow_tokens['op']}"})
    assert response.status_code == 200
    assert response.json() == {"id": stack.accounts["op"]["id"], "username": "it-op"}


@pytest.mark.parametrize(("method", "path"), list(LADDER))
def test_unmapped_groups_get_nothing(
    airflow: httpx.Client, service_token: object, method: str, path: str
) -> None:
    """A genuine service token whose groups map to no Airflow role is refused everywhere (403)."""
    token = service_token("norole")  # type: ignore[operator]
    response = _call(airflow, method, path, token)
    assert response.status_code == 403, response.text[:300]


def test_token_endpoint_refuses_unmapped_account(airflow: httpx.Client, stack: Stack) -> None:
    """POST /auth/token tells a client without an Airflow role so up front (403), without a token."""
    account = stack.accounts["norole"]
    response = airflow.post(
        "/auth/token", json={"client_id": account["clientId"], "client_secret": account["clientSecret"]}
    )
    assert response.status_code == 403
    assert "access_token" not in response.text


def test_token_endpoint_issues_usable_bearer(airflow: httpx.Client, stack: Stack) -> None:
    """POST /auth/token with client credentials answers 201 {access_token}, usable as Bearer at once."""
    account = stack.accounts["viewer"]
    response = airflow.post(
        "/auth/token", json={"client_id": account["clientId"], "client_secret": account["clientSecret"]}
    )
    assert response.status_code == 201
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert set(body) == {"access_token"}
    dags = airflow.get("/api/v2/dags", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert dags.status_code == 200
    assert "dags" in dags.json()


@pytest.mark.parametrize(
    "body",
    [
        {"client_id": "it-wrong", "client_secret": "nope"},
        "viewer-with-wrong-secret",
    ],
    ids=["unknown-client", "wrong-secret"],
)
def test_token_endpoint_refuses_bad_credentials(airflow: httpx.Client, stack: Stack, body: object) -> None:
    """Wrong client credentials get 401 and no token (never a 5xx)."""
    if body == "viewer-with-wrong-secret":
        body = {"client_id": stack.accounts["viewer"]["clientId"], "client_secret": "x" * 43}
    response = airflow.post("/auth/token", json=body)
    assert response.status_code == 401, response.text
    assert "access_token" not in response.text


def test_no_token_is_unauthenticated(airflow: httpx.Client) -> None:
    """Without credentials the API answers 401, and health stays public."""
    assert airflow.get("/api/v2/dags").status_code == 401
    assert airflow.get("/api/v2/monitor/health").status_code == 200
