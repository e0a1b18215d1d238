"""The diary's appointment blocks, written in Python: a day of 150 appointments drawn node by
node in the template language took most of the page's time (bench: desk_day_page_ms). Same
markup as a template would give, every value escaped."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.simple_tag
def appointment_block(item: Any, column: Any, prefix: str) -> SafeString:
    """One appointment in one column: its phases as background rows, its words on top, a link
    that opens its panel (with htmx) or its page (without). `prefix`: the appointments' URL
    prefix, reversed once per page."""
    a = item.appointment
    url = f"{prefix}{a.id}/"
    classes = f"appt st-{a.status}{' has-warning' if a.has_warning else ''}"
    classes += f" r-{item.row + 1} s-{item.span} c-{column.index}"
    phases = "".join(
        f'<div class="phase ph-{b.kind} r-{rel} s-{b.span}" title="{escape(b.name)}"></div>'
        for b, rel in item.inner
    )
    who = ""
    if column.kind != "specialist" and a.specialist_name:
        who = f" · {escape(a.specialist_name)}"
    flags = ""
    if a.flags:
        flags = (
            '<span class="appt-flags">'
            + "".join(
                f'<span class="flag flag-{f.code}{" warn" if f.is_warning else ""}">'
                f"{escape(f.label)}</span>"
                for f in a.flags
            )
            + "</span>"
        )
    return mark_safe(  # noqa: S308 - every value above is escaped or generated here
        f'<a class="{classes}" href="{url}" hx-get="{url}" hx-target="#panel" '
        f'hx-swap="outerHTML" hx-sync="#panel:replace" data-appointment="{a.id}">{phases}'
        f'<div class="appt-text r-1 s-{item.span}">'
        f'<span class="appt-time">{a.starts_at:%H:%M}–{a.ends_at:%H:%M}</span>'
        f'<span class="appt-client">{escape(a.client_name)}</span>'
        f'<span class="appt-what">{escape(a.treatment_name)}{who}</span>'
        f'<span class="appt-status">{escape(a.status_label)}</span>{flags}</div></a>'
    )


@register.simple_tag
def appointments_prefix() -> str:
    """/desk/appointments/ (whatever the desk is mounted at)."""
    sample = "00000000-0000-0000-0000-000000000000"
    return reverse("desk:appointment", args=[sample]).replace(f"{sample}/", "")
