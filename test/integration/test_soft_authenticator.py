"""The suite's own tools are right (fast, no servers): CBOR encoding and authenticator data layout."""

from __future__ import annotations

import hashlib

import pytest

from support.soft_authenticator import FLAG_AT, FLAG_UP, FLAG_UV, authenticator_data, cbor_encode


@pytest.mark.parametrize(
    ("value", "encoded"),
    [  # RFC 8949 Appendix A vectors
        (0, "00"),
        (23, "17"),
        (24, "1818"),
        (1000, "1903e8"),
        (1000000, "1a000f4240"),
        (-1, "20"),
        (-8, "27"),
        (-257, "390100"),
        (b"", "40"),
        (b"\x01\x02\x03\x04", "4401020304"),
        ("a", "6161"),
        ([1, [2, 3]], "8201820203"),
        ({1: 2, 3: 4}, "a201020304"),
        ({"a": 1, "b": [2, 3]}, "a26161016162820203"),
        (False, "f4"),
        (True, "f5"),
        (None, "f6"),
    ],
)
def test_cbor_matches_rfc_8949_vectors(value: object, encoded: str) -> None:
    """The tiny encoder agrees with the RFC's examples, so the service decodes what we mean."""
    assert cbor_encode(value).hex() == encoded


def test_authenticator_data_layout() -> None:
    """rpIdHash(32) | flags | counter(4, big endian) | attested data only when AT is set."""
    plain = authenticator_data("localhost", flags=FLAG_UP | FLAG_UV, counter=258)
    assert plain[:32] == hashlib.sha256(b"localhost").digest()
    assert plain[32] == FLAG_UP | FLAG_UV
    assert plain[33:37] == (258).to_bytes(4, "big")
    assert len(plain) == 37
    attested = authenticator_data("localhost", flags=FLAG_UP, counter=0, attested=(bytes(16), b"id", b"\xa0"))
    assert attested[32] & FLAG_AT
    assert attested[37:53] == bytes(16)
    assert attested[53:55] == b"\x00\x02"
    assert attested[55:] == b"id\xa0"
