from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from daisy.lib.errors import NotFound
from daisy.treatments.models import Phase, Treatment


def treatment_list_public() -> QuerySet[Treatment]:
    return Treatment.objects.filter(is_active=True).prefetch_related(
        Prefetch("phases", queryset=Phase.objects.order_by("order"))
    )


def treatment_get(*, slug: str) -> Treatment:
    treatment = (
        Treatment.objects.filter(slug=slug, is_active=True)
        .prefetch_related(Prefetch("phases", queryset=Phase.objects.order_by("order")))
        .first()
    )
    if treatment is None:
        raise NotFound(f"There is no treatment called “{slug}”.", fields={"treatment": "unknown"})
    return treatment
