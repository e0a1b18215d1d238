"""Staff-written text -> HTML: a blank line starts a paragraph, lines starting with "- " make a
bulleted list, a line starting with "## " is a heading (an h2 with an id, so a notice's sections
can be linked to). Everything is escaped: the admin is trusted with words, not markup."""

from __future__ import annotations

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import slugify

register = template.Library()


@register.filter
def blocks(text: str | None) -> SafeString:
    html: list[str] = []
    items: list[str] = []
    para: list[str] = []

    def flush() -> None:
        if para:
            html.append(f"<p>{escape(' '.join(para))}</p>")
            para.clear()
        if items:
            html.append("<ul>" + "".join(f"<li>{escape(i)}</li>" for i in items) + "</ul>")
            items.clear()

    for raw in (text or "").splitlines():
        line = raw.strip()
        if not line:
            flush()
        elif line.startswith("## "):
            flush()
            heading = line[3:].strip()
            html.append(f'<h2 id="{escape(slugify(heading))}">{escape(heading)}</h2>')
        elif line.startswith("- "):
            if para:
                flush()
            items.append(line[2:].strip())
        else:
            if items:
                flush()
            para.append(line)
    flush()
    return mark_safe("\n".join(html))  # noqa: S308 - every piece above is escaped
