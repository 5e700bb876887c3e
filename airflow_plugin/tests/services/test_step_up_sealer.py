"""The step-up seal: authenticated encryption of the person's token, bound to them, short-lived."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from airflow_webauthn.services.step_up import StepUpKeyError, StepUpSealer, deployment_secret, derive_key

if TYPE_CHECKING:
    from pathlib import Path

SECRET = b"jwt-secret:a-deployment-secret-shared-by-every-api-server"
TOKEN = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJhZGEifQ.c2lnbmF0dXJl"


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_seal_then_open_for_the_same_user() -> None:
    """The sealed token comes back, for the user it was sealed for."""
    sealer = StepUpSealer(secret=SECRET)
    blob = sealer.seal(user_id="u-1", token=TOKEN, max_age_seconds=300)
    assert sealer.open(blob, user_id="u-1") == TOKEN


def test_the_blob_does_not_reveal_the_token() -> None:
    """Encrypted, not encoded: neither the token nor its parts are readable in the cookie value."""
    blob = StepUpSealer(secret=SECRET).seal(user_id="u-1", token=TOKEN, max_age_seconds=300)
    raw = base64.urlsafe_b64decode(blob + "=" * (-len(blob) % 4))
    for part in TOKEN.split("."):
        assert part.encode() not in raw
        assert part not in blob


def test_another_user_cannot_open_it() -> None:
    """Bound to the user id (associated data): a blob copied into another session does not open."""
    sealer = StepUpSealer(secret=SECRET)
    blob = sealer.seal(user_id="u-1", token=TOKEN, max_age_seconds=300)
    assert sealer.open(blob, user_id="u-2") is None


@pytest.mark.parametrize("position", [0, 5, 20, -1])
def test_any_changed_character_fails(position: int) -> None:
    """Authenticated encryption: flipping any part of the blob makes it unusable."""
    sealer = StepUpSealer(secret=SECRET)
    blob = sealer.seal(user_id="u-1", token=TOKEN, max_age_seconds=300)
    flipped = "A" if blob[position] != "A" else "B"
    tampered = blob[:position] + flipped + (blob[position + 1 :] if position != -1 else "")
    assert sealer.open(tampered, user_id="u-1") is None


@pytest.mark.parametrize("garbage", [None, "", "not base64 !", "QUJD", "x" * 9000])
def test_garbage_does_not_open_or_raise(garbage: str | None) -> None:
    """Whatever arrives in the cookie, open() answers None instead of raising."""
    assert StepUpSealer(secret=SECRET).open(garbage, user_id="u-1") is None


def test_it_expires() -> None:
    """After max_age the token is not released, whatever the browser still sends."""
    clock = Clock()
    sealer = StepUpSealer(secret=SECRET, clock=clock)
    blob = sealer.seal(user_id="u-1", token=TOKEN, max_age_seconds=300)
    clock.now += 299
    assert sealer.open(blob, user_id="u-1") == TOKEN
    clock.now += 1
    assert sealer.open(blob, user_id="u-1") is None


def test_another_deployment_cannot_open_it() -> None:
    """The key is derived from the deployment secret: another secret, no token."""
    blob = StepUpSealer(secret=SECRET).seal(user_id="u-1", token=TOKEN, max_age_seconds=300)
    assert StepUpSealer(secret=SECRET + b"x").open(blob, user_id="u-1") is None


def test_every_api_server_derives_the_same_key() -> None:
    """Same secret, same key: any api-server of the deployment opens what another sealed."""
    blob = StepUpSealer(secret=SECRET).seal(user_id="u-1", token=TOKEN, max_age_seconds=300)
    assert StepUpSealer(secret=SECRET).open(blob, user_id="u-1") == TOKEN
    assert derive_key(SECRET) == derive_key(SECRET)
    assert derive_key(SECRET) != SECRET[:32]  # derived (HKDF), not the secret itself


def test_a_short_secret_is_refused() -> None:
    """No weak keys: a secret shorter than 16 bytes is refused clearly."""
    with pytest.raises(StepUpKeyError):
        derive_key(b"short")


def test_deployment_secret_is_airflows_jwt_secret() -> None:
    """With a symmetric Airflow setup, the key comes from [api_auth] jwt_secret (shared by api-servers)."""
    from airflow.configuration import conf

    assert deployment_secret() == b"jwt-secret:" + conf.get("api_auth", "jwt_secret").encode()


def test_deployment_secret_with_asymmetric_airflow_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With jwt_private_key_path, the (shared) private key is the secret, not a per-process random value."""
    key = ed25519.Ed25519PrivateKey.generate()
    path = tmp_path / "airflow-jwt.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    monkeypatch.setenv("AIRFLOW__API_AUTH__JWT_PRIVATE_KEY_PATH", str(path))
    first = deployment_secret()
    assert first.startswith(b"private-key:")
    assert first == deployment_secret()
    other = tmp_path / "other.pem"
    other.write_bytes(
        ed25519.Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    monkeypatch.setenv("AIRFLOW__API_AUTH__JWT_PRIVATE_KEY_PATH", str(other))
    assert deployment_secret() != first


def test_unreadable_private_key_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A missing key file is refused with a message naming the option."""
    monkeypatch.setenv("AIRFLOW__API_AUTH__JWT_PRIVATE_KEY_PATH", str(tmp_path / "missing.pem"))
    with pytest.raises(StepUpKeyError, match="jwt_private_key_path"):
        deployment_secret()


def test_the_user_binding_is_authenticated_not_only_stated() -> None:
    """The user id is associated data of the encryption: a blob sealed for u-1 never opens for u-2,
    even if its (encrypted) payload were to name u-2."""
    import json
    import os
    import time

    from airflow_webauthn.services import step_up

    sealer = StepUpSealer(secret=SECRET)
    nonce = os.urandom(12)
    payload = json.dumps({"sub": "u-2", "exp": int(time.time()) + 300, "tok": TOKEN}).encode()
    sealed = sealer._aead.encrypt(nonce, payload, step_up._aad("u-1", ""))
    blob = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
    assert sealer.open(blob, user_id="u-2") is None


def test_a_blob_opens_only_in_the_sign_in_it_was_sealed_for() -> None:
    """Bound to the session, not just the user: after logout and a new sign-in (new session id) the old
    step-up cookie of the same person is worthless."""
    sealer = StepUpSealer(secret=SECRET)
    blob = sealer.seal(user_id="u-1", session_id="sid-a", token=TOKEN, max_age_seconds=300)
    assert sealer.open(blob, user_id="u-1", session_id="sid-a") == TOKEN
    assert sealer.open(blob, user_id="u-1", session_id="sid-b") is None
    assert sealer.open(blob, user_id="u-1") is None
