"""The severity chart is drawn on the server: safe text, one dot per grading, worst at the top."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from daisy.portal.charts import HEIGHT, TOP, severity_svg

LONDON = ZoneInfo("Europe/London")


def test_chart_escapes_text_and_places_worse_grades_higher() -> None:
    svg = severity_svg(
        ident="a<1>",
        title='cheeks <script>alert("x")</script>',
        points=[
            (datetime(2030, 1, 7, 23, 30, tzinfo=LONDON), 4),
            (datetime(2030, 2, 4, 10, tzinfo=LONDON), 1),
        ],
    )
    assert "<script>" not in svg and "&lt;script&gt;" in svg and 'id="a&lt;1&gt;-t"' in svg
    assert "7 Jan: grade 4; 4 Feb: grade 1" in svg  # the description a screen reader reads
    circles = [c for c in svg.split("<circle ")[1:]]
    y_worst = float(circles[0].split('cy="')[1].split('"')[0])
    y_best = float(circles[1].split('cy="')[1].split('"')[0])
    assert y_worst == TOP and y_best > y_worst and y_best < HEIGHT


def test_one_grading_is_one_dot_and_no_line() -> None:
    svg = severity_svg(ident="b", title="t", points=[(datetime(2030, 1, 7, tzinfo=LONDON), 2)])
    assert svg.count("<circle") == 1 and "<polyline" not in svg
