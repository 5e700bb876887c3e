"""The service's group-name rule (libs/config/src/group-name.ts), for the groups Airflow's settings name.

The token's groups arrive in canonical form (Unicode NFC, no surrounding whitespace, case kept); the groups
in ``role_mapping`` and ``dag_access`` go through the same rule when the settings are read, so every
comparison is between two canonical names. A name the rule refuses could never match a token's group: it
is a settings error, not something to keep silently.
"""

from __future__ import annotations

import unicodedata

_PUNCTUATION = frozenset("._:@-")
MAX_LENGTH = 128
RULE = (
    "letters, digits and . _ : @ - (no spaces inside), starting with a letter or digit, "
    f"at most {MAX_LENGTH} characters"
)


def canonical_group_name(raw: str) -> str:
    """The compared form of ``raw``; ``ValueError`` naming the rule when the name is not usable."""
    name = unicodedata.normalize("NFC", raw).strip()
    if (
        not name
        or len(name) > MAX_LENGTH
        or not name[0].isalnum()
        or not all(c.isalnum() or c in _PUNCTUATION or unicodedata.category(c).startswith("M") for c in name)
    ):
        raise ValueError(f"group {raw.strip()[:40]!r} is not a group name: use {RULE}")
    return name
