"""Bar charts drawn on the server as SVG, for the owner's reports (issue 16, item 5).

No script and no style attribute (the desk's CSP refuses inline styles): sizes and colours are
SVG presentation attributes. Each chart is an image with a name (role="img", <title>) and a
description, and the page shows a table of the same numbers beside it, which is what a screen
reader or a keyboard user reads."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

# Dark enough on white for text and bars alike (WCAG 1.4.11: 3:1 for graphics).
COLOURS = ("#1d6b57", "#a33a1e", "#5b4a8a")
WIDTH = 640
LABEL_WIDTH = 200
VALUE_WIDTH = 90
BAR_HEIGHT = 16
BAR_GAP = 4
GROUP_GAP = 12
LEGEND_HEIGHT = 26
LABEL_CHARS = 28


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"


def bar_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    labels: Sequence[str],
    series: Sequence[Series],
    show: Callable[[float | None], str],
    top: float | None = None,
) -> SafeString:
    """Horizontal bars, one group per label and one bar per series in it; `top` is the value
    a full bar stands for (the largest value when None); `show` writes a value as text."""
    values = [v for s in series for v in s.values if v is not None]
    scale_top = top if top is not None else max(values, default=0)
    bar_room = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    legend = LEGEND_HEIGHT if len(series) > 1 else 0
    group = len(series) * (BAR_HEIGHT + BAR_GAP) - BAR_GAP + GROUP_GAP
    height = legend + max(len(labels), 1) * group + GROUP_GAP
    parts: list[SafeString] = []
    if legend:
        x = LABEL_WIDTH
        for n, s in enumerate(series):
            parts.append(
                format_html(
                    '<rect x="{}" y="6" width="12" height="12" fill="{}"></rect>'
                    '<text x="{}" y="16" font-size="13" fill="#222">{}</text>',
                    x,
                    COLOURS[n % len(COLOURS)],
                    x + 16,
                    s.name,
                )
            )
            x += 24 + 8 * len(s.name)
    for i, label in enumerate(labels):
        y0 = legend + GROUP_GAP + i * group
        middle = y0 + (group - GROUP_GAP) / 2
        parts.append(
            format_html(
                '<text x="{}" y="{}" font-size="13" fill="#222" text-anchor="end" '
                'dominant-baseline="middle">{}</text>',
                LABEL_WIDTH - 8,
                f"{middle:.1f}",
                _short(label),
            )
        )
        for n, s in enumerate(series):
            value = s.values[i]
            length = 0.0
            if value is not None and scale_top > 0:
                length = max(0.0, min(1.0, value / scale_top)) * bar_room
            y = y0 + n * (BAR_HEIGHT + BAR_GAP)
            parts.append(
                format_html(
                    '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"></rect>'
                    '<text x="{}" y="{}" font-size="12" fill="#222" '
                    'dominant-baseline="middle">{}</text>',
                    LABEL_WIDTH,
                    y,
                    f"{length:.1f}",
                    BAR_HEIGHT,
                    COLOURS[n % len(COLOURS)],
                    f"{LABEL_WIDTH + length + 6:.1f}",
                    f"{y + BAR_HEIGHT / 2:.1f}",
                    show(value),
                )
            )
    axis = format_html(
        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#555" stroke-width="1"></line>',
        LABEL_WIDTH,
        legend + 4,
        LABEL_WIDTH,
        height - 4,
    )
    body = mark_safe("".join(parts))  # noqa: S308 - every part built by format_html
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="report-chart" role="img" '
        'viewBox="0 0 {w} {h}" width="{w}" height="{h}" aria-labelledby="{id}-title {id}-desc">'
        '<title id="{id}-title">{title}</title><desc id="{id}-desc">{desc}</desc>'
        "{axis}{body}</svg>",
        w=WIDTH,
        h=f"{height:.0f}",
        id=chart_id,
        title=title,
        desc=description,
        axis=axis,
        body=body,
    )


__all__ = ["Series", "bar_chart"]
