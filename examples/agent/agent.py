"""A minimal agent that acts on Airflow for a person, within what that person approved (issue 20).

    agent.py login [--scope SCOPE]   ask a person to approve (device flow), keep the refresh token
    agent.py dags                    list the DAGs the approval lets the agent see
    agent.py trigger DAG_ID          trigger a DAG run for the person

Settings come from the environment: AIRFLOW_URL, AGENT_CLIENT_ID, AGENT_CLIENT_SECRET; optionally
AGENT_SCOPE (what `login` asks for), AGENT_STATE_FILE (where the tokens are kept, mode 0600) and
AUTH_TOKEN_ENDPOINT (the auth service's token endpoint, when its discovery is not at the token's issuer).

Only the standard library and httpx, so an MCP server or a copilot can copy it whole.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, NoReturn

import httpx

DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
DEFAULT_SCOPE = "dag:read:id=* dag:trigger:id=*"
DEFAULT_STATE_FILE = Path.home() / ".config" / "airflow-agent" / "state.json"
# Refresh this long before the access token's end, so a call never starts with a token about to lapse.
EXPIRY_MARGIN_SECONDS = 30
# RFC 8628 §3.5: on slow_down, every later poll waits 5 s longer.
SLOW_DOWN_STEP_SECONDS = 5

# One line per OAuth error (RFC 6749 §5.2, RFC 8628 §3.5) an agent meets, saying what to do about it.
OAUTH_ERRORS = {
    "authorization_pending": "the person has not approved or denied the request yet: keep polling",
    "slow_down": "polled too often: waiting 5 seconds longer between polls from now on",
    "access_denied": "the person denied the request (or has no Airflow role to delegate): ask them again",
    "expired_token": "nobody approved the request before its code expired: run `login` again",
    "invalid_grant": (
        "the device code or refresh token is unknown, used or another client's, or the delegation ended "
        "(revoked, expired, the person or the agent disabled): run `login` again"
    ),
    "invalid_client": "this agent's client id or secret is wrong, or the agent is disabled: ask an admin",
    "invalid_scope": "the scope is malformed, or wider than the person (or the parent delegation) allows",
}


class AgentError(Exception):
    """A refusal explained for the operator; the command exits 1 with this line."""


@dataclass
class Settings:
    airflow_url: str
    client_id: str
    client_secret: str
    scope: str
    state_file: Path
    token_endpoint: str | None

    @classmethod
    def from_env(cls) -> Settings:
        required = ("AIRFLOW_URL", "AGENT_CLIENT_ID", "AGENT_CLIENT_SECRET")
        missing = [name for name in required if not os.environ.get(name)]
        if missing:
            usage(f"set {', '.join(missing)}")
        return cls(
            airflow_url=os.environ["AIRFLOW_URL"].rstrip("/"),
            client_id=os.environ["AGENT_CLIENT_ID"],
            client_secret=os.environ["AGENT_CLIENT_SECRET"],
            scope=os.environ.get("AGENT_SCOPE", DEFAULT_SCOPE),
            state_file=Path(os.environ.get("AGENT_STATE_FILE") or DEFAULT_STATE_FILE),
            token_endpoint=os.environ.get("AUTH_TOKEN_ENDPOINT") or None,
        )

    @property
    def basic(self) -> httpx.BasicAuth:
        return httpx.BasicAuth(self.client_id, self.client_secret)


@dataclass
class State:
    """What the agent keeps between runs. The refresh token is the only long-lived secret in it."""

    token_endpoint: str
    access_token: str
    access_expires_at: float
    refresh_token: str
    scope: str

    @classmethod
    def load(cls, path: Path) -> State:
        try:
            return cls(**json.loads(path.read_text()))
        except FileNotFoundError:
            raise AgentError(f"no tokens in {path}: run `login` first") from None

    def save(self, path: Path) -> None:
        """Written whole, mode 0600 from the start (never readable by others, not even for a moment)."""
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".state-")  # mkstemp creates it 0600
        with os.fdopen(fd, "w") as file:
            json.dump(asdict(self), file)
        os.replace(temporary, path)


def usage(message: str) -> NoReturn:
    print(f"agent: {message}", file=sys.stderr)
    sys.exit(2)


def oauth_error_of(response: httpx.Response) -> str | None:
    """The RFC 6749 §5.2 `error` code of an answer, None when it is not an OAuth error."""
    try:
        body = response.json()
    except ValueError:
        return None
    code = body.get("error") if isinstance(body, dict) else None
    return code if isinstance(code, str) else None


def explain(response: httpx.Response) -> AgentError:
    """An OAuth error answer as one line: its code, what it means, and the server's own description."""
    code = oauth_error_of(response)
    if code is None:
        return AgentError(f"HTTP {response.status_code} from {response.request.url}: {response.text[:200]}")
    meaning = OAUTH_ERRORS.get(code, "an error this agent does not know")
    detail = response.json().get("error_description")
    return AgentError(f"{code}: {meaning}" + (f" ({detail})" if detail else ""))


def token_endpoint_of(settings: Settings, access_token: str) -> str:
    """Where to refresh: AUTH_TOKEN_ENDPOINT, else the auth service's discovery at the token's issuer.

    The token is read, not verified: Airflow and the service verify it; the agent only learns who issued it.
    """
    if settings.token_endpoint:
        return settings.token_endpoint
    payload = access_token.split(".")[1]
    issuer = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["iss"]
    discovery = httpx.get(f"{issuer.rstrip('/')}/.well-known/openid-configuration", timeout=30)
    if discovery.status_code != 200:
        raise AgentError(
            f"no discovery at the issuer {issuer} ({discovery.status_code}): set AUTH_TOKEN_ENDPOINT"
        )
    endpoint: str = discovery.json()["token_endpoint"]
    return endpoint


def state_from_answer(answer: dict[str, Any], token_endpoint: str) -> State:
    return State(
        token_endpoint=token_endpoint,
        access_token=answer["access_token"],
        access_expires_at=time.time() + int(answer["expires_in"]),
        refresh_token=answer["refresh_token"],
        scope=answer["scope"],
    )


def login(settings: Settings, scope: str) -> None:
    """RFC 8628: ask on Airflow's origin as this agent, show the person where to approve, then poll."""
    with httpx.Client(base_url=settings.airflow_url, auth=settings.basic, timeout=30) as client:
        asked = client.post("/auth/device/code", data={"scope": scope})
        if asked.status_code != 200:
            raise explain(asked)
        device = asked.json()
        print(f"Ask the person to open {device['verification_uri_complete']}", flush=True)
        print(f"and check that it shows the code {device['user_code']}", flush=True)
        answer = poll_until_decided(client, device)
    state = state_from_answer(answer, token_endpoint_of(settings, answer["access_token"]))
    state.save(settings.state_file)
    print(f"Approved for {answer['scope']}; tokens kept in {settings.state_file}", flush=True)


def poll_until_decided(client: httpx.Client, device: dict[str, Any]) -> dict[str, Any]:
    """Poll every `interval` seconds (5 s more after each slow_down) until approved, refused or expired."""
    interval = int(device.get("interval", 5))
    deadline = time.monotonic() + int(device["expires_in"])
    while time.monotonic() + interval < deadline:
        time.sleep(interval)
        data = {"grant_type": DEVICE_CODE_GRANT, "device_code": device["device_code"]}
        polled = client.post("/auth/device/token", data=data)
        if polled.status_code == 200:
            answer: dict[str, Any] = polled.json()
            return answer
        error = oauth_error_of(polled)
        if error == "slow_down":
            interval += SLOW_DOWN_STEP_SECONDS
        elif error != "authorization_pending":
            raise explain(polled)
    raise AgentError(f"expired_token: {OAUTH_ERRORS['expired_token']}")


def refresh(settings: Settings, state: State) -> State:
    """A new access token and the NEXT refresh token, kept at once: presenting a used one again revokes the
    delegation, so only the newest may ever be kept. The refresh token works only with this agent's own
    client authentication."""
    refreshed = httpx.post(
        state.token_endpoint,
        data={"grant_type": "refresh_token", "refresh_token": state.refresh_token},
        auth=settings.basic,
        timeout=30,
    )
    if refreshed.status_code != 200:
        raise explain(refreshed)
    new_state = state_from_answer(refreshed.json(), state.token_endpoint)
    new_state.save(settings.state_file)
    return new_state


def call_airflow(settings: Settings, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """One REST API call as the person-through-the-agent; refreshed first when the token is about to end,
    and once more on a 401 (the token ended early): if the delegation itself ended, that refresh says so."""
    state = State.load(settings.state_file)
    if state.access_expires_at - EXPIRY_MARGIN_SECONDS <= time.time():
        state = refresh(settings, state)
    with httpx.Client(base_url=settings.airflow_url, timeout=30) as client:
        response = client.request(method, path, headers=bearer(state), **kwargs)
        if response.status_code == 401:
            print(f"agent: Airflow refused the token ({detail_of(response)}); refreshing", file=sys.stderr)
            state = refresh(settings, state)
            response = client.request(method, path, headers=bearer(state), **kwargs)
    if response.status_code == 403:
        raise AgentError(f"Airflow refused (403): not within what the person approved ({state.scope})")
    if response.status_code >= 400:
        raise AgentError(f"Airflow answered {response.status_code}: {detail_of(response)}")
    return response


def bearer(state: State) -> dict[str, str]:
    return {"Authorization": f"Bearer {state.access_token}"}


def detail_of(response: httpx.Response) -> str:
    try:
        return str(response.json().get("detail", response.text[:200]))
    except ValueError:
        return response.text[:200]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="agent.py", description="An agent acting on Airflow for a person.")
    commands = parser.add_subparsers(dest="command", required=True)
    login_parser = commands.add_parser("login", help="ask a person to approve this agent's access")
    login_parser.add_argument(
        "--scope", help="space-separated dag:<read|trigger|clear>:<id=GLOB|tag=TAG> items"
    )
    commands.add_parser("dags", help="list the DAGs the approval covers")
    trigger_parser = commands.add_parser("trigger", help="trigger a DAG run for the person")
    trigger_parser.add_argument("dag_id")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    try:
        if args.command == "login":
            login(settings, args.scope or settings.scope)
        elif args.command == "dags":
            for dag in call_airflow(settings, "GET", "/api/v2/dags").json()["dags"]:
                print(dag["dag_id"])
        else:
            path = f"/api/v2/dags/{args.dag_id}/dagRuns"
            run = call_airflow(settings, "POST", path, json={"logical_date": None}).json()
            print(f"{run['dag_id']} {run['dag_run_id']} triggered by {run['triggering_user_name']}")
    except AgentError as err:
        print(f"agent: {err}", file=sys.stderr)
        return 1
    except httpx.TransportError as err:
        print(f"agent: cannot reach {err.request.url}: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
