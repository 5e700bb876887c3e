"""Where to send the browser after login: only back to this Airflow, never elsewhere (open redirect)."""

from __future__ import annotations

from urllib.parse import urlsplit


def safe_next_url(next_url: str | None, *, request_origin: str, fallback: str) -> str:
    """Return ``next_url`` if it stays on ``request_origin`` (scheme://host[:port]), else ``fallback``.

    Accepted: a path starting with a single ``/`` (``/dags?x=1``), or an absolute http(s) URL whose
    origin equals the request's. Rejected: scheme-relative ``//evil``, backslash tricks (browsers read
    ``\\`` as ``/``), ``javascript:``/``data:`` and any other scheme, other hosts, control characters.
    """
    if not next_url or len(next_url) > 2048:
        return fallback
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in next_url) or "\\" in next_url:
        return fallback
    if next_url.startswith("/"):
        return fallback if next_url.startswith("//") else next_url
    parts = urlsplit(next_url)
    if parts.scheme.lower() not in {"http", "https"}:
        return fallback
    origin = f"{parts.scheme.lower()}://{parts.netloc.lower()}"
    if parts.username is not None or parts.password is not None:
        return fallback
    return next_url if origin == request_origin.lower().rstrip("/") else fallback
