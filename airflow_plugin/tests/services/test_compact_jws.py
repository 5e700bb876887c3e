"""The one read of a service token: strict about its form, and what it parsed is what the signature covers.

Tokens here are signed for real with the fake service's Ed25519 key (or P-256), so a refusal is the read's
or the claims check's doing, never a bad signature's, unless the test says so.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import jwt
import pytest
from test_token_verifier import make_verifier

from airflow_webauthn.services.compact_jws import read_compact_jws

from support import AUDIENCE, ISSUER, FakeAuthService, SigningKey, mint, p256_key, user_claims

pytestmark = pytest.mark.anyio


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def sign_raw(key: SigningKey, header: bytes, payload: bytes) -> str:
    """Sign exactly these header and payload bytes with the service's Ed25519 key (no JSON re-encoding)."""
    signing_input = f"{b64(header)}.{b64(payload)}"
    return f"{signing_input}.{b64(key.private_key.sign(signing_input.encode()))}"


def header_bytes(key: SigningKey, **extra: Any) -> bytes:
    return json.dumps({"alg": "EdDSA", "typ": "at+jwt", "kid": key.kid, **extra}).encode()


async def test_the_signature_covers_the_bytes_the_claims_were_read_from() -> None:
    """The read keeps the header and payload segments exactly as sent; a genuine token verifies."""
    service = FakeAuthService()
    token = mint(service.keys[0])
    jws = read_compact_jws(token)
    assert jws.signing_input == token.rsplit(".", 1)[0].encode()
    assert jws.claims["iss"] == ISSUER
    assert (await make_verifier(service).verify(token))["sub"] == user_claims()["sub"]


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda t: t + "=", id="padding"),
        pytest.param(lambda t: t.replace(".", "=.", 1), id="padding-in-header"),
        pytest.param(lambda t: " " + t, id="leading-space"),
        pytest.param(lambda t: t + "\n", id="trailing-newline"),
        pytest.param(lambda t: t[:10] + "+" + t[11:], id="standard-base64-plus"),
        pytest.param(lambda t: t[:10] + "/" + t[11:], id="standard-base64-slash"),
        pytest.param(lambda t: t + ".", id="four-segments-empty"),
        pytest.param(lambda t: "." + t.split(".", 1)[1], id="empty-header"),
        pytest.param(lambda t: t + ".e30", id="four-segments"),
        pytest.param(lambda t: t.rsplit(".", 1)[0] + ".A", id="signature-one-mod-four"),
        pytest.param(lambda t: "é" + t, id="non-ascii"),
    ],
)
async def test_a_token_not_in_strict_compact_form_is_refused(mangle: Any) -> None:
    """Only the unpadded base64url alphabet in three segments (RFC 7515 §2, §7.1)."""
    service = FakeAuthService()
    token = mangle(mint(service.keys[0]))
    with pytest.raises(jwt.DecodeError):
        read_compact_jws(token).signature()
    with pytest.raises(jwt.InvalidTokenError):
        await make_verifier(service).verify(token)


async def test_a_second_spelling_of_a_genuine_signature_is_refused() -> None:
    """The last base64url character of a 64-byte signature carries 4 unused bits: setting one gives the same
    bytes under another spelling (another cache key). Only the canonical spelling is read."""
    service = FakeAuthService()
    token = mint(service.keys[0])
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(token[-1])
    respelled = token[:-1] + alphabet[last | 1]
    assert respelled != token
    assert base64.urlsafe_b64decode(respelled.rsplit(".", 1)[1] + "==") == read_compact_jws(token).signature()
    with pytest.raises(jwt.DecodeError, match="canonical"):
        await make_verifier(service).verify(respelled)


@pytest.mark.parametrize(
    ("header", "payload"),
    [
        pytest.param(b"[]", None, id="header-array"),
        pytest.param(b"not json", None, id="header-not-json"),
        pytest.param(b"\xff\xfe", None, id="header-not-utf8"),
        pytest.param(None, b"[1]", id="payload-array"),
        pytest.param(None, b'"a string"', id="payload-string"),
        pytest.param(None, b"[" * 100_000 + b"]" * 100_000, id="payload-nested-deeply"),
    ],
)
async def test_a_header_or_payload_that_is_not_a_json_object_is_refused(
    header: bytes | None, payload: bytes | None
) -> None:
    """Even correctly signed, a header or payload must be a JSON object (a DecodeError, not a 500)."""
    service = FakeAuthService()
    key = service.keys[0]
    token = sign_raw(key, header or header_bytes(key), payload or json.dumps(user_claims()).encode())
    with pytest.raises(jwt.DecodeError):
        await make_verifier(service).verify(token)


@pytest.mark.parametrize("constant", ["Infinity", "NaN", "-Infinity"])
async def test_a_lifetime_that_is_not_a_number_is_refused(constant: str) -> None:
    """JSON has no Infinity: a signed exp of Infinity would never expire, so the read refuses it."""
    service = FakeAuthService()
    key = service.keys[0]
    claims = json.dumps(user_claims()).encode()
    payload = claims.replace(b'"exp": ', f'"exp": {constant}, "was": '.encode())
    with pytest.raises(jwt.DecodeError, match="JSON"):
        await make_verifier(service).verify(sign_raw(key, header_bytes(key), payload))


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param({"crit": ["exp"], "exp": 1}, id="crit-unknown"),
        pytest.param({"crit": ["b64"], "b64": True}, id="crit-b64"),
        pytest.param({"b64": False}, id="b64-false"),
    ],
)
async def test_a_token_asking_for_a_jws_extension_is_refused(extra: dict[str, Any]) -> None:
    """We implement no JWS extension: a signed token listing one as critical, or using b64, is refused."""
    service = FakeAuthService()
    key = service.keys[0]
    token = sign_raw(key, header_bytes(key, **extra), json.dumps(user_claims()).encode())
    with pytest.raises(jwt.DecodeError, match="extension"):
        await make_verifier(service).verify(token)


@pytest.mark.parametrize("length", [0, 1, 32, 63, 65, 128])
async def test_a_signature_of_the_wrong_length_is_an_invalid_signature(length: int) -> None:
    """A missing, truncated or padded signature is refused as such (for EdDSA and for ES256), never a 500."""
    signature = b64(bytes([1]) * length)
    for key in (FakeAuthService().keys[0], p256_key()):
        service = FakeAuthService(keys=[key])
        signing_input = mint(key).rsplit(".", 1)[0]
        with pytest.raises(jwt.InvalidSignatureError):
            await make_verifier(service).verify(f"{signing_input}.{signature}")


@pytest.mark.parametrize(
    ("aud", "accepted"),
    [
        pytest.param([AUDIENCE, "other"], True, id="list-with-ours"),
        pytest.param(["other"], False, id="list-without-ours"),
        pytest.param([AUDIENCE, 7], False, id="list-with-a-number"),
        pytest.param({"aud": AUDIENCE}, False, id="object"),
        pytest.param([], False, id="empty-list"),
        pytest.param("", False, id="empty-string"),
    ],
)
async def test_audience_as_a_string_or_a_list_of_strings(aud: object, accepted: bool) -> None:
    """RFC 7519 §4.1.3: our audience in a list of strings is ours; any other shape is refused."""
    service = FakeAuthService()
    token = mint(service.keys[0], user_claims(aud=aud))
    if accepted:
        assert (await make_verifier(service).verify(token))["aud"] == aud
        return
    with pytest.raises(jwt.InvalidAudienceError):
        await make_verifier(service).verify(token)


async def test_an_issuer_that_is_not_a_string_is_refused() -> None:
    """A signed token whose iss is not our issuer's string is refused, whatever its type."""
    service = FakeAuthService()
    key = service.keys[0]
    for iss in ([ISSUER], {"iss": ISSUER}, 1):
        token = sign_raw(key, header_bytes(key), json.dumps(user_claims(iss=iss)).encode())
        with pytest.raises(jwt.InvalidIssuerError):
            await make_verifier(service).verify(token)


async def test_a_signature_is_checked_before_any_claim_is_trusted() -> None:
    """An expired token with a forged signature reports the signature, not the expiry."""
    service = FakeAuthService()
    expired = mint(service.keys[0], user_claims(exp=int(time.time()) - 3600))
    header, payload, _ = expired.split(".")
    forged = f"{header}.{payload}.{b64(bytes(64))}"
    with pytest.raises(jwt.InvalidSignatureError):
        await make_verifier(service).verify(forged)
