from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.templatetags.static import static
from django.utils.translation import gettext_lazy as _

# What a search result or a shared link says about a page that has no words of its own.
DEFAULT_DESCRIPTION = _(
    "Micro-needling and skin treatments from registered, experienced specialists: planned as "
    "a course around your dates, with clear preparation and aftercare. Book online."
)


def clinic(request: HttpRequest) -> dict[str, Any]:
    return {
        "clinic_name": settings.DAISY_CLINIC_NAME,
        "default_description": DEFAULT_DESCRIPTION,
        # Links shared on social sites and search results need whole addresses.
        "canonical_url": request.build_absolute_uri(request.path),
        "social_image_url": request.build_absolute_uri(static("daisy/img/social-card.png")),
    }
