"""``airflow webauthn login``'s polling (RFC 8628 §3.4-3.5) with a fake clock: it waits the interval
Airflow gives, 5 s longer after each slow_down, and stops with exit status 1 on access_denied or an
expired code. The transport is fake only for timing; the real flow is in test/integration."""

from __future__ import annotations

import io
import json
from typing import Any

import httpx
import pytest

from airflow_webauthn.cli.device_login import DENIED, EXPIRED, DeviceLogin

API = "http://airflow.test"
STARTED = {
    "device_code": "dev-code",
    "user_code": "BCDF-GHJK",
    "verification_uri": f"{API}/auth/device",
    "verification_uri_complete": f"{API}/auth/device?user_code=BCDF-GHJK",
    "expires_in": 600,
    "interval": 5,
}


class FakeAirflow:
    def __init__(self, polls: list[Any]) -> None:
        self.polls = polls
        self.forms: list[dict[str, list[str]]] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        from urllib.parse import parse_qs

        self.forms.append(parse_qs(request.content.decode()))
        if request.url.path == "/auth/device/code":
            return httpx.Response(200, json=STARTED)
        answer = self.polls.pop(0)
        if isinstance(answer, dict):
            return httpx.Response(200, json=answer)
        return httpx.Response(400, content=json.dumps({"error": answer, "error_description": answer}))


def login(polls: list[Any]) -> tuple[DeviceLogin, FakeAirflow, list[float]]:
    fake = FakeAirflow(polls)
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    flow = DeviceLogin(
        client=httpx.Client(transport=httpx.MockTransport(fake.handle)),
        api_url=API,
        out=io.StringIO(),
        sleep=sleep,
        clock=lambda: now[0],
    )
    return flow, fake, now


def test_it_prints_the_url_and_code_and_returns_the_token_after_pending_polls() -> None:
    flow, fake, _ = login(["authorization_pending", "authorization_pending", {"access_token": "tok"}])
    assert flow.run() == "tok"
    printed = flow.out.getvalue()  # type: ignore[attr-defined]
    assert f"{API}/auth/device" in printed
    assert "BCDF-GHJK" in printed
    assert flow.intervals == [5, 5, 5]
    assert fake.forms[0] == {"client_id": ["airflow-cli"]}
    assert fake.forms[1]["grant_type"] == ["urn:ietf:params:oauth:grant-type:device_code"]


def test_slow_down_makes_every_later_wait_5_seconds_longer() -> None:
    flow, _, _ = login(["slow_down", "authorization_pending", "slow_down", {"access_token": "tok"}])
    assert flow.run() == "tok"
    assert flow.intervals == [5, 10, 10, 15]


@pytest.mark.parametrize(("error", "message"), [("access_denied", DENIED), ("expired_token", EXPIRED)])
def test_a_denied_or_expired_request_exits_1_with_a_clear_message(
    error: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    flow, _, _ = login(["authorization_pending", error])
    with pytest.raises(SystemExit) as exit_info:
        flow.run()
    assert exit_info.value.code == 1
    assert message.split(".")[0] in capsys.readouterr().err


def test_it_gives_up_when_the_code_lifetime_is_over() -> None:
    """Never polls past expires_in (600 s at 5 s: 120 polls at most)."""
    flow, fake, now = login(["authorization_pending"] * 200)
    with pytest.raises(SystemExit):
        flow.run()
    assert now[0] <= 600 + 5
    assert len(fake.forms) - 1 <= 120
