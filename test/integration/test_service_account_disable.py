"""Disabling a service account on the real service ends its REST access on the real Airflow within
recheck_interval_seconds, although the token it already holds is valid for 15 more minutes."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from support.stack import RECHECK_INTERVAL_SECONDS, client_credentials_token
from support.waiting import wait_for, wait_until

if TYPE_CHECKING:
    from collections.abc import Callable

    import httpx

    from support.stack import Stack

# Airflow's own latency on a loaded 2-core runner, on top of the re-check interval.
SLACK_SECONDS = 3


def _status_after(client: httpx.Client, headers: dict[str, str], wanted: set[int]) -> tuple[int, float]:
    """Poll ``GET /api/v2/dags`` until it answers one of ``wanted``; return (last status, seconds taken)."""
    return wait_for(
        lambda: client.get("/api/v2/dags", headers=headers).status_code,
        wanted,
        within=RECHECK_INTERVAL_SECONDS + SLACK_SECONDS + 5,
        every=0.1,
    )


def test_disabling_a_service_account_ends_its_rest_access_within_the_recheck_interval(
    airflow: httpx.Client, stack: Stack, service_token: Callable[[str], str]
) -> None:
    """A service account created after Airflow started works at once; ``service-account disable``
    makes Airflow refuse its still-unexpired token (401, saying why) within the interval; ``enable``
    lets it get NEW tokens, while the one from before the disable stays refused for good."""
    name = f"it-revoked-{uuid.uuid4().hex[:8]}"
    stack.accounts[name] = stack.service.cli(
        "service-account", "create", "--name", name, "--groups", "it-viewers"
    )
    headers = {"Authorization": f"Bearer {service_token(name)}"}
    assert airflow.get("/api/v2/dags", headers=headers).status_code == 200  # new account: not refused

    stack.service.cli("service-account", "disable", name)
    status, waited = _status_after(airflow, headers, {401})
    assert status == 401, f"still {status} {waited:.1f}s after the disable"
    assert waited <= RECHECK_INTERVAL_SECONDS + SLACK_SECONDS, f"refused only after {waited:.1f}s"
    assert "the service account is disabled" in airflow.get("/api/v2/dags", headers=headers).json()["detail"]

    stack.service.cli("service-account", "enable", name)
    fresh = {"Authorization": f"Bearer {client_credentials_token(stack.service.url, stack.accounts[name])}"}
    status, waited = _status_after(airflow, fresh, {200})
    assert status == 200, f"a new token still {status} {waited:.1f}s after the enable"
    # Refused on every request; once Airflow re-read the accounts since the enable, the detail says why.
    ended = "account was disabled, which ended the tokens issued before"
    stale, waited = wait_until(
        lambda: airflow.get("/api/v2/dags", headers=headers),
        lambda stale: stale.status_code != 401 or ended in stale.json()["detail"],
        within=RECHECK_INTERVAL_SECONDS + SLACK_SECONDS,
        every=0.1,
    )
    assert stale.status_code == 401, stale.text
    assert ended in stale.json()["detail"], f"{stale.json()['detail']!r} {waited:.1f}s after the enable"


def test_rotating_the_secret_ends_the_tokens_issued_with_the_old_one(
    airflow: httpx.Client, stack: Stack
) -> None:
    """``service-account rotate-secret``: the tokens issued under the old secret are refused by Airflow
    within the re-check interval (not at their exp), saying why; the new secret's tokens work."""
    name = f"it-rotated-{uuid.uuid4().hex[:8]}"
    account = stack.service.cli("service-account", "create", "--name", name, "--groups", "it-viewers")
    headers = {"Authorization": f"Bearer {client_credentials_token(stack.service.url, account)}"}
    assert airflow.get("/api/v2/dags", headers=headers).status_code == 200

    rotated = stack.service.cli("service-account", "rotate-secret", name)
    status, waited = _status_after(airflow, headers, {401})
    assert status == 401, f"the old secret's token still {status} {waited:.1f}s after the rotation"
    assert waited <= RECHECK_INTERVAL_SECONDS + SLACK_SECONDS, f"refused only after {waited:.1f}s"
    assert "client secret was rotated" in airflow.get("/api/v2/dags", headers=headers).json()["detail"]
    renewed = {**account, "clientSecret": rotated["clientSecret"]}
    fresh = {"Authorization": f"Bearer {client_credentials_token(stack.service.url, renewed)}"}
    assert airflow.get("/api/v2/dags", headers=fresh).status_code == 200
