"""Logic behind the auth manager and its routes: token verification, roles, calls to the auth service."""

from __future__ import annotations
