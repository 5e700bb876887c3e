"""Security properties of the service-token verifier, checked with real Ed25519/P-256 keys."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from typing import TYPE_CHECKING

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from airflow_webauthn.services.token_verifier import (
    MAX_FETCHES_PER_MINUTE,
    JwksCache,
    JwksUnavailableError,
    ServiceTokenVerifier,
    UnknownKeyError,
)

if TYPE_CHECKING:
    from collections.abc import Callable

from support import AUDIENCE, ISSUER, SERVICE_URL, FakeAuthService, ed25519_key, mint, p256_key, user_claims

pytestmark = pytest.mark.anyio


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def http_client(transport: httpx.AsyncBaseTransport) -> Callable[[], httpx.AsyncClient]:
    """What the gateway hands the JWKS cache: its pooled client, here over a test transport."""
    client = httpx.AsyncClient(transport=transport, timeout=1)
    return lambda: client


def make_verifier(
    service: FakeAuthService, clock: Clock | None = None, algorithms: tuple[str, ...] = ("EdDSA", "ES256")
) -> ServiceTokenVerifier:
    jwks = JwksCache(
        jwks_url=f"{SERVICE_URL}/.well-known/jwks.json",
        cache_ttl_seconds=300,
        min_refetch_interval_seconds=30,
        http=http_client(service.transport()),
        clock=clock or Clock(),
    )
    return ServiceTokenVerifier(
        jwks=jwks, issuer=ISSUER, audience=AUDIENCE, allowed_algorithms=algorithms, leeway_seconds=30
    )


def b64(data: dict[str, object] | bytes) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


async def test_accepts_a_genuine_eddsa_token() -> None:
    """A token signed by the published Ed25519 key with the expected claims is accepted."""
    service = FakeAuthService()
    claims = await make_verifier(service).verify(mint(service.keys[0]))
    assert claims["preferred_username"] == "ada"


async def test_accepts_a_genuine_es256_token() -> None:
    """ES256 (P-256) keys published in the JWKS are honoured too."""
    service = FakeAuthService(keys=[p256_key()])
    claims = await make_verifier(service).verify(mint(service.keys[0]))
    assert claims["sub"]


async def test_rejects_alg_none() -> None:
    """An unsigned token (alg "none") is never accepted, even with a known kid."""
    service = FakeAuthService()
    token = f"{b64({'alg': 'none', 'typ': 'at+jwt', 'kid': 'ed-1'})}.{b64(user_claims())}."
    with pytest.raises(jwt.InvalidAlgorithmError):
        await make_verifier(service).verify(token)


async def test_rejects_hs256_signed_with_the_public_key() -> None:
    """Algorithm confusion: HS256 keyed with the public key bytes must not verify."""
    service = FakeAuthService()
    public_pem = (
        service.keys[0]
        .private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    header = b64({"alg": "HS256", "typ": "at+jwt", "kid": "ed-1"})
    payload = b64(user_claims())
    import hashlib
    import hmac

    signature = hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    with pytest.raises(jwt.InvalidAlgorithmError):
        await make_verifier(service).verify(f"{header}.{payload}.{b64(signature)}")


async def test_rejects_hs256_even_if_configured() -> None:
    """A configuration listing HS256 still cannot make a symmetric token acceptable."""
    service = FakeAuthService()
    token = jwt.encode(
        user_claims(), "secret" * 8, algorithm="HS256", headers={"typ": "at+jwt", "kid": "ed-1"}
    )
    with pytest.raises(jwt.InvalidAlgorithmError):
        await make_verifier(service, algorithms=("HS256", "EdDSA")).verify(token)


async def test_rejects_a_strangers_key_under_our_kid() -> None:
    """A token signed by someone else's key, but naming our kid, fails signature verification."""
    service = FakeAuthService()
    stranger = ed25519_key(kid="ed-1")
    with pytest.raises(jwt.InvalidSignatureError):
        await make_verifier(service).verify(mint(stranger))


async def test_rejects_es256_token_claiming_an_eddsa_key() -> None:
    """A key published for EdDSA is never used to check a token that claims another algorithm."""
    service = FakeAuthService()
    other = p256_key(kid="ed-1")
    with pytest.raises(jwt.InvalidAlgorithmError):
        await make_verifier(service).verify(mint(other))


async def test_unknown_kid_refetches_once_then_is_rate_limited() -> None:
    """An unknown kid triggers one JWKS refetch; further unknown kids within the interval do not."""
    service = FakeAuthService()
    clock = Clock()
    verifier = make_verifier(service, clock)
    await verifier.verify(mint(service.keys[0]))
    assert service.count("/.well-known/jwks.json") == 1

    clock.now += 1
    stranger = ed25519_key(kid="random-kid")
    with pytest.raises(UnknownKeyError):
        await verifier.verify(mint(stranger))
    assert service.count("/.well-known/jwks.json") == 2

    for n in range(5):
        clock.now += 1
        with pytest.raises(UnknownKeyError):
            await verifier.verify(mint(ed25519_key(kid=f"random-{n}")))
    assert service.count("/.well-known/jwks.json") == 2


async def test_rotated_key_is_picked_up_by_refetch() -> None:
    """A key published after the cache was filled is found by the unknown-kid refetch."""
    service = FakeAuthService()
    clock = Clock()
    verifier = make_verifier(service, clock)
    await verifier.verify(mint(service.keys[0]))
    new_key = ed25519_key(kid="ed-2")
    service.keys.append(new_key)
    clock.now += 31
    assert (await verifier.verify(mint(new_key)))["sub"]


async def test_tampered_claims_fail_signature() -> None:
    """Changing a claim (e.g. adding an admin group) after signing breaks the signature."""
    service = FakeAuthService()
    header, _, signature = mint(service.keys[0]).split(".")
    forged = b64(user_claims(groups=["airflow-admins"]))
    with pytest.raises(jwt.InvalidSignatureError):
        await make_verifier(service).verify(f"{header}.{forged}.{signature}")


@pytest.mark.parametrize(
    ("claims", "error"),
    [
        pytest.param({"aud": "someone-else"}, jwt.InvalidAudienceError, id="wrong-aud"),
        pytest.param({"iss": "https://evil.test"}, jwt.InvalidIssuerError, id="wrong-iss"),
        pytest.param({"exp": int(time.time()) - 120}, jwt.ExpiredSignatureError, id="expired"),
        pytest.param({"nbf": int(time.time()) + 600}, jwt.ImmatureSignatureError, id="nbf-in-future"),
        pytest.param({"iat": int(time.time()) + 600}, jwt.ImmatureSignatureError, id="iat-in-future"),
        pytest.param({"sub": ""}, jwt.InvalidTokenError, id="empty-sub"),
    ],
)
async def test_rejects_bad_claims(claims: dict[str, object], error: type[Exception]) -> None:
    """Issuer, audience and lifetime claims are enforced (30 s leeway)."""
    service = FakeAuthService()
    with pytest.raises(error):
        await make_verifier(service).verify(mint(service.keys[0], user_claims(**claims)))


async def test_expiry_within_leeway_is_tolerated() -> None:
    """Small clock skew (under 30 s) does not log people out."""
    service = FakeAuthService()
    token = mint(service.keys[0], user_claims(exp=int(time.time()) - 10))
    assert await make_verifier(service).verify(token)


@pytest.mark.parametrize("claim", ["exp", "iat", "nbf", "sub", "jti", "iss", "aud"])
async def test_rejects_missing_required_claim(claim: str) -> None:
    """Every required claim must be present; a token without jti (or exp, ...) is refused."""
    service = FakeAuthService()
    with pytest.raises(jwt.MissingRequiredClaimError):
        await make_verifier(service).verify(mint(service.keys[0], drop=(claim,)))


@pytest.mark.parametrize(
    "header", [{"typ": None}, {"typ": "JWT"}, {"typ": "id+jwt"}], ids=["missing", "JWT", "id+jwt"]
)
async def test_rejects_wrong_or_missing_typ(header: dict[str, object]) -> None:
    """Only access tokens (typ at+jwt) are accepted, not ID tokens or generic JWTs."""
    service = FakeAuthService()
    key = service.keys[0]
    token = jwt.encode(user_claims(), key.private_key, algorithm="EdDSA", headers={"kid": key.kid, **header})
    if header["typ"] is None:  # PyJWT adds typ=JWT unless told otherwise; build the header by hand
        token = jwt.encode(
            user_claims(), key.private_key, algorithm="EdDSA", headers={"kid": key.kid, "typ": None}
        )
    with pytest.raises(jwt.InvalidTokenError, match="typ"):
        await make_verifier(service).verify(token)


async def test_rejects_missing_kid() -> None:
    """A token that names no key is refused before any key lookup."""
    service = FakeAuthService()
    key = service.keys[0]
    token = jwt.encode(user_claims(), key.private_key, algorithm="EdDSA", headers={"typ": "at+jwt"})
    with pytest.raises(jwt.InvalidTokenError, match="kid"):
        await make_verifier(service).verify(token)
    assert service.count("/.well-known/jwks.json") == 0


@pytest.mark.parametrize("garbage", ["", "not-a-jwt", "a.b.c", "e30.e30."])
async def test_garbage_raises_invalid_token_not_other_errors(garbage: str) -> None:
    """Malformed input is an InvalidTokenError (Airflow answers 403), never an unexpected exception."""
    with pytest.raises(jwt.InvalidTokenError):
        await make_verifier(FakeAuthService()).verify(garbage)


async def test_unreachable_jwks_is_an_invalid_token_error() -> None:
    """If the JWKS cannot be fetched, the token is refused with an InvalidTokenError (never a 500)."""
    service = FakeAuthService()
    token = mint(service.keys[0])
    service.up = False
    with pytest.raises(JwksUnavailableError):
        await make_verifier(service).verify(token)
    assert issubclass(JwksUnavailableError, jwt.InvalidTokenError)


async def test_jwks_server_error_or_bad_document_is_an_invalid_token_error() -> None:
    """A 500 or a malformed JWKS from the service also ends in InvalidTokenError."""

    def broken(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500) if "500" in str(request.url) else httpx.Response(200, json={"nope": 1})

    for url in (f"{SERVICE_URL}/500", f"{SERVICE_URL}/bad"):
        jwks = JwksCache(
            jwks_url=url,
            cache_ttl_seconds=300,
            min_refetch_interval_seconds=0,
            http=http_client(httpx.MockTransport(broken)),
        )
        verifier = ServiceTokenVerifier(
            jwks=jwks, issuer=ISSUER, audience=AUDIENCE, allowed_algorithms=("EdDSA",), leeway_seconds=0
        )
        with pytest.raises(JwksUnavailableError):
            await verifier.verify(mint(ed25519_key()))


async def test_cached_keys_survive_a_service_outage() -> None:
    """Once fetched, keys keep verifying tokens while the service is briefly down (cache TTL applies)."""
    service = FakeAuthService()
    clock = Clock()
    verifier = make_verifier(service, clock)
    await verifier.verify(mint(service.keys[0]))
    service.up = False
    clock.now += 301  # stale: a refetch is attempted and fails; the known key is still used
    assert await verifier.verify(mint(service.keys[0]))


async def test_private_keys_in_jwks_are_ignored() -> None:
    """A JWK carrying a private part is not trusted (the service must only publish public keys)."""
    service = FakeAuthService()
    key = service.keys[0]
    leaky = {**key.public_jwk(), "d": "AAAA"}
    jwks = JwksCache(
        jwks_url=f"{SERVICE_URL}/jwks",
        cache_ttl_seconds=300,
        min_refetch_interval_seconds=0,
        http=http_client(httpx.MockTransport(lambda request: httpx.Response(200, json={"keys": [leaky]}))),
    )
    verifier = ServiceTokenVerifier(
        jwks=jwks, issuer=ISSUER, audience=AUDIENCE, allowed_algorithms=("EdDSA",), leeway_seconds=0
    )
    with pytest.raises(UnknownKeyError):
        await verifier.verify(mint(key))


def test_is_ours_routes_by_unverified_issuer() -> None:
    """Routing only: tokens naming our issuer go to the JWKS verifier, everything else to Airflow."""
    verifier = make_verifier(FakeAuthService())
    key = ed25519_key()
    assert verifier.is_ours(mint(key))
    assert not verifier.is_ours(mint(key, user_claims(iss="airflow")))
    assert not verifier.is_ours("garbage")


async def test_failed_fetch_is_not_retried_on_every_request() -> None:
    """While the service is down, JWKS fetch attempts are rate-limited too (no request per token)."""
    service = FakeAuthService()
    clock = Clock()
    verifier = make_verifier(service, clock)
    service.up = False
    for _ in range(5):
        clock.now += 1
        with pytest.raises(JwksUnavailableError):
            await verifier.verify(mint(service.keys[0]))
    assert service.attempts == 1
    service.up = True
    clock.now += 30
    assert await verifier.verify(mint(service.keys[0]))


class CountingJwks:
    """A JWKS endpoint that answers slowly and records how many fetches overlap and how many start."""

    def __init__(self, service: FakeAuthService) -> None:
        self.service = service
        self.started = 0
        self.in_flight = 0
        self.most_in_flight = 0

    async def handle(self, request: httpx.Request) -> httpx.Response:
        self.started += 1
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0.05)  # long enough for every concurrent caller to arrive meanwhile
            return httpx.Response(200, json={"keys": [key.public_jwk() for key in self.service.keys]})
        finally:
            self.in_flight -= 1

    def verifier(self, clock: Clock, *, min_refetch: float) -> ServiceTokenVerifier:
        jwks = JwksCache(
            jwks_url=f"{SERVICE_URL}/.well-known/jwks.json",
            cache_ttl_seconds=300,
            min_refetch_interval_seconds=min_refetch,
            http=http_client(httpx.MockTransport(self.handle)),
            clock=clock,
        )
        return ServiceTokenVerifier(
            jwks=jwks, issuer=ISSUER, audience=AUDIENCE, allowed_algorithms=("EdDSA",), leeway_seconds=30
        )


async def verify_all(verifier: ServiceTokenVerifier, tokens: list[str]) -> list[object]:
    return await asyncio.gather(*(verifier.verify(token) for token in tokens), return_exceptions=True)


async def test_concurrent_unknown_kids_on_a_cold_cache_cause_one_fetch() -> None:
    """200 forged kids arriving together before any key is cached: one JWKS fetch, and the genuine
    token among them is still accepted."""
    service = FakeAuthService()
    endpoint = CountingJwks(service)
    verifier = endpoint.verifier(Clock(), min_refetch=30)
    forged = [mint(ed25519_key(kid=f"forged-{n}")) for n in range(200)]
    results = await verify_all(verifier, [*forged, mint(service.keys[0])])
    assert endpoint.started == 1
    assert all(isinstance(result, UnknownKeyError) for result in results[:-1])
    assert isinstance(results[-1], dict)


async def test_waves_of_unknown_kids_are_capped_per_minute() -> None:
    """Even with no refetch interval configured, waves of concurrent forged kids get one fetch per
    wave, never overlapping, and at most MAX_FETCHES_PER_MINUTE in a minute; the next minute allows
    fetches again, so a rotated key is then found."""
    service = FakeAuthService()
    endpoint = CountingJwks(service)
    clock = Clock()
    verifier = endpoint.verifier(clock, min_refetch=0)
    await verifier.verify(mint(service.keys[0]))
    for wave in range(2 * MAX_FETCHES_PER_MINUTE):
        forged = [mint(ed25519_key(kid=f"forged-{wave}-{n}")) for n in range(20)]
        results = await verify_all(verifier, forged)
        assert all(isinstance(result, UnknownKeyError) for result in results)
        clock.now += 1
    assert endpoint.most_in_flight == 1
    assert endpoint.started == MAX_FETCHES_PER_MINUTE

    clock.now += 60
    new_key = ed25519_key(kid="ed-2")
    service.keys.append(new_key)
    assert (await verifier.verify(mint(new_key)))["sub"]
    assert endpoint.started == MAX_FETCHES_PER_MINUTE + 1


async def test_rotation_is_picked_up_after_a_flood_of_unknown_kids() -> None:
    """A flood spends the unknown-kid refetch, yet a key rotated in afterwards is used once the
    refetch interval has passed (seconds, not the cache lifetime)."""
    service = FakeAuthService()
    endpoint = CountingJwks(service)
    clock = Clock()
    verifier = endpoint.verifier(clock, min_refetch=5)
    await verifier.verify(mint(service.keys[0]))
    clock.now += 1
    await verify_all(verifier, [mint(ed25519_key(kid=f"forged-{n}")) for n in range(50)])
    assert endpoint.started == 2

    new_key = ed25519_key(kid="ed-2")
    service.keys.append(new_key)
    with pytest.raises(UnknownKeyError):  # within the interval: not fetched again
        await verifier.verify(mint(new_key))
    clock.now += 5
    assert (await verifier.verify(mint(new_key)))["sub"]
    assert endpoint.started == 3
