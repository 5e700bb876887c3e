"""Hand-built JWTs for the forged-token tests (no JWT library: every byte is what the attacker chose)."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import TYPE_CHECKING, Any

from support.soft_authenticator import b64url, b64url_decode

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import ed25519


def segment(obj: dict[str, Any]) -> str:
    return b64url(json.dumps(obj, separators=(",", ":")).encode())


def parts(token: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    """(header, claims, signature segment) of a compact JWS, unverified."""
    header, payload, signature = token.split(".")
    return json.loads(b64url_decode(header)), json.loads(b64url_decode(payload)), signature


def unsigned(header: dict[str, Any], claims: dict[str, Any]) -> str:
    return f"{segment(header)}.{segment(claims)}."


def with_parts(
    token: str, *, header: dict[str, Any] | None = None, claims: dict[str, Any] | None = None
) -> str:
    """Replace the header and/or the claims of a real token, keeping its original signature."""
    old_header, old_payload, signature = token.split(".")
    return ".".join(
        (
            segment(header) if header is not None else old_header,
            segment(claims) if claims is not None else old_payload,
            signature,
        )
    )


def sign_hs256(header: dict[str, Any], claims: dict[str, Any], secret: bytes) -> str:
    signing_input = f"{segment(header)}.{segment(claims)}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(mac)}"


def sign_hs512(header: dict[str, Any], claims: dict[str, Any], secret: bytes) -> str:
    signing_input = f"{segment(header)}.{segment(claims)}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha512).digest()
    return f"{signing_input}.{b64url(mac)}"


def sign_ed25519(header: dict[str, Any], claims: dict[str, Any], key: ed25519.Ed25519PrivateKey) -> str:
    signing_input = f"{segment(header)}.{segment(claims)}"
    return f"{signing_input}.{b64url(key.sign(signing_input.encode()))}"
