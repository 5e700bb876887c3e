"""Pydantic request and response bodies of the manager's routes."""

from __future__ import annotations

# The service stores a passkey label in 128 characters (``passkeys.label``); one bound for every body.
PASSKEY_LABEL_MAX = 128
