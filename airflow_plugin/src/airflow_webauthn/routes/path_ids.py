"""Ids in service paths: nothing a caller sends can change which service path Airflow calls."""

from __future__ import annotations

import re
from urllib.parse import quote

from airflow_webauthn.routes.responses import ApiRefusalError

# Ids that may appear in a service URL: user ids (UUIDs), usernames, service-account names and client
# ids, passkey and invite ids. Starting with a letter or digit rules out "." and "..".
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$")


def path_id(value: str, what: str = "id") -> str:
    """``value`` as one URL path segment, or a 400."""
    if not _ID.fullmatch(value):
        raise ApiRefusalError(400, "invalid_id", f"That is not a valid {what}.")
    return quote(value, safe="")
