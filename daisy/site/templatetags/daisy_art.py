"""The site's own illustrations (SVG in daisy/static/daisy/img/), picked for what a page shows."""

from __future__ import annotations

from django import template
from django.templatetags.static import static

register = template.Library()

# Treatments with an illustration of their own; any other treatment gets the clinic's daisy.
_TREATMENT_ART = {
    "microneedling",
    "consultation",
    "chemical-peel",
    "laser-hair-removal",
    "led-therapy",
}


@register.simple_tag
def treatment_art(slug: str) -> str:
    name = f"treatment-{slug}.svg" if slug in _TREATMENT_ART else "logo.svg"
    return static(f"daisy/img/{name}")
