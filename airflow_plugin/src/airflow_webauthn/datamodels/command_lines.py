"""What a page may see of a one-time CLI code or a command line signed in with one.

The service's view holds no secret (only a hash of the code is stored, and never sent), but only these
fields reach the Passkeys and administration pages, so a field the service adds later is not shown
until someone decides it should be.
"""

from __future__ import annotations

from typing import Any

FIELDS = (
    "id",
    "state",
    "createdAt",
    "expiresAt",
    "usedAt",
    "lastUsedAt",
    "createdFrom",
    "usedFrom",
    "client",
)


def command_line_view(row: Any) -> dict[str, Any] | None:
    return {name: row.get(name) for name in FIELDS} if isinstance(row, dict) else None


def command_line_views(rows: Any, state: str) -> list[dict[str, Any]]:
    """The rows in ``state`` (``signed_in`` or ``pending``); anything that is not a row is dropped."""
    views = [command_line_view(row) for row in rows] if isinstance(rows, list) else []
    return [view for view in views if view is not None and view["state"] == state]
