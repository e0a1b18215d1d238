"""What a page says about itself to search engines and social sites (base.html's <head>)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.text import Truncator

register = template.Library()

MAX_DESCRIPTION = 200


@register.simple_tag(takes_context=True)
def page_description(context: Any) -> str:
    """The view's own description, else the staff-written page's opening, else the clinic's.
    Plain text, shortened before it is escaped, so a cut never splits an escaped character."""
    page = context.get("page")
    text = (
        context.get("meta_description")
        or getattr(page, "lead", "")
        or context.get("default_description", "")
    )
    return Truncator(" ".join(str(text).split())).chars(MAX_DESCRIPTION)
