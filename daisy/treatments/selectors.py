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


# DOMAIN.md 1.2 interval rules: needling sessions are at least 28 days apart (any two sessions
# of a client, course or not); closer needs a clinician's recorded reason.
NEEDLING_DEVICE = "microneedling_pen"
MIN_SESSION_GAP_DAYS = 28


def treatment_is_needling(treatment: Treatment) -> bool:
    """The treatment needles the skin (a phase uses the micro-needling pen)."""
    return any(p.device_kind == NEEDLING_DEVICE for p in treatment.phases.all())
