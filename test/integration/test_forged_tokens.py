"""Forged, tampered and foreign tokens are refused by the real Airflow (401/403), never a 500.

The genuine material comes from the real auth service: a viewer's client-credentials token, the JWKS,
and (for wrong ``aud``/``iss``) tokens that carry a VALID signature of the service's own key, issued by
two extra service instances sharing its database and key-encryption key but configured with another
audience or issuer. Each forgery also claims the admin group, so acceptance would be an escalation.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from support import jwt_forge as forge
from support.soft_authenticator import b64url, b64url_decode
from support.stack import AuthService, Stack, client_credentials_token

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

REFUSED = {401, 403}


@dataclass(frozen=True)
class Material:
    real: str  # a genuine viewer token
    header: dict[str, Any]
    claims: dict[str, Any]
    jwk: dict[str, Any]  # the service's public key that signed ``real``
    stranger: ed25519.Ed25519PrivateKey
    wrong_aud: str
    wrong_iss: str
    airflow_secret: str

    def escalated(self, **changes: Any) -> dict[str, Any]:
        """The real claims, now claiming the admin group (and fresh times), plus ``changes``."""
        now = int(time.time())
        return {
            **self.claims,
            "groups": ["airflow-admins"],
            "iat": now,
            "nbf": now,
            "exp": now + 300,
            "jti": str(uuid.uuid4()),
            **changes,
        }


@pytest.fixture(scope="module")
def material(stack: Stack, service_token: Callable[[str], str]) -> Iterator[Material]:
    real = service_token("viewer")
    header, claims, _ = forge.parts(real)
    jwks = httpx.get(f"{stack.service.url}/.well-known/jwks.json", timeout=10).json()
    jwk = next(key for key in jwks["keys"] if key["kid"] == header["kid"])

    # Same database and key-encryption key as the real service: same signing key, other aud / iss.
    common = {"database": stack.service.workdir / "auth.sqlite", "kek": stack.service.kek}
    foreign = [
        AuthService(
            workdir=stack.workdir,
            airflow_origin=stack.origin,
            name="auth-service-other-aud",
            extra_env={"JWT_AUDIENCE": "not-airflow", "JWT_ISSUER": stack.service.url},
            **common,
        ),
        AuthService(
            workdir=stack.workdir,
            airflow_origin=stack.origin,
            name="auth-service-other-iss",
            extra_env={"JWT_ISSUER": "https://issuer.evil.example"},
            **common,
        ),
    ]
    try:
        for instance in foreign:
            instance.start()
        tokens = []
        account = stack.accounts["admin"]
        for instance in foreign:
            instance.wait_ready()
            tokens.append(client_credentials_token(instance.url, account))
        yield Material(
            real=real,
            header=header,
            claims=claims,
            jwk=jwk,
            stranger=ed25519.Ed25519PrivateKey.generate(),
            wrong_aud=tokens[0],
            wrong_iss=tokens[1],
            airflow_secret=stack.airflow.jwt_secret,
        )
    finally:
        for instance in foreign:
            instance.stop()


def _public_key_secrets(jwk: dict[str, Any]) -> list[bytes]:
    """Every form of the public key an HS256 confusion attack might use as the HMAC secret."""
    raw = b64url_decode(jwk["x"])
    public = ed25519.Ed25519PublicKey.from_public_bytes(raw)
    pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return [raw, jwk["x"].encode(), pem, der, json.dumps(jwk).encode()]


def _stranger(m: Material, header: dict[str, Any], claims: dict[str, Any]) -> str:
    return forge.sign_ed25519(header, claims, m.stranger)


FORGERIES: dict[str, Callable[[Material], list[str]]] = {
    # header alg "none", no signature (with and without the trailing dot's empty segment).
    "alg-none": lambda m: [
        forge.unsigned({**m.header, "alg": "none"}, m.escalated()),
        forge.unsigned({"alg": "none", "typ": "at+jwt"}, m.escalated()),
        forge.unsigned({**m.header, "alg": "None"}, m.escalated()),
    ],
    # Algorithm confusion: HS256 keyed with the service's PUBLIC key bytes (raw, b64url, PEM, DER, JWK).
    "hs256-with-public-key": lambda m: [
        forge.sign_hs256({**m.header, "alg": "HS256"}, m.escalated(), secret)
        for secret in _public_key_secrets(m.jwk)
    ],
    # A stranger's Ed25519 key, under the service's real kid.
    "stranger-key-our-kid": lambda m: [_stranger(m, m.header, m.escalated())],
    # A stranger's key under a kid the service never published (also forces a rate-limited JWKS refetch).
    "unknown-kid": lambda m: [
        _stranger(m, {**m.header, "kid": b64url(uuid.uuid4().bytes)}, m.escalated()),
        _stranger(m, {**m.header, "kid": "../../etc/passwd"}, m.escalated()),
    ],
    # The stranger's key embedded in the header (jwk / jku injection) must not be trusted.
    "embedded-jwk-and-jku": lambda m: [
        _stranger(
            m,
            {
                **m.header,
                "jwk": {
                    "kty": "OKP",
                    "crv": "Ed25519",
                    "x": b64url(
                        m.stranger.public_key().public_bytes(
                            serialization.Encoding.Raw, serialization.PublicFormat.Raw
                        )
                    ),
                },
            },
            m.escalated(),
        ),
        _stranger(m, {**m.header, "jku": "https://evil.example/jwks.json"}, m.escalated()),
    ],
    # The real token with its claims edited (groups → admin; or a longer life), signature kept.
    "tampered-claims": lambda m: [
        forge.with_parts(m.real, claims={**m.claims, "groups": ["airflow-admins"]}),
        forge.with_parts(m.real, claims={**m.claims, "exp": m.claims["exp"] + 86400}),
        forge.with_parts(m.real, claims={**m.claims, "sub": str(uuid.uuid4())}),
    ],
    # The real token's header edited (alg switched), signature kept.
    "tampered-header": lambda m: [
        forge.with_parts(m.real, header={**m.header, "alg": "ES256"}),
        forge.with_parts(m.real, header={**m.header, "alg": "HS256"}),
    ],
    # Genuine service signature, but issued for another audience.
    "wrong-aud": lambda m: [m.wrong_aud],
    # Genuine service signature, but another issuer.
    "wrong-iss": lambda m: [m.wrong_iss],
    # Expired (stranger-signed: the service's key is out of reach, and waiting out a real one is too slow).
    "expired": lambda m: [
        _stranger(
            m,
            m.header,
            m.escalated(
                exp=int(time.time()) - 3600, iat=int(time.time()) - 7200, nbf=int(time.time()) - 7200
            ),
        ),
    ],
    # typ other than at+jwt (an ID token or a generic JWT must not be usable as an access token).
    "typ-not-at+jwt": lambda m: [
        _stranger(m, {**m.header, "typ": "JWT"}, m.escalated()),
        forge.with_parts(m.real, header={**m.header, "typ": "JWT"}),
        forge.with_parts(m.real, header={k: v for k, v in m.header.items() if k != "typ"}),
    ],
    # No kid in the header.
    "missing-kid": lambda m: [
        forge.with_parts(m.real, header={k: v for k, v in m.header.items() if k != "kid"}),
        _stranger(m, {k: v for k, v in m.header.items() if k != "kid"}, m.escalated()),
    ],
    # Airflow-style tokens that Airflow did not mint (wrong secret; alg none) claiming ADMIN.
    "airflow-style-forgery": lambda m: [
        forge.sign_hs512(
            {"alg": "HS512", "typ": "JWT"},
            {
                "sub": "intruder",
                "username": "intruder",
                "role": "ADMIN",
                "aud": "apache-airflow",
                "iss": None,
                "iat": int(time.time()),
                "nbf": int(time.time()),
                "exp": int(time.time()) + 600,
                "jti": uuid.uuid4().hex,
            },
            b"not-the-secret",
        ),
        forge.unsigned(
            {"alg": "none", "typ": "JWT"}, {"sub": "intruder", "role": "ADMIN", "exp": int(time.time()) + 600}
        ),
    ],
    # Not a JWT at all.
    "garbage": lambda m: ["not-a-jwt", "a.b.c", "eyJhbGciOiJFZERTQSJ9..", m.real[:-10], m.real + "x"],
}


@pytest.mark.parametrize("carrier", ["bearer", "cookie"])
@pytest.mark.parametrize("kind", list(FORGERIES))
def test_forged_token_is_refused(airflow: httpx.Client, material: Material, kind: str, carrier: str) -> None:
    """A forged or foreign token never authenticates, as Bearer or as Airflow's ``_token`` cookie.

    The property checked: refused with 401/403, never accepted and never a 500.
    """
    for token in FORGERIES[kind](material):
        headers = (
            {"Authorization": f"Bearer {token}"} if carrier == "bearer" else {"Cookie": f"_token={token}"}
        )
        for path in ("/api/v2/dags", "/ui/auth/me"):
            response = airflow.get(path, headers=headers)
            assert response.status_code in REFUSED, (
                f"{kind} via {carrier} on {path}: {response.status_code} "
                f"{response.text[:200]}\ntoken: {token}"
            )


def test_genuine_token_control(airflow: httpx.Client, material: Material) -> None:
    """Control for the forgeries: the untouched viewer token does authenticate (as a VIEWER only)."""
    headers = {"Authorization": f"Bearer {material.real}"}
    assert airflow.get("/api/v2/dags", headers=headers).status_code == 200
    assert airflow.get("/api/v2/variables", headers=headers).status_code == 403


def test_wrong_aud_token_is_genuinely_signed(material: Material) -> None:
    """The wrong-aud/iss tokens really carry the service key's signature (so their refusal tests aud/iss)."""
    for token, field, value in (
        (material.wrong_aud, "aud", "not-airflow"),
        (material.wrong_iss, "iss", "https://issuer.evil.example"),
    ):
        header, claims, signature = forge.parts(token)
        assert header["kid"] == material.header["kid"]
        assert claims[field] == value
        public = ed25519.Ed25519PublicKey.from_public_bytes(b64url_decode(material.jwk["x"]))
        signing_input = token.rsplit(".", 1)[0].encode()
        public.verify(b64url_decode(signature), signing_input)  # raises if not genuine
