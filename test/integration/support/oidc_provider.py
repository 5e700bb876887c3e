"""The real OpenID provider of the test suites (test/support/oidc-provider.mjs, the certified ``oidc-provider``
package in its own Node process on loopback), started and stopped from Python."""

from __future__ import annotations

import json
import os
import subprocess
from typing import TYPE_CHECKING, Any

import httpx

from support.stack import REPO_ROOT

if TYPE_CHECKING:
    from pathlib import Path


class Provider:
    """``accounts``: {id: claims}; ``login_form``: a sign-in page for a real browser instead of ``login_hint``;
    ``backchannel_logout_uri``: where the provider posts logout tokens when a person signs out there;
    ``log``: a file for what the provider says on stderr (back-channel logouts sent or failed)."""

    def __init__(
        self,
        redirect_uri: str,
        *,
        accounts: dict[str, dict[str, Any]],
        backchannel_logout_uri: str | None = None,
        login_form: bool = False,
        log: Path | None = None,
    ) -> None:
        env = {
            "PATH": os.environ["PATH"],
            "REDIRECT_URI": redirect_uri,
            "OIDC_TEST_ACCOUNTS": json.dumps(accounts),
            **({"BACKCHANNEL_LOGOUT_URI": backchannel_logout_uri} if backchannel_logout_uri else {}),
            **({"OIDC_TEST_LOGIN_FORM": "1"} if login_form else {}),
        }
        self.process = subprocess.Popen(
            ["node", str(REPO_ROOT / "test/support/oidc-provider.mjs")],
            env=env,
            stdout=subprocess.PIPE,
            stderr=log.open("ab") if log else subprocess.DEVNULL,
            text=True,
        )
        assert self.process.stdout is not None
        info = json.loads(self.process.stdout.readline())
        self.issuer: str = info["issuer"]
        self.client_id: str = info["clientId"]
        self.client_secret: str = info["clientSecret"]

    def service_env(self, **extra: str) -> dict[str, str]:
        """The auth service's settings for signing in through this provider."""
        return {
            "OIDC_ISSUER": self.issuer,
            "OIDC_CLIENT_ID": self.client_id,
            "OIDC_CLIENT_SECRET": self.client_secret,
            "OIDC_ALLOW_HTTP": "true",
            **extra,
        }

    def logout_token(self, sub: str, mode: str = "") -> str:
        """A back-channel logout token signed by the provider (spoiled, or naming only the provider session
        ``sid-only``, as ``mode`` says: see test/support/oidc-provider.mjs)."""
        answer = httpx.post(f"{self.issuer}/__test/logout-token", json={"sub": sub, "mode": mode}, timeout=30)
        token: str = answer.json()["logout_token"]
        return token

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
