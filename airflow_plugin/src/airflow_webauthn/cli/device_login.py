"""``airflow webauthn login --api-url URL [--env NAME]``: sign a terminal in with the device flow
(RFC 8628) and leave the token where airflowctl reads it.

It asks Airflow (``/auth/device/code``, client ``airflow-cli``), prints the approval URL and code, polls
``/auth/device/token`` at the interval Airflow gives (5 s more after each ``slow_down``, §3.5), and on
success saves the token with airflowctl's own ``Credentials`` (keyring entry ``airflowctl`` /
``api_token_<env>``, and ``$AIRFLOW_HOME/<env>.json`` with the API URL), so ``airflowctl dags list``
works next with no flag. It needs only Airflow's URL: no configuration of this manager, no credential.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

import httpx

from airflow_webauthn.cli.commands import CommandError

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable

CLIENT_ID = "airflow-cli"
DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
DEFAULT_INTERVAL_SECONDS = 5
SLOW_DOWN_STEP_SECONDS = 5  # RFC 8628 §3.5
HTTP_TIMEOUT_SECONDS = 30.0
USER_AGENT = "airflow webauthn login"

DENIED = "The sign-in was denied on the approval page. Nothing was stored."
EXPIRED = "The code expired before it was approved. Run airflow webauthn login again."


@dataclass
class DeviceLogin:
    """The polling loop, with its clock and sleep injected (tests move time instead of waiting)."""

    client: httpx.Client
    api_url: str
    out: TextIO = sys.stdout
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    intervals: list[float] = field(default_factory=list)  # what was waited, for the record

    def run(self) -> str:
        """The access token, or ``CommandError`` (exit 1) saying why not."""
        started = self._post("/auth/device/code", {"client_id": CLIENT_ID})
        if started.status_code != 200:
            raise CommandError(f"Airflow refused to start the sign-in: {_describe(started)}")
        grant = _json(started)
        device_code, user_code = grant.get("device_code"), grant.get("user_code")
        uri = grant.get("verification_uri")
        if not (isinstance(device_code, str) and isinstance(user_code, str) and isinstance(uri, str)):
            raise CommandError("Airflow's answer has no device_code, user_code or verification_uri.")
        self._tell(uri, user_code, grant.get("verification_uri_complete"))
        interval = float(grant.get("interval") or DEFAULT_INTERVAL_SECONDS)
        deadline = self.clock() + float(grant.get("expires_in") or 600)
        form = {"grant_type": DEVICE_CODE_GRANT, "device_code": device_code, "client_id": CLIENT_ID}
        while self.clock() < deadline:
            self.intervals.append(interval)
            self.sleep(interval)
            try:
                reply = self._post("/auth/device/token", form)
            except httpx.HTTPError as err:
                print(f"Airflow could not be reached ({type(err).__name__}); still waiting…", file=self.out)
                continue
            body = _json(reply)
            if reply.status_code == 200 and isinstance(body.get("access_token"), str):
                return str(body["access_token"])
            error = body.get("error")
            if error == "authorization_pending":
                continue
            if error == "slow_down":
                interval += SLOW_DOWN_STEP_SECONDS
                continue
            if error == "access_denied":
                raise CommandError(DENIED + _detail(body, "access denied"))
            if error == "expired_token":
                raise CommandError(EXPIRED)
            if reply.status_code >= 500 and error in {None, "temporarily_unavailable"}:
                continue  # the service is briefly away: the code is still good until it expires
            raise CommandError(f"The sign-in failed: {_describe(reply)}")
        raise CommandError(EXPIRED)

    def _post(self, path: str, form: dict[str, str]) -> httpx.Response:
        return self.client.post(f"{self.api_url}{path}", data=form, headers={"Accept": "application/json"})

    def _tell(self, uri: str, user_code: str, complete: Any) -> None:
        print(f"To sign in, open {uri} in a browser where you are signed in to Airflow", file=self.out)
        print(f"and enter the code: {user_code}", file=self.out)
        if isinstance(complete, str):
            print(f"(or open {complete} directly)", file=self.out)
        print("Approve only if you started this sign-in yourself. Waiting for approval…", file=self.out)
        self.out.flush()


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _detail(body: dict[str, Any], fallback: str) -> str:
    description = body.get("error_description")
    return f" ({description})" if isinstance(description, str) and description else f" ({fallback})"


def _describe(response: httpx.Response) -> str:
    body = _json(response)
    text = body.get("error_description") or body.get("detail") or body.get("error")
    return f"{response.status_code} {text}" if text else f"HTTP {response.status_code}"


NO_AIRFLOWCTL = (
    "airflow webauthn login stores the token for airflowctl, which is not installed here: "
    "pip install apache-airflow-ctl"
)


def _require_airflowctl() -> None:
    """Fail before the person approves anything when airflowctl is missing. Only looked up here: importing
    it takes seconds, so that waits until there is a token to store (the code is on screen by then)."""
    if importlib.util.find_spec("airflowctl") is None:
        raise CommandError(NO_AIRFLOWCTL)


def _credentials_class() -> Any:
    """airflowctl's own ``Credentials`` (so the token lands exactly where airflowctl reads it)."""
    try:
        from airflowctl.api.client import Credentials  # type: ignore[import-untyped]
    except ImportError as err:
        raise CommandError(NO_AIRFLOWCTL) from err
    return Credentials


def webauthn_login(args: argparse.Namespace) -> None:
    api_url = str(args.api_url).rstrip("/")
    if not api_url.startswith(("https://", "http://")):
        raise CommandError("--api-url must be Airflow's URL, e.g. https://airflow.example.com")
    _require_airflowctl()
    # The approval page shows the person this name next to the address: it should say what asks.
    headers = {"User-Agent": USER_AGENT}
    with httpx.Client(timeout=HTTP_TIMEOUT_SECONDS, headers=headers) as client:
        try:
            token = DeviceLogin(client=client, api_url=api_url).run()
        except httpx.HTTPError as err:
            raise CommandError(f"Airflow at {api_url} could not be reached: {err}") from err
    env = args.env or "production"
    credentials_class = _credentials_class()
    from airflowctl.api.client import ClientKind

    try:
        credentials_class(
            api_url=api_url, api_token=token, client_kind=ClientKind.CLI, api_environment=env
        ).save()
    except Exception as err:  # airflowctl's keyring errors carry their own advice
        raise CommandError(f"Signed in, but the token could not be stored: {err}") from err
    print(f"Signed in. airflowctl (environment {env!r}) uses this sign-in now: try airflowctl dags list")
