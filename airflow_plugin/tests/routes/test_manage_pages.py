"""The passkeys and administration pages: who may open them, what they contain, how they may be shown."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any

import pytest

from support import ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET

if TYPE_CHECKING:
    from collections.abc import Callable

    from fastapi.testclient import TestClient


class _Markup(HTMLParser):
    """Collects what the browser tests rely on: headings, buttons, labels and form controls."""

    def __init__(self) -> None:
        super().__init__()
        self.headings: dict[str, list[str]] = {"h1": [], "h2": []}
        self.buttons: list[str] = []
        self.label_for: dict[str, str] = {}
        self.controls: list[str] = []
        self.inline_scripts = 0
        self.inline_styles = 0
        self._open: tuple[str, dict[str, str | None]] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "script" and not attributes.get("src"):
            self.inline_scripts += 1
        if tag == "style" or "style" in attributes:
            self.inline_styles += 1
        if tag in {"input", "select", "textarea"}:
            self.controls.append(str(attributes.get("id")))
        if tag in {"h1", "h2", "button", "label"}:
            self._open, self._text = (tag, attributes), []

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if self._open is None or tag != self._open[0]:
            return
        text = " ".join("".join(self._text).split())
        attributes = self._open[1]
        if tag in self.headings:
            self.headings[tag].append(text)
        elif tag == "button":
            self.buttons.append(text)
        elif tag == "label":
            self.label_for[str(attributes.get("for"))] = text.replace(" (optional)", "")
        self._open = None


def parse(html: str) -> _Markup:
    markup = _Markup()
    markup.feed(html)
    return markup


# ---- who may open them ----


@pytest.mark.parametrize("page", ["passkeys", "admin"])
def test_without_a_session_the_pages_send_to_login_and_back(mounted: TestClient, page: str) -> None:
    """No Airflow session: 303 to the login page, which returns to this page after a passkey sign-in."""
    response = mounted.get(f"/auth/{page}")
    assert response.status_code == 303
    assert response.headers["location"] == f"/auth/login?next=/auth/{page}"


@pytest.mark.parametrize("page", ["passkeys", "admin"])
def test_a_forged_or_expired_session_is_no_session(mounted: TestClient, manager: Any, page: str) -> None:
    """The _token cookie is validated like Airflow does: a forged or expired token does not open the page."""
    from support import session_user

    mounted.cookies.set("_token", "forged.token.value", domain="testserver.local", path="/")
    assert mounted.get(f"/auth/{page}").status_code == 303
    expired = manager.generate_jwt(session_user(), expiration_time_in_seconds=-120)
    mounted.cookies.set("_token", expired, domain="testserver.local", path="/")
    assert mounted.get(f"/auth/{page}").status_code == 303


def test_a_session_past_its_absolute_lifetime_is_no_session(
    mounted: TestClient, sign_in: Callable[..., Any]
) -> None:
    """The absolute session lifetime (session_expires_at) applies to these pages too."""
    sign_in(session_expires_at=1)
    assert mounted.get("/auth/passkeys").status_code == 303


def test_non_admin_gets_a_403_page_naming_the_admin_role(
    mounted: TestClient, sign_in: Callable[..., Any]
) -> None:
    """Administration is for Airflow's ADMIN role only; others learn which role they lack."""
    for role in ("VIEWER", "USER", "OP"):
        sign_in(role=role)
        response = mounted.get("/auth/admin")
        assert response.status_code == 403
        assert "text/html" in response.headers["content-type"]
        assert "Admin role" in response.text
        assert "admin.js" not in response.text


def test_admin_gets_the_administration_page(mounted: TestClient, sign_in: Callable[..., Any]) -> None:
    """An ADMIN session opens the page."""
    sign_in(role="ADMIN")
    response = mounted.get("/auth/admin")
    assert response.status_code == 200
    assert parse(response.text).headings["h1"] == ["Administration"]


def test_admin_page_knows_airflows_own_service_account(
    mounted: TestClient, sign_in: Callable[..., Any]
) -> None:
    """The page names Airflow's own client id (never its secret), so it can warn before disabling or
    rotating it; the group editor's dialog is on the page."""
    sign_in(role="ADMIN")
    html = mounted.get("/auth/admin").text
    assert f'data-airflow-client-id="{ADMIN_CLIENT_ID}"' in html
    assert ADMIN_CLIENT_SECRET not in html
    assert 'id="text-dialog"' in html


def test_invite_form_offers_the_configured_groups_with_what_they_give(
    mounted: TestClient, sign_in: Callable[..., Any]
) -> None:
    """Next to Groups: each role_mapping group as a choice (free text still allowed) and the role it gives."""
    sign_in(role="ADMIN")
    html = mounted.get("/auth/admin").text
    assert 'list="invite-group-choices"' in html
    for group, role in {"airflow-admins": "ADMIN", "ops": "OP", "users": "USER", "viewers": "VIEWER"}.items():
        assert f'<option value="{group}">{role}</option>' in html
        assert f"<td><code>{group}</code></td><td>{role}</td>" in html


# ---- what they contain (the browser tests' selectors) ----


def test_passkeys_page_markup(mounted: TestClient, sign_in: Callable[..., Any]) -> None:
    """Heading, the add button, the rename dialog's labelled field, step-up and status regions."""
    sign_in()
    html = mounted.get("/auth/passkeys").text
    markup = parse(html)
    assert markup.headings["h1"] == ["Passkeys"]
    assert "Add a passkey" in markup.buttons
    assert "Confirm with your passkey" in markup.buttons
    assert markup.label_for["rename-input"] == "Passkey name"
    assert 'id="status" class="status" role="status"' in html
    assert '<dialog id="step-up-dialog"' in html
    assert '<dialog id="confirm-dialog"' in html
    assert "static/manage.js" in html
    assert "static/passkeys.js" in html
    assert "Passkey administration" not in html  # not an admin


def test_passkeys_page_offers_the_agent_grant_to_a_role_holder_only(
    mounted: TestClient, sign_in: Callable[..., Any]
) -> None:
    """A person with a role gets the grant form; one without is told why, and gets no form."""
    sign_in(role="USER")
    markup = parse(html := mounted.get("/auth/passkeys").text)
    assert markup.label_for["grant-agent"] == "Agent"
    assert markup.label_for["grant-scope"] == "DAGs and actions, one per line"
    assert "Let it act for me" in markup.buttons
    assert "static/delegation-grant.js" in html
    sign_in(role=None)
    roleless = mounted.get("/auth/passkeys").text
    assert 'id="grant-form"' not in roleless
    assert "You have no role in Airflow, so you cannot let an agent act for you" in roleless


def test_passkeys_page_links_admins_to_administration(
    mounted: TestClient, sign_in: Callable[..., Any]
) -> None:
    """Admins get a link to the administration page from their passkeys page."""
    sign_in(role="ADMIN")
    assert '<a href="admin">Passkey administration</a>' in mounted.get("/auth/passkeys").text


def test_admin_page_markup(mounted: TestClient, sign_in: Callable[..., Any]) -> None:
    """Sections, buttons and field labels exactly as the browser tests name them."""
    sign_in(role="ADMIN")
    markup = parse(mounted.get("/auth/admin").text)
    assert markup.headings["h2"][:6] == [
        "Invite a user",
        "Users",
        "Service accounts",
        "Agents acting for people",
        "Signing keys",
        "Audit trail",
    ]
    for name in (
        "Create invite",
        "Copy link",
        "Create service account",
        "Rotate signing keys",
        "Show delegations",
        "Apply filters",
        "Load more",
        "Confirm with your passkey",
    ):
        assert markup.buttons.count(name) == 1, name
    labels = set(markup.label_for.values())
    for label in (
        "Username",
        "Display name",
        "Groups",
        "Invite link",
        "Client ID",
        "Client secret",
        "Event type",
        "Outcome",
    ):
        assert label in labels, label
    # Playwright's getByLabel matches substrings: no other label may contain these names.
    for name in ("Username", "Groups", "Client ID", "Client secret", "Invite link", "Event type", "Outcome"):
        assert [label for label in labels if name.lower() in label.lower()] == [name], name


@pytest.mark.parametrize(("page", "role"), [("passkeys", "USER"), ("admin", "ADMIN")])
def test_every_control_has_a_label_and_no_inline_code(
    mounted: TestClient, sign_in: Callable[..., Any], page: str, role: str
) -> None:
    """Every input/select has a <label for>; no inline script or style (the CSP would block them)."""
    sign_in(role=role)
    markup = parse(mounted.get(f"/auth/{page}").text)
    assert markup.controls
    assert [control for control in markup.controls if control not in markup.label_for] == []
    assert markup.inline_scripts == 0
    assert markup.inline_styles == 0


def test_username_is_escaped(mounted: TestClient, sign_in: Callable[..., Any]) -> None:
    """The one value templated into the page is HTML-escaped."""
    sign_in(username="<script>alert(1)</script>")
    html = mounted.get("/auth/passkeys").text
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html


# ---- how they may be shown ----


@pytest.mark.parametrize(("page", "role"), [("passkeys", "USER"), ("admin", "ADMIN"), ("admin", "USER")])
def test_manage_pages_may_be_framed_by_airflow_only(
    mounted: TestClient, sign_in: Callable[..., Any], page: str, role: str
) -> None:
    """Airflow's UI shows these pages in a same-origin iframe; no other site may frame them."""
    sign_in(role=role)
    headers = mounted.get(f"/auth/{page}").headers
    csp = headers["content-security-policy"]
    assert "frame-ancestors 'self'" in csp
    assert "script-src 'self'" in csp
    assert "default-src 'none'" in csp
    assert headers["x-frame-options"] == "SAMEORIGIN"
    assert headers["cache-control"] == "no-store"


def test_pages_share_the_base_template(mounted: TestClient, sign_in: Callable[..., Any]) -> None:
    """One head for every page: same stylesheet, SimpleWebAuthn bundle and shared script, own title."""
    sign_in(role="ADMIN")
    titles = {
        "/auth/login": "Sign in · Airflow",
        "/auth/enroll?invite=x": "Set up a passkey · Airflow",
        "/auth/passkeys": "Passkeys · Airflow",
        "/auth/admin": "Passkey administration · Airflow",
    }
    for path, title in titles.items():
        html = mounted.get(path).text
        assert f"<title>{title}</title>" in html
        assert html.count('<link rel="stylesheet" href="static/webauthn.css" />') == 1
        assert html.count("static/vendor/simplewebauthn-browser.umd.min.js") == 1
        assert html.count('src="static/common.js"') == 1


@pytest.mark.parametrize(
    "asset",
    [
        "manage.js",
        "passkeys.js",
        "admin.js",
        "admin-tables.js",
        "admin-system.js",
        "admin-command-lines.js",
        "admin-invites.js",
        "admin-users.js",
        "admin-service-accounts.js",
    ],
)
def test_manage_assets_are_served(mounted: TestClient, asset: str) -> None:
    """The new pages' scripts ship inside the package."""
    assert mounted.get(f"/auth/static/{asset}").status_code == 200
