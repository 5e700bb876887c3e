"""A software WebAuthn authenticator (and the bit of "browser" around it) for the integration suite.

It produces REAL attestation objects (format ``none``) and REAL signed assertions with ``cryptography``
keys (Ed25519 or ES256), so the auth service's ``@simplewebauthn/server`` verification runs end to end
with nothing mocked. The CBOR encoder below is deliberately tiny and independent of the decoder the
service uses.

    authenticatorData = sha256(rpId) | flags | signCount (uint32 BE) | [aaguid | len | credId | COSE key]
    signature         = sign(authenticatorData | sha256(clientDataJSON))
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from typing import Any, Literal

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

Alg = Literal["EdDSA", "ES256"]
COSE_ALG: dict[str, int] = {"ES256": -7, "EdDSA": -8}

FLAG_UP = 0x01
FLAG_UV = 0x04
FLAG_AT = 0x40
FLAG_BE = 0x08
FLAG_BS = 0x10


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# ---- minimal CBOR (RFC 8949) encoder: ints, bytes, text, lists, maps, booleans, null ----


def _head(major: int, value: int) -> bytes:
    if value < 0:
        raise ValueError("CBOR argument must be non-negative")
    if value < 24:
        return bytes([major << 5 | value])
    for extra, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if value < 1 << (8 * size):
            return bytes([major << 5 | extra]) + value.to_bytes(size, "big")
    raise ValueError("CBOR argument too large")


def cbor_encode(value: Any) -> bytes:
    """Encode one CBOR data item (dict insertion order is kept; keys may be ints or strings)."""
    if value is False:
        return b"\xf4"
    if value is True:
        return b"\xf5"
    if value is None:
        return b"\xf6"
    if isinstance(value, int):
        return _head(0, value) if value >= 0 else _head(1, -1 - value)
    if isinstance(value, (bytes, bytearray)):
        return _head(2, len(value)) + bytes(value)
    if isinstance(value, str):
        raw = value.encode("utf-8")
        return _head(3, len(raw)) + raw
    if isinstance(value, (list, tuple)):
        return _head(4, len(value)) + b"".join(cbor_encode(item) for item in value)
    if isinstance(value, dict):
        return _head(5, len(value)) + b"".join(
            cbor_encode(k) + cbor_encode(v) for k, v in value.items()
        )
    raise TypeError(f"cannot CBOR-encode {type(value).__name__}")


# ---- keys ----


@dataclass
class SoftCredential:
    id: str  # base64url
    rp_id: str
    user_handle: str  # base64url, as given in the creation options
    alg: Alg
    private_key: ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey
    counter: int = 0

    def cose_public_key(self) -> bytes:
        if self.alg == "EdDSA":
            raw = self.private_key.public_key().public_bytes(
                serialization.Encoding.Raw, serialization.PublicFormat.Raw
            )
            return cbor_encode({1: 1, 3: -8, -1: 6, -2: raw})
        numbers = self.private_key.public_key().public_numbers()  # type: ignore[union-attr]
        return cbor_encode(
            {
                1: 2,
                3: -7,
                -1: 1,
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )

    def sign(self, data: bytes) -> bytes:
        if self.alg == "EdDSA":
            return self.private_key.sign(data)  # type: ignore[call-arg]
        return self.private_key.sign(data, ec.ECDSA(hashes.SHA256()))  # type: ignore[call-arg]

    def spki_der(self) -> bytes:
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )


def _new_key(alg: Alg) -> ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey:
    return (
        ed25519.Ed25519PrivateKey.generate()
        if alg == "EdDSA"
        else ec.generate_private_key(ec.SECP256R1())
    )


def authenticator_data(
    rp_id: str,
    *,
    flags: int,
    counter: int,
    attested: tuple[bytes, bytes, bytes] | None = None,
) -> bytes:
    """rpIdHash | flags | signCount | [aaguid | credIdLen | credId | COSE key] (AT set iff attested)."""
    data = hashlib.sha256(rp_id.encode()).digest()
    data += bytes([flags | (FLAG_AT if attested else 0)]) + counter.to_bytes(4, "big")
    if attested:
        aaguid, credential_id, cose_key = attested
        data += (
            aaguid + len(credential_id).to_bytes(2, "big") + credential_id + cose_key
        )
    return data


def client_data_json(*, type_: str, challenge: str, origin: str) -> bytes:
    # Member order as browsers send it.
    return json.dumps(
        {"type": type_, "challenge": challenge, "origin": origin, "crossOrigin": False},
        separators=(",", ":"),
    ).encode()


class SoftAuthenticator:
    """Holds discoverable credentials; ``create`` ~ navigator.credentials.create, ``get`` ~ .get."""

    def __init__(
        self,
        *,
        alg: Alg = "EdDSA",
        user_verification: bool = True,
        aaguid: str | None = None,
        synced: bool = False,
    ) -> None:
        """``aaguid``: the model id it reports (default all zeros); ``synced``: a backed-up (BE+BS) passkey."""
        self.alg = alg
        self.user_verification = user_verification
        self.aaguid = bytes.fromhex(aaguid.replace("-", "")) if aaguid else bytes(16)
        self.synced = synced
        self.credentials: list[SoftCredential] = []

    def _flags(self) -> int:
        backup = FLAG_BE | FLAG_BS if self.synced else 0
        return FLAG_UP | (FLAG_UV if self.user_verification else 0) | backup

    def create(self, options: dict[str, Any], *, origin: str) -> dict[str, Any]:
        """Answer PublicKeyCredentialCreationOptionsJSON with RegistrationResponseJSON (attestation none)."""
        rp_id = options["rp"]["id"]
        offered = [param["alg"] for param in options.get("pubKeyCredParams", [])]
        if COSE_ALG[self.alg] not in offered:
            raise ValueError(
                f"the relying party does not offer {self.alg} (offered {offered})"
            )
        excluded = {item["id"] for item in options.get("excludeCredentials", [])}
        if any(
            cred.id in excluded and cred.rp_id == rp_id for cred in self.credentials
        ):
            raise ValueError(
                "InvalidStateError: a credential in excludeCredentials is already held"
            )

        raw_id = os.urandom(32)
        credential = SoftCredential(
            id=b64url(raw_id),
            rp_id=rp_id,
            user_handle=options["user"]["id"],
            alg=self.alg,
            private_key=_new_key(self.alg),
        )
        auth_data = authenticator_data(
            rp_id,
            flags=self._flags(),
            counter=0,
            attested=(self.aaguid, raw_id, credential.cose_public_key()),
        )
        client_data = client_data_json(
            type_="webauthn.create", challenge=options["challenge"], origin=origin
        )
        attestation = cbor_encode({"fmt": "none", "attStmt": {}, "authData": auth_data})
        self.credentials = [
            c
            for c in self.credentials
            if not (c.rp_id == rp_id and c.user_handle == credential.user_handle)
        ] + [credential]
        return {
            "id": credential.id,
            "rawId": credential.id,
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "attestationObject": b64url(attestation),
                "authenticatorData": b64url(auth_data),
                "transports": ["internal"],
                "publicKeyAlgorithm": COSE_ALG[self.alg],
                "publicKey": b64url(credential.spki_der()),
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }

    def get(self, options: dict[str, Any], *, origin: str) -> dict[str, Any]:
        """Answer PublicKeyCredentialRequestOptionsJSON with an AuthenticationResponseJSON."""
        rp_id = options["rpId"]
        allowed = {item["id"] for item in options.get("allowCredentials") or []}
        candidates = [
            c
            for c in self.credentials
            if c.rp_id == rp_id and (not allowed or c.id in allowed)
        ]
        if not candidates:
            raise ValueError(f"NotAllowedError: no credential for {rp_id}")
        credential = candidates[0]
        credential.counter += 1
        auth_data = authenticator_data(
            rp_id, flags=self._flags(), counter=credential.counter
        )
        client_data = client_data_json(
            type_="webauthn.get", challenge=options["challenge"], origin=origin
        )
        signature = credential.sign(auth_data + hashlib.sha256(client_data).digest())
        return {
            "id": credential.id,
            "rawId": credential.id,
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "authenticatorData": b64url(auth_data),
                "signature": b64url(signature),
                "userHandle": credential.user_handle,
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }
