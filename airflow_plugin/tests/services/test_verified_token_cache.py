"""Remembering verified service tokens: never a token that failed, never past exp, never past its key.

Real Ed25519 keys and signatures throughout; PyJWT's Ed25519 ``verify`` is wrapped (not replaced) to count
the signature checks, which is how a test tells a remembered token from one checked again.
"""

from __future__ import annotations

from typing import Any

import httpx
import jwt
import pytest
from jwt.algorithms import OKPAlgorithm

from airflow_webauthn.auth_manager import WebAuthnAuthManager
from airflow_webauthn.services.session_end import SessionEndedError
from airflow_webauthn.services.token_verifier import (
    JwksCache,
    ServiceTokenVerifier,
    UnknownKeyError,
)
from airflow_webauthn.services.verified_token_cache import VerifiedToken, VerifiedTokenCache

from support import (
    AUDIENCE,
    ISSUER,
    SERVICE_URL,
    FakeAuthService,
    ed25519_key,
    make_settings,
    mint,
    user_claims,
)

pytestmark = pytest.mark.anyio

JWKS_TTL = 300
LEEWAY = 30


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class SignatureChecks:
    """Counts signature checks: wraps the real Ed25519 ``verify``, which still does all the work."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        real = OKPAlgorithm.verify

        def counting(*args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(OKPAlgorithm, "verify", counting)


@pytest.fixture
def signature_checks(monkeypatch: pytest.MonkeyPatch) -> SignatureChecks:
    return SignatureChecks(monkeypatch)


class Stack:
    """A verifier over the fake service's JWKS, with its two clocks: monotonic (JWKS) and wall (exp)."""

    def __init__(self, service: FakeAuthService, *, cache_size: int = 16) -> None:
        self.service = service
        self.monotonic = Clock(1000.0)
        self.wall = Clock(1_800_000_000.0)
        client = httpx.AsyncClient(transport=service.transport(), timeout=1)
        jwks = JwksCache(
            jwks_url=f"{SERVICE_URL}/.well-known/jwks.json",
            cache_ttl_seconds=JWKS_TTL,
            min_refetch_interval_seconds=30,
            http=lambda: client,
            clock=self.monotonic,
        )
        self.verifier = ServiceTokenVerifier(
            jwks=jwks,
            issuer=ISSUER,
            audience=AUDIENCE,
            allowed_algorithms=("EdDSA",),
            leeway_seconds=LEEWAY,
            clock=self.wall,
            cache_size=cache_size,
        )

    def token(self, *, lifetime: int = 600, key_index: int = 0, **claims: Any) -> str:
        now = int(self.wall.now)
        return mint(self.service.keys[key_index], user_claims(iat=now, nbf=now, exp=now + lifetime, **claims))

    def refetch_jwks(self) -> None:
        """Let the JWKS go stale, so the next use of a key refetches it."""
        self.monotonic.now += JWKS_TTL


@pytest.fixture
def stack() -> Stack:
    return Stack(FakeAuthService())


async def test_a_verified_token_is_served_from_the_cache_on_its_next_sight(
    stack: Stack, signature_checks: SignatureChecks
) -> None:
    """The second use of a token costs no verification, and yields the same claims."""
    token = stack.token()
    first = await stack.verifier.verify(token)
    second = await stack.verifier.verify_if_ours(token)
    assert signature_checks.count == 1
    assert second == first


async def test_callers_never_share_a_cached_claims_object(stack: Stack) -> None:
    """A caller that changes the claims it got (say, adds a group) changes nothing for the next caller."""
    token = stack.token(groups=["users"])
    await stack.verifier.verify(token)
    claims = await stack.verifier.verify(token)
    claims["groups"].append("airflow-admins")
    claims["sub"] = "someone-else"
    again = await stack.verifier.verify(token)
    assert again["groups"] == ["users"]
    assert again["sub"] == user_claims()["sub"]


async def test_a_cached_token_is_refused_once_expired(
    stack: Stack, signature_checks: SignatureChecks
) -> None:
    """The cache never serves a token at or past its exp: from then on the full check decides (which
    allows the configured leeway and then refuses it)."""
    token = stack.token(lifetime=60)
    await stack.verifier.verify(token)
    stack.wall.now += 59
    await stack.verifier.verify(token)
    assert signature_checks.count == 1

    stack.wall.now += 1  # at exp: not from the cache; accepted within the leeway by the full check
    await stack.verifier.verify(token)
    assert signature_checks.count == 2
    await stack.verifier.verify(token)
    assert signature_checks.count == 3  # and not remembered past exp

    stack.wall.now += LEEWAY
    with pytest.raises(jwt.ExpiredSignatureError):
        await stack.verifier.verify(token)
    with pytest.raises(jwt.ExpiredSignatureError):
        await stack.verifier.verify_if_ours(token)


async def test_a_token_that_fails_verification_is_never_cached(
    stack: Stack, signature_checks: SignatureChecks
) -> None:
    """Failures are checked afresh every time: a wrong audience, a stranger's signature, an empty
    subject; none of them is ever answered from the cache."""
    stranger = ed25519_key(kid=stack.service.keys[0].kid)
    now = int(stack.wall.now)
    bad = [
        (stack.token(aud="someone-else"), jwt.InvalidAudienceError),
        (mint(stranger, user_claims(iat=now, nbf=now, exp=now + 600)), jwt.InvalidSignatureError),
        (stack.token(sub=""), jwt.InvalidTokenError),
    ]
    for attempt in (1, 2):
        for token, error in bad:
            with pytest.raises(error):
                await stack.verifier.verify_if_ours(token)
        assert signature_checks.count == attempt * len(bad)


async def test_the_cache_key_covers_the_signature(stack: Stack) -> None:
    """A cached token's header and payload with another signature is another token: refused."""
    token = stack.token()
    await stack.verifier.verify(token)
    signing_input, signature = token.rsplit(".", 1)
    forged_signature = ("A" if signature[0] != "A" else "B") + signature[1:]
    with pytest.raises(jwt.InvalidSignatureError):
        await stack.verifier.verify(f"{signing_input}.{forged_signature}")
    assert await stack.verifier.verify(token)


async def test_a_cached_token_is_refused_once_its_key_leaves_the_jwks(stack: Stack) -> None:
    """A key the service retires early (it leaked) takes its cached tokens with it at the next JWKS
    refresh: the cache does not outlive the published keys."""
    token = stack.token()
    await stack.verifier.verify(token)
    stack.service.keys[:] = [ed25519_key(kid="ed-2")]
    stack.refetch_jwks()
    with pytest.raises(UnknownKeyError):
        await stack.verifier.verify(token)
    with pytest.raises(UnknownKeyError):
        await stack.verifier.verify_if_ours(token)


async def test_a_cached_token_is_refused_when_its_kid_now_names_another_key(stack: Stack) -> None:
    """Same kid, new key material: the token's signature is checked again, against the new key."""
    token = stack.token()
    await stack.verifier.verify(token)
    stack.service.keys[:] = [ed25519_key(kid=stack.service.keys[0].kid)]
    stack.refetch_jwks()
    with pytest.raises(jwt.InvalidSignatureError):
        await stack.verifier.verify(token)


async def test_a_jwks_change_sends_cached_tokens_through_full_verification(
    stack: Stack, signature_checks: SignatureChecks
) -> None:
    """A refresh that returns the same keys keeps the cache; one that changes them (a key added by a
    rotation) makes every cached token verify again once, and a still-published key passes."""
    token = stack.token()
    await stack.verifier.verify(token)
    stack.refetch_jwks()
    await stack.verifier.verify(token)
    assert signature_checks.count == 1  # JWKS refetched, same document: still remembered
    assert stack.service.count("/.well-known/jwks.json") == 2

    stack.service.keys.append(ed25519_key(kid="ed-2"))
    stack.refetch_jwks()
    await stack.verifier.verify(token)
    assert signature_checks.count == 2
    await stack.verifier.verify(token)
    assert signature_checks.count == 2


async def test_the_cache_is_bounded_least_recently_used_first_out(signature_checks: SignatureChecks) -> None:
    """At most cache_size tokens are remembered; the one used least recently is the one forgotten."""
    stack = Stack(FakeAuthService(), cache_size=2)
    first, second, third = (stack.token(jti=f"jti-{n}") for n in range(3))
    for token in (first, second, first, third):  # third evicts second, the least recently used
        await stack.verifier.verify(token)
    assert signature_checks.count == 3
    await stack.verifier.verify(first)
    await stack.verifier.verify(third)
    assert signature_checks.count == 3
    await stack.verifier.verify(second)
    assert signature_checks.count == 4


async def test_cache_size_zero_verifies_every_sight(signature_checks: SignatureChecks) -> None:
    """cache_size=0 turns remembering off (what the benchmark's first-sight figure uses)."""
    stack = Stack(FakeAuthService(), cache_size=0)
    token = stack.token()
    for _ in range(3):
        await stack.verifier.verify(token)
    assert signature_checks.count == 3


async def test_tokens_not_claiming_the_service_are_left_to_airflow(stack: Stack) -> None:
    """verify_if_ours routes by the (unverified) issuer: Airflow's own tokens and garbage get None (Airflow's
    validator then decides); a token naming our issuer is verified, and refused if forged."""
    assert await stack.verifier.verify_if_ours(stack.token(iss="airflow")) is None
    for garbage in ("", "garbage", "a.b.c", "e30.e30", "e30.W10.x"):
        assert await stack.verifier.verify_if_ours(garbage) is None
    assert await stack.verifier.verify_if_ours(stack.token())
    now = int(stack.wall.now)
    forged = mint(ed25519_key(), user_claims(iat=now, nbf=now, exp=now + 60))
    with pytest.raises(jwt.InvalidSignatureError):
        await stack.verifier.verify_if_ours(forged)


def test_cache_entries_end_at_exp_and_are_not_added_when_already_expired() -> None:
    """The cache's own clock decides: an entry is gone at exp, and an expired one is never stored."""
    wall = Clock(100.0)
    cache = VerifiedTokenCache(max_entries=4, clock=wall)
    key = jwt.PyJWK(FakeAuthService().keys[0].public_jwk())

    def entry(expires_at: float) -> VerifiedToken:
        return VerifiedToken(kid="ed-1", key=key, expires_at=expires_at, payload=b"{}")

    cache.put(b"a", entry(110.0))
    cache.put(b"b", entry(100.0))
    assert cache.get(b"a") is not None
    assert cache.get(b"b") is None
    wall.now = 110.0
    assert cache.get(b"a") is None
    assert len(cache) == 0


async def test_a_cached_token_still_goes_through_revocation_and_the_session_recheck(
    fake_service: FakeAuthService, monkeypatch: pytest.MonkeyPatch, signature_checks: SignatureChecks
) -> None:
    """The cache skips the signature check only: a remembered token whose jti is revoked at logout, or
    whose person is disabled on the service, is refused on its next use (re-checks every request here)."""
    from airflow.models.revoked_token import RevokedToken

    revoked: set[str] = set()
    monkeypatch.setattr(
        RevokedToken, "is_revoked", classmethod(lambda cls, jti, session=None: jti in revoked)
    )
    manager = WebAuthnAuthManager(
        settings=make_settings(recheck_interval_seconds="0", unverified_grace_seconds="0"),
        service_transport=fake_service.transport(),
    )
    fake_service.add_user(user_claims()["sub"], groups=["users"])
    claims = user_claims()
    token = mint(fake_service.keys[0], claims)
    other = mint(fake_service.keys[0], user_claims())
    for each in (token, other):
        await manager.get_user_from_token(each)
        await manager.get_user_from_token(each)
    assert signature_checks.count == 2  # both remembered

    revoked.add(claims["jti"])
    with pytest.raises(jwt.InvalidTokenError, match="revoked"):
        await manager.get_user_from_token(token)
    fake_service.users[claims["sub"]]["disabled"] = True
    with pytest.raises(SessionEndedError, match="disabled"):
        await manager.get_user_from_token(other)
    assert signature_checks.count == 2  # refused although answered from the cache
