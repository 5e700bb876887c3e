"""What the pages see of the service's delegations (``DelegationView``) and of the agents to choose from."""

from __future__ import annotations

from typing import Any

# Only these fields reach the person's page; the admin page also sees whose delegation it is.
_FIELDS = (
    "id",
    "state",
    "endedBecause",
    "agentName",
    "agentClientId",
    "scope",
    "depth",
    "createdAt",
    "expiresAt",
    "revokedAt",
)
_ADMIN_FIELDS = ("username", *_FIELDS, "lastRefreshedAt")


def delegation_view(item: Any, *, fields: tuple[str, ...] = _FIELDS) -> dict[str, Any] | None:
    return {name: item.get(name) for name in fields} if isinstance(item, dict) else None


def admin_delegation_view(item: Any) -> dict[str, Any] | None:
    return delegation_view(item, fields=_ADMIN_FIELDS)


def delegation_views(body: Any, *, fields: tuple[str, ...] = _FIELDS) -> list[dict[str, Any]]:
    items = body if isinstance(body, list) else []
    return [view for view in (delegation_view(item, fields=fields) for item in items) if view is not None]


def admin_delegation_views(body: Any) -> list[dict[str, Any]]:
    return delegation_views(body, fields=_ADMIN_FIELDS)


def agent_choices(body: Any) -> list[dict[str, Any]]:
    """The agents a person may choose: name and client id, nothing else even if the service said more."""
    items = body if isinstance(body, list) else []
    return [{"name": a.get("name"), "clientId": a.get("clientId")} for a in items if isinstance(a, dict)]


def granted_view(body: Any) -> dict[str, Any]:
    """The new delegation and the agent's first refresh token (the page shows it once)."""
    created = body if isinstance(body, dict) else {}
    return {
        "delegation": delegation_view(created.get("delegation")),
        "refreshToken": created.get("refresh_token"),
    }
