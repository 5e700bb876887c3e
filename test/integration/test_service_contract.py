"""The plugin's unit tests use an in-memory ``FakeAuthService``; this proves it answers like the REAL one.

The same requests go to both, and what matters to the plugin must match: the status, the plugin's
error for a refusal (read through the gateway's one table, ``services.errors.refusal_from``, so the
fake must send the same ``code``), decoys instead of "no such user", and the fields the plugin reads
from status records. A fake that drifts from the service fails here, not in production.
"""

from __future__ import annotations

import importlib.util
import re
import sys
import uuid
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from airflow_webauthn.services.errors import SERVICE_CODES, refusal_from
from support.soft_authenticator import SoftAuthenticator
from support.stack import REPO_ROOT, client_credentials_token
from test_passkey_login import enroll

if TYPE_CHECKING:
    from collections.abc import Iterator

    from support.stack import Stack


def _load_fake() -> Any:
    """``airflow_plugin/tests/support.py`` under its own name (``support`` is this suite's package)."""
    path = REPO_ROOT / "airflow_plugin/tests/support.py"
    spec = importlib.util.spec_from_file_location("plugin_unit_support", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


fake_support = _load_fake()


class Both:
    """One request, sent to the real service and to the fake; answers compared by the tests."""

    def __init__(self, real: httpx.Client, fake: httpx.Client) -> None:
        self.real, self.fake = real, fake

    def send(
        self, method: str, path: str, **kwargs: Any
    ) -> tuple[httpx.Response, httpx.Response]:
        real = self.real.request(method, path, **kwargs)
        fake = self.fake.request(method, path, **kwargs)
        return real, fake


@pytest.fixture(scope="module")
def both(stack: Stack) -> Iterator[Both]:
    fake = fake_support.FakeAuthService()
    with (
        httpx.Client(base_url=stack.service.url, timeout=30) as real,
        httpx.Client(
            base_url=fake_support.SERVICE_URL,
            transport=httpx.MockTransport(fake.handle),
        ) as double,
    ):
        yield Both(real, double)


def _same_refusal(real: httpx.Response, fake: httpx.Response) -> None:
    assert real.status_code == fake.status_code, (real.text, fake.text)
    assert real.status_code >= 400
    said_real, said_fake = (
        refusal_from(real.status_code, real.json()),
        refusal_from(fake.status_code, fake.json()),
    )
    assert said_real.error == said_fake.error, (real.json(), fake.json())
    if "code" in real.json():
        assert real.json()["code"] == fake.json().get("code")


def test_unknown_usernames_get_decoy_options_not_a_404(both: Both) -> None:
    """Neither reveals whether a username exists: options with (decoy) credentials, stable per name.

    The real service shapes decoys like a real person's list (one or more credentials), so the count
    is not pinned; that the same name always gets the same list is."""
    name = f"nobody-{uuid.uuid4().hex[:8]}"
    real, fake = both.send(
        "POST", "/v1/authentication/options", json={"username": name}
    )
    assert real.status_code == fake.status_code == 200
    for answer in (real.json(), fake.json()):
        assert len(answer["allowCredentials"]) >= 1
        assert answer["challenge"]
    again, _ = both.send("POST", "/v1/authentication/options", json={"username": name})
    ids = [c["id"] for c in real.json()["allowCredentials"]]
    assert [c["id"] for c in again.json()["allowCredentials"]] == ids


def test_step_up_options_require_user_verification(both: Both) -> None:
    """The step-up's options ask for PIN or biometrics on both (the plugin's step-up relies on it)."""
    real, fake = both.send(
        "POST",
        "/v1/authentication/options",
        json={"username": "ada", "userVerification": "required"},
    )
    assert real.status_code == fake.status_code == 200
    assert (
        real.json()["userVerification"] == fake.json()["userVerification"] == "required"
    )


def test_an_assertion_by_an_unknown_passkey_is_the_same_refusal(
    both: Both, stack: Stack
) -> None:
    stranger = SoftAuthenticator(alg="EdDSA")
    stranger.create(
        {
            "rp": {"id": "localhost"},
            "user": {"id": "dXNlcg"},
            "challenge": "Y2hhbGxlbmdl",
            "pubKeyCredParams": [{"alg": -8, "type": "public-key"}],
        },
        origin=stack.origin,
    )
    options = both.real.post("/v1/authentication/options", json={}).json()
    assertion = stranger.get(options, origin=stack.origin)
    real, fake = both.send(
        "POST", "/v1/authentication/verify", json={"response": assertion}
    )
    _same_refusal(real, fake)


def test_a_bad_invite_is_the_same_refusal(both: Both) -> None:
    real, fake = both.send(
        "POST", "/v1/registration/options", json={"inviteToken": "not-an-invite-token"}
    )
    _same_refusal(real, fake)


def test_a_wrong_client_secret_is_invalid_client(both: Both, stack: Stack) -> None:
    form = {
        "grant_type": "client_credentials",
        "client_id": "it-viewer",
        "client_secret": "wrong",
    }
    real, fake = both.send("POST", "/v1/oauth/token", data=form)
    _same_refusal(real, fake)
    assert real.json()["error"] == fake.json()["error"] == "invalid_client"


def test_status_reads_without_a_token_are_the_same_refusal(both: Both) -> None:
    real, fake = both.send("GET", "/v1/admin/service-accounts")
    _same_refusal(real, fake)


def test_status_records_carry_what_the_plugin_reads(both: Both, stack: Stack) -> None:
    """User records (disabled, groups, passkeys with revokedAt/flaggedAt), a missing user (404
    not_found), and the service-account list (id, clientId, disabled): same shapes on both sides."""
    client_id, secret = (stack.airflow.service_credentials or "").split(":", 1)
    real_token = client_credentials_token(
        stack.service.url, {"clientId": client_id, "clientSecret": secret}
    )
    fake_token = both.fake.post(
        "/v1/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": fake_support.ADMIN_CLIENT_ID,
            "client_secret": fake_support.ADMIN_CLIENT_SECRET,
        },
    ).json()["access_token"]
    real_auth = {"Authorization": f"Bearer {real_token}"}
    fake_auth = {"Authorization": f"Bearer {fake_token}"}

    missing = str(uuid.uuid4())
    real = both.real.get(f"/v1/admin/users/{missing}", headers=real_auth)
    fake = both.fake.get(f"/v1/admin/users/{missing}", headers=fake_auth)
    _same_refusal(real, fake)

    username = f"contract-{uuid.uuid4().hex[:8]}"
    stack.invites[username] = stack.service.cli(
        "invite", "create", "--username", username, "--groups", "it-users"
    )
    with httpx.Client(base_url=stack.origin, timeout=30) as browser:
        enroll(browser, stack, username, SoftAuthenticator(alg="EdDSA"))
    # Airflow's credential (sessions:read) may read one user's status, by id or username, and list nothing.
    person = both.real.get(f"/v1/admin/users/{username}", headers=real_auth).json()
    real_record = both.real.get(
        f"/v1/admin/users/{person['id']}", headers=real_auth
    ).json()
    assert real_record["passkeys"], real_record
    fake_service = fake_support.FakeAuthService()
    fake_record = fake_service.add_user("u-1")
    wanted = {"id", "username", "disabled", "groups", "passkeys"}
    assert wanted <= real_record.keys()
    assert wanted <= fake_record.keys()
    passkey_fields = {"id", "revokedAt", "flaggedAt"}
    assert all(passkey_fields <= passkey.keys() for passkey in real_record["passkeys"])
    assert all(passkey_fields <= passkey.keys() for passkey in fake_record["passkeys"])

    real_accounts = both.real.get(
        "/v1/admin/service-accounts", headers=real_auth
    ).json()
    fake_accounts = both.fake.get(
        "/v1/admin/service-accounts", headers=fake_auth
    ).json()
    for accounts in (real_accounts, fake_accounts):
        assert accounts
        assert all(
            {"id", "clientId", "disabled"} <= account.keys() for account in accounts
        )


def test_every_service_error_code_has_a_row_in_the_plugins_table() -> None:
    """Each ``ErrorCode`` the service can send (libs/errors/src/app-error.ts) is named in the plugin's one
    table: a code added to the service without a row here would be read as a bare HTTP status."""
    source = (REPO_ROOT / "libs/errors/src/app-error.ts").read_text()
    enum = source[source.index("export enum ErrorCode") :].split("}", 1)[0]
    codes = set(re.findall(r"=\s*'([a-z_]+)'", enum))
    assert "idp_unavailable" in codes  # the parse found the enum
    assert codes - set(SERVICE_CODES) == set()
