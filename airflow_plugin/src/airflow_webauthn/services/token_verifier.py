"""Validation of the auth service's access tokens against its published JWKS.

Every failure is a ``jwt.InvalidTokenError`` (or ``jwt.ExpiredSignatureError``), because that is what
Airflow turns into 403/401; anything else would surface as a 500. That includes the JWKS being
unreachable: a token we cannot check is a token we do not accept.

A token is read once (``compact_jws``): that one read routes it, names its key, and is what the
signature check covers. A token that verified is remembered (``VerifiedTokenCache``) so that the same
Bearer token on the next request costs a hash and a lookup instead of a signature check. Only the
signature and claims checks are remembered: what decides current state (revocation, the session and
service-account re-checks) runs for every request in the auth manager, as before.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Any

import httpx
import jwt

from airflow_webauthn.services.compact_jws import CompactJws, read_compact_jws
from airflow_webauthn.services.verified_token_cache import VerifiedToken, VerifiedTokenCache

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

log = logging.getLogger(__name__)

ACCESS_TOKEN_TYPES = frozenset({"at+jwt", "application/at+jwt"})  # RFC 9068 §2.1
REQUIRED_CLAIMS = ("iss", "aud", "exp", "iat", "nbf", "sub", "jti")

# Asymmetric algorithms only: with HS* the public JWKS would double as the shared secret.
ASYMMETRIC_ALGORITHMS = frozenset({"EdDSA", "ES256", "ES384", "ES512", "RS256", "PS256"})

# A hard ceiling on JWKS fetch attempts per minute, whatever their cause and whatever the configured
# refetch interval (0 is allowed): the auth service never sees more than this from one api-server.
MAX_FETCHES_PER_MINUTE = 12

# Verified tokens remembered at most (least recently used first out). An entry is the token's SHA-256,
# its kid, the key object that verified it, exp and the payload bytes: about 1 KB, so 4096 entries stay
# around 4 MB. Only tokens the service signed get in, so a flood of forged tokens evicts nothing.
VERIFIED_TOKEN_CACHE_SIZE = 4096


class JwksUnavailableError(jwt.InvalidTokenError):
    """The signing keys could not be fetched, so the token cannot be checked (→ rejected, not a 500)."""


class UnknownKeyError(jwt.InvalidTokenError):
    """The token names a ``kid`` the service does not publish."""


class JwksCache:
    """The service's public signing keys, cached; refetched when stale or on an unknown ``kid``.

    Anybody can send a token with a random ``kid``, and each one must not become a request to the
    auth service. So fetches are single-flight (one at a time per event loop: concurrent callers wait
    for it and use its result), a refetch for an unknown ``kid`` happens at most once per
    ``min_refetch_interval_seconds``, a failed fetch is not retried within that interval, and no more
    than ``MAX_FETCHES_PER_MINUTE`` attempts start in any minute.
    """

    def __init__(
        self,
        *,
        jwks_url: str,
        cache_ttl_seconds: float,
        min_refetch_interval_seconds: float,
        http: Callable[[], httpx.AsyncClient],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``http`` gives the gateway's pooled client (``ServiceGateway.client``) at fetch time."""
        self._jwks_url = jwks_url
        self._ttl = cache_ttl_seconds
        self._min_refetch = min_refetch_interval_seconds
        self._http = http
        self._clock = clock
        # The key objects are replaced only when the published document changes: a verified token is
        # remembered with the very object that verified it (see VerifiedTokenCache).
        self._keys: dict[str, jwt.PyJWK] = {}
        self._document: Any = None
        self._fetched_at: float | None = None
        self._last_failure: float | None = None
        self._last_unknown_kid_fetch: float | None = None
        self._recent_attempts: deque[float] = deque()
        self._lock = threading.Lock()  # guards state only; never held across an await
        # The single flight: an asyncio lock belongs to one event loop, so one per loop (Airflow runs
        # one; tests may run several in turn).
        self._flight: asyncio.Lock | None = None
        self._flight_loop: asyncio.AbstractEventLoop | None = None
        self._finished = 0  # fetches finished, successful or not
        self.fetch_count = 0

    async def get_key(self, kid: str) -> jwt.PyJWK:
        if self._needs_fetch(kid):
            finished_before = self._finished
            async with self._flight_lock():
                # A fetch that finished while we waited is our answer too (that is the single flight;
                # it may have begun just before we arrived, a moment that makes no difference).
                if self._finished == finished_before and self._needs_fetch(kid):
                    now = self._clock()
                    await self._refresh(now, unknown_kid=not self._stale(now))
        key = self._keys.get(kid)
        if key is None:
            if self._fetched_at is None:
                raise JwksUnavailableError("signing keys of the auth service are unavailable")
            raise UnknownKeyError(f"no published signing key has kid {kid!r}")
        return key

    def _stale(self, now: float) -> bool:
        return self._fetched_at is None or now - self._fetched_at >= self._ttl

    def _needs_fetch(self, kid: str) -> bool:
        return self._stale(self._clock()) or kid not in self._keys

    def _flight_lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        with self._lock:
            if self._flight is None or self._flight_loop is not loop:
                self._flight, self._flight_loop = asyncio.Lock(), loop
            return self._flight

    def _may_fetch(self, now: float, *, unknown_kid: bool) -> bool:
        def recent(moment: float | None) -> bool:
            return moment is not None and now - moment < self._min_refetch

        # After a failed fetch, wait before retrying (do not hammer a service that is down).
        if recent(self._last_failure):
            return False
        # A fresh cache is refetched for an unknown kid at most once per interval.
        if unknown_kid and recent(self._last_unknown_kid_fetch):
            return False
        while self._recent_attempts and now - self._recent_attempts[0] >= 60:
            self._recent_attempts.popleft()
        if len(self._recent_attempts) >= MAX_FETCHES_PER_MINUTE:
            return False
        self._recent_attempts.append(now)
        if unknown_kid:
            self._last_unknown_kid_fetch = now
        return True

    async def _refresh(self, now: float, *, unknown_kid: bool) -> None:
        with self._lock:
            if not self._may_fetch(now, unknown_kid=unknown_kid):
                return
        try:
            response = await self._http().get(self._jwks_url, headers={"Accept": "application/json"})
            response.raise_for_status()
            document = response.json()
            keys = self._keys if document == self._document else _parse_jwks(document)
        except (httpx.HTTPError, ValueError) as err:
            # Keep serving the keys we have (availability during a service blip); tokens signed with
            # keys we never saw are rejected until a later refetch succeeds.
            log.warning("Could not fetch the auth service JWKS from %s: %s", self._jwks_url, err)
            with self._lock:
                self._last_failure = now
                self._finished += 1
            return
        with self._lock:
            self._finished += 1
            self.fetch_count += 1
            self._keys = keys
            self._document = document
            self._fetched_at = now
            self._last_failure = None


def _parse_jwks(document: Any) -> dict[str, jwt.PyJWK]:
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError("JWKS document has no 'keys' list")
    keys: dict[str, jwt.PyJWK] = {}
    for entry in document["keys"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("kid"), str):
            continue
        if entry.get("use", "sig") != "sig" or "d" in entry:
            # Only public signature keys are meaningful; a private part in a JWKS is a service bug.
            continue
        try:
            keys[entry["kid"]] = jwt.PyJWK(entry)
        except jwt.PyJWKError as err:
            log.warning("Ignoring unusable JWK %s: %s", entry.get("kid"), err)
    return keys


class ServiceTokenVerifier:
    """Checks a service-issued access token: header, signature, issuer, audience and lifetime claims.

    A token that passed is remembered until its ``exp`` (see ``VerifiedTokenCache``); a remembered token
    is only served while the service still publishes, under its ``kid``, the very key that verified it.
    So a key rotated out or retired early stops its tokens at the next JWKS refresh, as without the cache.
    """

    def __init__(
        self,
        *,
        jwks: JwksCache,
        issuer: str,
        audience: str,
        allowed_algorithms: Sequence[str],
        leeway_seconds: int,
        clock: Callable[[], float] = time.time,
        cache_size: int = VERIFIED_TOKEN_CACHE_SIZE,
    ) -> None:
        """``clock`` is wall-clock time, the scale of ``exp``; ``cache_size=0`` verifies every sight."""
        self._jwks = jwks
        self._issuer = issuer
        self._audience = audience
        # Never symmetric, never "none", whatever the configuration says.
        self._algorithms = tuple(alg for alg in allowed_algorithms if alg in ASYMMETRIC_ALGORITHMS)
        self._leeway = leeway_seconds
        self._clock = clock
        self._verified = VerifiedTokenCache(max_entries=cache_size, clock=clock)

    def is_ours(self, token: str) -> bool:
        """Whether the token claims to come from the auth service (unverified; routing only)."""
        try:
            return read_compact_jws(token).claims.get("iss") == self._issuer
        except jwt.InvalidTokenError:
            return False

    async def verify_if_ours(self, token: str) -> dict[str, Any] | None:
        """None for a token that does not claim to come from the service (Airflow's own, or garbage, which
        Airflow's validator then refuses); otherwise what ``verify`` answers. One read of the token."""
        digest = self._verified.digest(token)
        claims = await self._remembered(digest)
        if claims is not None:
            return claims
        try:
            jws = read_compact_jws(token)
        except jwt.InvalidTokenError:
            return None
        if jws.claims.get("iss") != self._issuer:
            return None
        return await self._verify(jws, digest)

    async def verify(self, token: str) -> dict[str, Any]:
        """Return the token's claims if every check passes; raise ``jwt.InvalidTokenError`` otherwise."""
        digest = self._verified.digest(token)
        claims = await self._remembered(digest)
        if claims is not None:
            return claims
        return await self._verify(read_compact_jws(token), digest)

    async def _remembered(self, digest: bytes) -> dict[str, Any] | None:
        entry = self._verified.get(digest)
        if entry is None:
            return None
        try:
            key: jwt.PyJWK | None = await self._jwks.get_key(entry.kid)  # refetches a stale JWKS
        except jwt.InvalidTokenError:
            key = None
        if key is not entry.key:
            # The JWKS changed since: forget the token; a full verification decides again (and refuses
            # it if its key is no longer published).
            self._verified.discard(digest)
            return None
        return entry.claims()

    async def _verify(self, jws: CompactJws, digest: bytes) -> dict[str, Any]:
        header = jws.header
        alg = header.get("alg")
        if alg not in self._algorithms:
            raise jwt.InvalidAlgorithmError(f"algorithm {alg!r} is not accepted")
        if header.get("typ") not in ACCESS_TOKEN_TYPES:
            raise jwt.InvalidTokenError("token type (typ) must be at+jwt")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise jwt.InvalidTokenError("token header has no kid")

        key = await self._jwks.get_key(kid)
        _check_key_matches_algorithm(key, alg)
        # The key's own algorithm object (PyJWT's, over cryptography) checks the bytes the read kept; only
        # then is anything in the payload trusted.
        if not key.Algorithm.verify(jws.signing_input, key.key, jws.signature()):
            raise jwt.InvalidSignatureError("Signature verification failed")
        claims = jws.claims
        _check_claims(claims, issuer=self._issuer, audience=self._audience)
        _check_lifetime(claims, now=self._clock(), leeway=self._leeway)
        # The payload as signed is what a later sight parses again (no re-encoding of the claims).
        entry = VerifiedToken(kid=kid, key=key, expires_at=claims["exp"], payload=jws.payload)
        self._verified.put(digest, entry)
        return claims


def _check_claims(claims: dict[str, Any], *, issuer: str, audience: str) -> None:
    """Presence, issuer and audience, with PyJWT's errors for each (``jwt.decode`` did these before)."""
    for name in REQUIRED_CLAIMS:
        if claims.get(name) is None:
            raise jwt.MissingRequiredClaimError(name)
    if claims["iss"] != issuer:
        raise jwt.InvalidIssuerError("Invalid issuer")
    # RFC 7519 §4.1.3: one audience as a string, or several as a list of strings.
    aud = claims["aud"]
    audiences = [aud] if isinstance(aud, str) else aud
    if not isinstance(audiences, list) or not all(isinstance(each, str) for each in audiences):
        raise jwt.InvalidAudienceError("Invalid claim format in token")
    if audience not in audiences:
        raise jwt.InvalidAudienceError("Audience doesn't match")
    for name in ("sub", "jti"):
        if not isinstance(claims[name], str) or not claims[name]:
            raise jwt.InvalidTokenError(f"claim {name!r} must be a non-empty string")


def _check_lifetime(claims: dict[str, Any], *, now: float, leeway: float) -> None:
    """exp, nbf and iat (all required, see REQUIRED_CLAIMS) as PyJWT checks them, on our clock."""
    for name in ("exp", "nbf", "iat"):
        value = claims[name]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise jwt.DecodeError(f"claim {name!r} must be a number of seconds (NumericDate)")
    if claims["exp"] <= now - leeway:
        raise jwt.ExpiredSignatureError("Signature has expired")
    if claims["nbf"] > now + leeway:
        raise jwt.ImmatureSignatureError("The token is not yet valid (nbf)")
    if claims["iat"] > now + leeway:
        raise jwt.ImmatureSignatureError("The token is not yet valid (iat)")


def _check_key_matches_algorithm(key: jwt.PyJWK, alg: str) -> None:
    # PyJWK binds one algorithm to a key (from its "alg", or inferred from kty/crv); a token must not
    # get a key published for one algorithm verified under another.
    if key.algorithm_name != alg:
        raise jwt.InvalidAlgorithmError(f"key is published for {key.algorithm_name}, token uses {alg}")
