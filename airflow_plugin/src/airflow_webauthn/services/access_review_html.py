"""The access review as one self-contained HTML page: tables, an inline SVG chart, print CSS, no external
asset (an auditor opens it offline, or prints it to PDF)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from airflow_webauthn.services.access_review import passkey_summary

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
CHART_WIDTH = 1000
CHART_HEIGHT = 140


def sign_ins_chart(days: Sequence[Mapping[str, Any]]) -> Markup:
    """Bars of sign-ins per day as inline SVG: a title per bar, a text summary for screen readers.

    Every value placed in it is a number or escaped, hence ``Markup``."""
    top = max((int(d["count"]) for d in days), default=0) or 1
    plot = CHART_HEIGHT - 30
    step = CHART_WIDTH / max(len(days), 1)
    bars = []
    for index, day in enumerate(days):
        height = plot * int(day["count"]) / top
        bars.append(
            f'<rect x="{index * step + 1:.1f}" y="{10 + plot - height:.1f}" width="{max(step - 2, 1):.1f}" '
            f'height="{height:.1f}" class="bar">'
            f"<title>{escape(day['day'])}: {int(day['count'])}</title></rect>"
        )
    total = sum(int(d["count"]) for d in days)
    first, last = (days[0]["day"], days[-1]["day"]) if days else ("", "")
    return Markup(  # noqa: S704 - numbers and escaped text only (see above)
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {CHART_WIDTH} {CHART_HEIGHT}" role="img" '
        f'aria-label="{total} sign-ins from {escape(first)} to {escape(last)}, at most {top} a day" '
        f'class="chart"><line x1="0" y1="{10 + plot}" x2="{CHART_WIDTH}" y2="{10 + plot}" class="axis"/>'
        f'{"".join(bars)}<text x="0" y="{CHART_HEIGHT - 4}">{escape(first)}</text>'
        f'<text x="{CHART_WIDTH}" y="{CHART_HEIGHT - 4}" text-anchor="end">{escape(last)}</text>'
        f'<text x="0" y="9">max {top}/day</text></svg>'
    )


def render_html(review: Mapping[str, Any]) -> str:
    env = Environment(loader=FileSystemLoader(_TEMPLATES), autoescape=select_autoescape(["html"]))
    template = env.get_template("access_review.html")
    return template.render(r=review, chart=sign_ins_chart(review["signInsPerDay"]), keys=passkey_summary)
