"""Phone numbers a reader can tap: `{{ phone|tel }}` renders `<a href="tel:...">phone</a>` in
HTML pages and emails (RFC 3966: the number without spaces or punctuation, a leading + kept),
so "call 111" or "call us on 020 7946 0000" dials from a phone."""

from __future__ import annotations

import re

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()

_NOT_DIALLED = re.compile(r"[^0-9+*#]")


def tel_href(phone: str) -> str:
    digits = _NOT_DIALLED.sub("", phone or "")
    if digits.startswith("+"):
        digits = "+" + digits[1:].replace("+", "")
    else:
        digits = digits.replace("+", "")
    return f"tel:{digits}"


@register.filter(name="tel")
def tel(phone: str) -> SafeString | str:
    if not (phone or "").strip():
        return ""
    return format_html('<a href="{}">{}</a>', tel_href(phone), phone)
