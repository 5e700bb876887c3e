"""One strict read of a compact JWS (RFC 7515 §7.1): the token's header and payload parsed once.

The token verifier routes a token by its stated issuer, finds the key by its stated ``kid``, checks the
signature over the very bytes this read kept, and only then trusts the claims it parsed. Before, routing,
the header read and PyJWT's ``jwt.decode`` each parsed the token again; PyJWT also checks the base64url
alphabet one character at a time in Python, which alone cost half a signature check. Here one regular
expression (in C) does that check for the whole token.

As strict as PyJWT's decode, and stricter where the service's tokens never need the latitude:
- three segments (header and payload not empty), base64url alphabet only, unpadded (RFC 7515 §2: no
  ``=``, no whitespace);
- each segment canonical (re-encoding gives it back): a token has one spelling, so its SHA-256 names it;
- header and payload are JSON objects; ``NaN``/``Infinity`` are refused (an ``exp`` of Infinity never ends);
- no ``crit`` and no ``b64``: we implement no JWS extension, and RFC 7515 §4.1.11 says to refuse a token
  that lists one as critical (PyJWT knows ``b64`` alone, for detached payloads, which ours never are).

Every failure is a ``jwt.DecodeError`` (an ``InvalidTokenError``: Airflow answers 401/403, never 500).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any

import jwt

# The signature may be empty here (alg "none" has none): the verifier refuses that by its algorithm.
_COMPACT = re.compile(r"([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]*)")
_UNSUPPORTED_HEADERS = ("crit", "b64")


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


# A decoder made once: json.loads(..., parse_constant=...) would build a new one on every call.
_JSON = json.JSONDecoder(parse_constant=_refuse_constant)


@dataclass(frozen=True, slots=True)
class CompactJws:
    """A token as it states itself: nothing in it is trusted before its signature checks ``signing_input``."""

    header: dict[str, Any]
    claims: dict[str, Any]
    payload: bytes  # the JSON the claims were parsed from, as signed
    signing_input: bytes
    signature_segment: str

    def signature(self) -> bytes:
        """Decoded only when a key is there to check it (routing never needs it)."""
        return _decode_segment(self.signature_segment, "signature")


def read_compact_jws(token: str) -> CompactJws:
    """Split and decode ``token``; raise ``jwt.DecodeError`` unless it is a well-formed compact JWS."""
    match = _COMPACT.fullmatch(token)
    if match is None:
        raise jwt.DecodeError("not a JWT: expected three dot-separated base64url segments")
    header_segment, payload_segment, signature_segment = match.groups()
    header = _parse_object(_decode_segment(header_segment, "header"), "header")
    for name in _UNSUPPORTED_HEADERS:
        if name in header:
            raise jwt.DecodeError(f"not accepted: header parameter {name!r} (no JWS extension is supported)")
    payload = _decode_segment(payload_segment, "payload")
    claims = _parse_object(payload, "payload")
    # The signing input is ASCII by construction (the regular expression matched it).
    signing_input = token[: len(header_segment) + 1 + len(payload_segment)].encode("ascii")
    return CompactJws(
        header=header,
        claims=claims,
        payload=payload,
        signing_input=signing_input,
        signature_segment=signature_segment,
    )


def _decode_segment(segment: str, name: str) -> bytes:
    try:
        decoded = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except binascii.Error as err:  # a length of 1 modulo 4
        raise jwt.DecodeError(f"not a JWT: {name} is not base64url") from err
    if base64.urlsafe_b64encode(decoded).rstrip(b"=") != segment.encode("ascii"):
        raise jwt.DecodeError(f"not a JWT: {name} is not canonical base64url")
    return decoded


def _parse_object(data: bytes, name: str) -> dict[str, Any]:
    try:
        value = _JSON.decode(data.decode("utf-8"))
    except (ValueError, RecursionError) as err:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise jwt.DecodeError(f"not a JWT: {name} is not JSON: {err}") from err
    if not isinstance(value, dict):
        raise jwt.DecodeError(f"not a JWT: {name} must be a JSON object")
    return value
