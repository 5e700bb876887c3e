"""Rendering the plugin's HTML pages: one Jinja environment, one set of security headers per kind of page.

Any route that answers with a page (``routes.pages``, the provider's passkey step in ``routes.oidc``)
calls ``page``; scripts live in ``static/``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi.templating import Jinja2Templates

from airflow_webauthn.routes.csrf import configured_origin

if TYPE_CHECKING:
    from fastapi import Request
    from fastapi.responses import HTMLResponse

_templates = Jinja2Templates(directory=Path(__file__).resolve().parent.parent / "templates")

_COMMON_HEADERS = {
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


def _csp(frame_ancestors: str) -> str:
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        f"base-uri 'self'; form-action 'self'; frame-ancestors {frame_ancestors}"
    )


# Pages only load their own scripts and styles and only call Airflow's origin; they are never cached.
# The login and enrollment pages may never be framed (clickjacking a passkey prompt).
PAGE_HEADERS = {
    "Content-Security-Policy": _csp("'none'"),
    "X-Frame-Options": "DENY",
    **_COMMON_HEADERS,
}
# Airflow's own UI shows the passkeys and administration pages (its "Security" menu items) in a
# same-origin iframe, so they may be framed by Airflow's origin only.
MANAGE_PAGE_HEADERS = {
    "Content-Security-Policy": _csp("'self'"),
    "X-Frame-Options": "SAMEORIGIN",
    **_COMMON_HEADERS,
}


def page(
    request: Request,
    template: str,
    *,
    scripts: tuple[str, ...] = (),
    context: dict[str, Any] | None = None,
    headers: dict[str, str] = PAGE_HEADERS,
    status_code: int = 200,
    depth: int = 0,
) -> HTMLResponse:
    """A page from ``templates/`` with the security headers every page carries (``headers``)."""
    # <base href> = the sub-app's root (e.g. "/auth/"), so relative asset and API URLs work wherever
    # Airflow mounts it ([api] base_url with a path, proxies): the page's directory, less ``depth``
    # folders for a page routed below the root (/auth/oidc/passkey has depth 1).
    base_href = request.url.path.rsplit("/", 1 + depth)[0] + "/"
    response = _templates.TemplateResponse(
        request,
        template,
        {
            "base_href": base_href,
            "scripts": scripts,
            "wide": False,
            # Where passkeys work, for the page's "cannot be used at this address" message.
            "passkey_origin": configured_origin() or "",
            **(context or {}),
        },
        status_code=status_code,
    )
    response.headers.update(headers)
    return response
