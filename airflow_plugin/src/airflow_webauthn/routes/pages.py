"""The login and enrollment pages (plain HTML; their scripts live in ``static/``)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

pages_router = APIRouter(include_in_schema=False)

_templates = Jinja2Templates(directory=Path(__file__).resolve().parent.parent / "templates")

# Pages only load their own scripts and styles and only call Airflow's origin; they may never be
# framed (clickjacking a passkey prompt) and never cached (they are cheap and carry no state).
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


def _page(request: Request, template: str) -> HTMLResponse:
    # <base href> = the directory of this page (e.g. "/auth/"), so relative asset and API URLs work
    # wherever Airflow mounts the sub-app ([api] base_url with a path, proxies).
    base_href = request.url.path.rsplit("/", 1)[0] + "/"
    response = _templates.TemplateResponse(request, template, {"base_href": base_href})
    response.headers.update(PAGE_HEADERS)
    return response


@pages_router.get("/login", response_class=HTMLResponse)
def login_page(request: Request) -> HTMLResponse:
    return _page(request, "login.html")


@pages_router.get("/enroll", response_class=HTMLResponse)
def enroll_page(request: Request) -> HTMLResponse:
    return _page(request, "enroll.html")
