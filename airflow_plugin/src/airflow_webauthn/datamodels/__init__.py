"""Pydantic request and response bodies of the manager's routes."""

from __future__ import annotations

# The service's one passkey label limit (PASSKEY_LABEL_MAX_LENGTH in libs/webauthn); one bound for every body
# and the page's input, so a label the page accepts is never refused by the service.
PASSKEY_LABEL_MAX = 100
