"""Step-up ("confirm it's you"): keeping a fresh service token for a few minutes, sealed in a cookie.

After the signed-in person repeats a passkey assertion, the auth service issues them a fresh access
token. Airflow needs it for the next few minutes to call the service *as that person* (self-service
and admin actions), but page JavaScript must never see it. So it travels as an httponly cookie whose
value is the token encrypted with AES-GCM (authenticated: a changed byte fails to open) under a key
that every api-server of the deployment derives the same way (HKDF over Airflow's own JWT signing
secret), with the session user's id as associated data: a blob lifted into another person's browser
does not open for them.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import time
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

if TYPE_CHECKING:
    from collections.abc import Callable

STEP_UP_COOKIE = "_webauthn_step_up"
# The service accepts a token for a Bearer registration only this long after the assertion; admin and
# self-service actions use the same window (like GitHub's sudo mode, but shorter).
STEP_UP_MAX_AGE_SECONDS = 300

_HKDF_INFO = b"airflow-webauthn step-up cookie v1"
_AAD_PREFIX = b"airflow-webauthn step-up v1\x00"
_NONCE_BYTES = 12


class StepUpKeyError(RuntimeError):
    """No deployment-wide secret to derive the cookie key from."""


def derive_key(secret: bytes) -> bytes:
    """A 256-bit AES key from a deployment secret; the info label keeps it apart from other uses."""
    if len(secret) < 16:
        raise StepUpKeyError("the secret to derive the step-up key from is too short")
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO)
    return hkdf.derive(secret)


def deployment_secret() -> bytes:
    """The secret every api-server of this deployment already shares: Airflow's JWT signing key.

    With ``[api_auth] jwt_private_key_path`` (asymmetric Airflow tokens) that is the private key file,
    which every api-server must hold to sign sessions; otherwise ``[api_auth] jwt_secret`` (which
    Airflow itself requires to be the same on every api-server).
    """
    from airflow.configuration import conf

    path = conf.get("api_auth", "jwt_private_key_path", fallback=None)
    if path:
        try:
            with open(path, "rb") as handle:
                private_key = serialization.load_pem_private_key(handle.read(), password=None)
        except (OSError, ValueError, TypeError) as err:
            raise StepUpKeyError(f"cannot read [api_auth] jwt_private_key_path: {err}") from err
        der = private_key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        return b"private-key:" + der
    from airflow.api_fastapi.auth.tokens import get_signing_key

    # Same call Airflow makes to sign its own tokens, so the same value (random per process if unset,
    # in which case Airflow's own sessions do not survive between api-servers either).
    return b"jwt-secret:" + get_signing_key("api_auth", "jwt_secret").encode()


class StepUpSealer:
    """Seals a service token to a user id for a short time; opens it only for that user, unexpired."""

    def __init__(self, *, secret: bytes, clock: Callable[[], float] = time.time) -> None:
        self._aead = AESGCM(derive_key(secret))
        self._clock = clock

    def seal(self, *, user_id: str, token: str, max_age_seconds: int, session_id: str = "") -> str:
        """``session_id`` binds the blob to one sign-in: it opens in no other session of the user."""
        expires_at = int(self._clock()) + max_age_seconds
        plaintext = json.dumps({"sub": user_id, "exp": expires_at, "tok": token}).encode()
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext, _aad(user_id, session_id))
        return base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")

    def open(self, blob: str | None, *, user_id: str, session_id: str = "") -> str | None:
        """The token sealed in ``blob`` for this user and session, or None (missing, tampered, other
        user or session, expired)."""
        if not blob or len(blob) > 8192:
            return None
        try:
            raw = base64.urlsafe_b64decode(blob + "=" * (-len(blob) % 4))
            if base64.urlsafe_b64encode(raw).decode().rstrip("=") != blob:
                return None  # non-canonical encoding: not a value this sealer produced
            plaintext = self._aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], _aad(user_id, session_id))
            data = json.loads(plaintext)
        except (binascii.Error, ValueError, InvalidTag):
            return None
        if not isinstance(data, dict) or data.get("sub") != user_id:
            return None
        expires_at, token = data.get("exp"), data.get("tok")
        if not isinstance(expires_at, int) or not isinstance(token, str) or self._clock() >= expires_at:
            return None
        return token


def _aad(user_id: str, session_id: str) -> bytes:
    return _AAD_PREFIX + user_id.encode() + b"\x00" + session_id.encode()
