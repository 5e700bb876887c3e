"""Service tokens that already passed every signature and claims check, remembered until they expire.

A Bearer token is sent again with every API call; checking its Ed25519 signature each time is most of
what the manager spends on it. This cache lets the second and later sights of the same token skip
that work, and nothing else: whoever uses it must still confirm that the key which verified the token
is still the one the service publishes for its ``kid`` (``ServiceTokenVerifier`` does), and the
current-state checks (revocation, session and service-account re-checks) are not its business at all.

What an attacker cannot do with it:
- get a token in that did not verify: entries are only added after a full verification succeeded;
- get a token served past its ``exp``: entries are dropped at ``exp`` by the injected wall clock;
- make one token stand for another: the key is the SHA-256 of the whole token (header, payload and
  signature), so any change to any byte is another entry; the raw token (a bearer secret) is not kept;
- grow it without bound: at most ``max_entries``, least recently used first out;
- have two requests share one claims dict: each hit parses the stored payload bytes afresh.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

    import jwt


@dataclass(frozen=True, slots=True)
class VerifiedToken:
    """What a full verification established about one token."""

    kid: str
    key: jwt.PyJWK  # the very key object that verified the signature
    expires_at: float  # the token's exp
    payload: bytes  # the verified claims, as JSON

    def claims(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.payload)
        return parsed


class VerifiedTokenCache:
    """A bounded LRU map from a token's SHA-256 to its ``VerifiedToken``; safe to share between threads."""

    def __init__(self, *, max_entries: int, clock: Callable[[], float] = time.time) -> None:
        """``clock`` is wall-clock time (seconds since the epoch), the scale of ``exp``."""
        self._max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[bytes, VerifiedToken] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def digest(token: str) -> bytes:
        return hashlib.sha256(token.encode()).digest()

    def get(self, digest: bytes) -> VerifiedToken | None:
        """The entry for this token, or None when there is none or it has reached its ``exp``."""
        with self._lock:
            entry = self._entries.get(digest)
            if entry is None:
                return None
            if self._clock() >= entry.expires_at:
                del self._entries[digest]
                return None
            self._entries.move_to_end(digest)
            return entry

    def put(self, digest: bytes, entry: VerifiedToken) -> None:
        if self._max_entries <= 0 or self._clock() >= entry.expires_at:
            return
        with self._lock:
            self._entries[digest] = entry
            self._entries.move_to_end(digest)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)

    def discard(self, digest: bytes) -> None:
        with self._lock:
            self._entries.pop(digest, None)

    def __len__(self) -> int:
        return len(self._entries)
