from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def clinic(request: HttpRequest) -> dict[str, Any]:
    return {"clinic_name": settings.DAISY_CLINIC_NAME}
