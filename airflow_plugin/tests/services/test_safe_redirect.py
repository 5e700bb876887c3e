"""Open-redirect protection for the post-login ``next``."""

from __future__ import annotations

import pytest

from airflow_webauthn.services.safe_redirect import safe_next_url

ORIGIN = "https://airflow.example.com"
FALLBACK = "/"


@pytest.mark.parametrize(
    "target",
    [
        "/",
        "/dags",
        "/dags/example/grid?tab=logs#x",
        "https://airflow.example.com/dags",
        "HTTPS://AIRFLOW.EXAMPLE.COM/dags",
    ],
)
def test_same_origin_targets_are_kept(target: str) -> None:
    """Relative paths and absolute URLs on the request's own origin are followed."""
    assert safe_next_url(target, request_origin=ORIGIN, fallback=FALLBACK) == target


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "///evil.example",
        "\\\\evil.example",
        "/\\evil.example",
        "\\/evil.example",
        "https:\\\\evil.example",
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "https://evil.example/dags",
        "http://airflow.example.com/dags",  # other scheme = other origin
        "https://airflow.example.com:8443/",  # other port = other origin
        "https://airflow.example.com.evil.example/",
        "https://airflow.example.com@evil.example/",
        "https://user:pw@airflow.example.com/",
        "/\t/evil.example",
        "/dags\r\nSet-Cookie: x=y",
        " //evil.example",
        "evil.example",
        "",
        None,
        "/" + "a" * 3000,
    ],
)
def test_foreign_or_tricky_targets_fall_back(target: str | None) -> None:
    """Anything that could leave Airflow's origin (or confuse a browser) goes to the fallback."""
    assert safe_next_url(target, request_origin=ORIGIN, fallback=FALLBACK) == FALLBACK
