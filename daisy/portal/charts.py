"""Small charts drawn on the server as inline SVG (no JavaScript; the CSP allows no inline
script or style, so colours are SVG presentation attributes taking the text colour)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.utils.dateformat import format as format_date
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

WIDTH, HEIGHT = 320, 160
LEFT, RIGHT, TOP, BOTTOM = 36, 30, 12, 30
GRADES = (1, 2, 3, 4)  # every scale in DOMAIN.md 1.3 used here grades 1 (mild) to 4 (severe)


def severity_svg(
    *,
    ident: str,
    title: str,
    points: Sequence[tuple[datetime, int]],
    date_format: str = "j M",
) -> SafeString:
    """A line of grades over time, worst at the top; one labelled dot per grading. `ident`
    makes the title and description ids unique on the page. Points are dated as given: pass
    them in the zone the client reads (the location's)."""
    ident = escape(ident)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def y(grade: int) -> float:
        return TOP + plot_h * (GRADES[-1] - grade) / (GRADES[-1] - GRADES[0])

    def x(i: int) -> float:
        return LEFT + (plot_w / 2 if len(points) == 1 else plot_w * i / (len(points) - 1))

    summary = "; ".join(
        _("%(day)s: grade %(grade)s") % {"day": format_date(when, date_format), "grade": grade}
        for when, grade in points
    )
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" '
        f'aria-labelledby="{ident}-t {ident}-d" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{ident}-t">{escape(title)}</title>',
        f'<desc id="{ident}-d">{escape(summary)}</desc>',
    ]
    for grade in GRADES:
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(grade):.1f}" y2="{y(grade):.1f}" '
            'stroke="currentColor" stroke-opacity="0.2"/>'
            f'<text x="{LEFT - 8}" y="{y(grade) + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="currentColor">{grade}</text>'
        )
    if len(points) > 1:
        path = " ".join(f"{x(i):.1f},{y(g):.1f}" for i, (_w, g) in enumerate(points))
        parts.append(
            f'<polyline points="{path}" fill="none" stroke="currentColor" stroke-width="2"/>'
        )
    for i, (when, grade) in enumerate(points):
        parts.append(
            f'<circle cx="{x(i):.1f}" cy="{y(grade):.1f}" r="4" fill="currentColor"/>'
            f'<text x="{x(i):.1f}" y="{HEIGHT - 10}" text-anchor="middle" font-size="11" '
            f'fill="currentColor">{escape(format_date(when, date_format))}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text part is escaped above
