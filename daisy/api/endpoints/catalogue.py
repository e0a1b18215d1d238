"""Public information: treatments, locations, specialists and availability.

These need no token, so the clinic's website can show them; a token may still be sent (a staff
token sees staff availability: no minimum notice, longer booking horizon)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router

from daisy.api.auth import TokenAuth, actor_of
from daisy.api.docs import PUBLIC, errors
from daisy.api.errors import ApiError
from daisy.api.refs import location_ref, specialist_ref, treatment_ref
from daisy.api.schemas import (
    ApiDate,
    AvailabilityDaysOut,
    AvailabilityOut,
    LocationOut,
    PrescreenOut,
    Slug,
    SpecialistOut,
    TreatmentOut,
    slot_out,
    slots_by_day,
)
from daisy.api.throttles import AVAILABILITY
from daisy.clinic.selectors import location_list_with_hours, specialist_list_public
from daisy.records.selectors import questionnaire_asked
from daisy.scheduling.selectors import (
    availability_list,
    diary_stamps,
    locations_offering,
    setup_cached,
)
from daisy.treatments.selectors import treatment_get, treatment_list_public

router = Router(tags=["catalogue"], auth=TokenAuth(optional=True))


@router.get(
    "/treatments",
    response={200: list[TreatmentOut], **errors(401)},
    operation_id="treatment_list",
    summary="Treatments offered",
    openapi_extra=PUBLIC,
)
def treatment_list(request: HttpRequest) -> Any:
    out = []
    for t in treatment_list_public():
        phases = list(t.phases.all())
        out.append(
            {
                "id": t.pk,
                "slug": t.slug,
                "name": t.name,
                "summary": t.summary,
                "price": f"{t.price:.2f}",
                "currency": t.currency,
                "duration_minutes": sum(p.duration_minutes for p in phases if not p.is_buffer),
                "is_online_bookable": t.is_online_bookable,
                "phases": [
                    {
                        "name": p.name,
                        "duration_minutes": p.duration_minutes,
                        "is_buffer": p.is_buffer,
                    }
                    for p in phases
                ],
            }
        )
    return out


@router.get(
    "/treatments/{slug}/prescreen",
    response={200: PrescreenOut, **errors(401, 404, 422)},
    operation_id="treatment_prescreen",
    summary="The health questions a client answers to book a treatment online",
    description=(
        "The treatment's online questions, for the `prescreen` field of a client's own booking "
        "(`POST /api/v1/appointments`, `POST /api/v1/courses`)."
    ),
    openapi_extra=PUBLIC,
)
def treatment_prescreen(request: HttpRequest, slug: Slug) -> Any:
    treatment = treatment_get(slug=slug)
    asked = questionnaire_asked(treatment, online=True) if treatment.requires_screening else None
    return {
        "treatment": treatment.slug,
        "questionnaire": asked.questionnaire.slug if asked else "",
        "version": asked.questionnaire.version if asked else 0,
        "questions": [
            {"key": q.key, "text": q.text, "asks_when": q.asks_when}
            for q in (asked.questions if asked else ())
        ],
    }


@router.get(
    "/locations",
    response={200: list[LocationOut], **errors(401)},
    operation_id="location_list",
    summary="Locations and their opening hours",
    openapi_extra=PUBLIC,
)
def location_list(request: HttpRequest) -> Any:
    return [
        {
            "id": h.location.pk,
            "slug": h.location.slug,
            "name": h.location.name,
            "time_zone": h.location.time_zone,
            "address": h.location.address,
            "city": h.location.city,
            "postcode": h.location.postcode,
            "country": h.location.country,
            "phone": h.location.phone,
            "email": h.location.email,
            "opening_hours": [
                {"weekday": day.weekday, "opens": f"{a:%H:%M}", "closes": f"{b:%H:%M}"}
                for day in h.days
                for a, b in day.spans
            ],
        }
        for h in location_list_with_hours()
    ]


@router.get(
    "/specialists",
    response={200: list[SpecialistOut], **errors(401)},
    operation_id="specialist_list",
    summary="Specialists",
    openapi_extra=PUBLIC,
)
def specialist_list(request: HttpRequest) -> Any:
    return [
        {
            "id": s.pk,
            "name": s.name,
            "title": s.title,
            "bio": s.bio,
            "locations": [loc.pk for loc in s.locations.all()],
        }
        for s in specialist_list_public()
    ]


_WINDOW_WORDS = (
    "`start` and `end` are calendar dates in each location's own time zone, **both "
    "inclusive**: `start=2030-01-07&end=2030-01-07` is that whole local day. At most "
    f"{settings.DAISY_MAX_WINDOW_DAYS} days. "
)
_RULES_WORDS = (
    "Without a staff token, the treatment's minimum notice and booking horizon apply, and "
    "treatments that are not bookable online are refused (403). Rate limited per token and "
    "per address."
)


@router.get(
    "/availability",
    response={200: AvailabilityOut, **errors(400, 401, 403, 422, 429)},
    operation_id="availability_list",
    summary="Bookable slots for a treatment",
    description=(
        _WINDOW_WORDS
        + "One slot per start time (the clinic's tie-break picks the resources), or one per "
        "start and specialist when `specialist` is given. Slot times are in the location's "
        "offset. Each slot lists its phases and the resources they would occupy; "
        "`/availability/days` answers the same question in a compact form, a day at a time. "
        + _RULES_WORDS
    ),
    throttle=AVAILABILITY,
    openapi_extra=PUBLIC,
)
def availability(
    request: HttpRequest,
    treatment: Slug = Query(..., description="Treatment slug, e.g. `microneedling`."),
    start: ApiDate = Query(..., description="First local date (YYYY-MM-DD), inclusive."),
    end: ApiDate = Query(..., description="Last local date (YYYY-MM-DD), inclusive."),
    location: uuid.UUID | None = Query(None, description="Only this location."),
    specialist: uuid.UUID | None = Query(
        None, description="Only this specialist (one slot per start and specialist)."
    ),
) -> Any:
    found = _available(request, treatment, start, end, location, specialist)
    # Built as JSON directly: hundreds of slots, and this is the busiest read (issue 3 bench).
    return HttpResponse(_slots_json(found), content_type="application/json; charset=utf-8")


@router.get(
    "/availability/days",
    response={200: AvailabilityDaysOut, **errors(400, 401, 403, 422, 429)},
    operation_id="availability_days",
    summary="Bookable times for a treatment, a day at a time (compact)",
    description=(
        "The same question and the same times as `/availability`, for a booking page: "
        "each local day of each location with its free start times, the specialist each "
        "would use given by id (named once in `specialists`), and no phases. About a "
        "twentieth of the size of `/availability`, so a long window stays small. "
        + _WINDOW_WORDS
        + "Days without a free time are left out. "
        + _RULES_WORDS
    ),
    throttle=AVAILABILITY,
    openapi_extra=PUBLIC,
)
def availability_days(
    request: HttpRequest,
    treatment: Slug = Query(..., description="Treatment slug, e.g. `microneedling`."),
    start: ApiDate = Query(..., description="First local date (YYYY-MM-DD), inclusive."),
    end: ApiDate = Query(..., description="Last local date (YYYY-MM-DD), inclusive."),
    location: uuid.UUID | None = Query(None, description="Only this location."),
    specialist: uuid.UUID | None = Query(
        None, description="Only this specialist (one time per start and specialist)."
    ),
) -> Any:
    found = _available(request, treatment, start, end, location, specialist)
    return HttpResponse(
        json.dumps(slots_by_day(found), ensure_ascii=False, separators=(",", ":")),
        content_type="application/json; charset=utf-8",
    )


def _available(
    request: HttpRequest,
    treatment: str,
    start: date,
    end: date,
    location: uuid.UUID | None,
    specialist: uuid.UUID | None,
) -> list[Any]:
    actor = actor_of(request)
    days = (end - start).days + 1
    if days < 1:
        msg = _("The end date must be on or after the start date.")
        raise ApiError(422, "validation_error", msg, fields={"end": msg})
    if days > settings.DAISY_MAX_WINDOW_DAYS:
        msg = _("Ask for at most %(days)d days at a time.") % {
            "days": settings.DAISY_MAX_WINDOW_DAYS
        }
        raise ApiError(422, "validation_error", msg, fields={"end": msg})
    # The set-up stamp first: the cached treatment and locations are then at least as new.
    stamps = diary_stamps()
    the_treatment = setup_cached(
        stamps=stamps, key=("treatment", treatment), build=lambda: treatment_ref(treatment)
    )
    if not actor.is_staff and not the_treatment.is_online_bookable:
        raise ApiError(
            403,
            "forbidden",
            _("%(name)s is booked by the clinic: please call us.") % {"name": the_treatment.name},
        )
    locations = (
        [location_ref(location)]
        if location is not None
        else setup_cached(
            stamps=stamps,
            key=("locations", the_treatment.pk),
            build=lambda: list(locations_offering(the_treatment)),
        )
    )
    specialist_id = specialist_ref(specialist).pk if specialist is not None else None
    now = timezone.now()
    limit = timedelta(days=settings.DAISY_MAX_WINDOW_DAYS)
    found = []
    for loc in locations:
        # Local midnights, compared in UTC: a clock change inside the window can make it an
        # hour longer than whole days, so it is capped at exactly the maximum.
        window_start = datetime.combine(start, time(0), loc.tz).astimezone(UTC)
        window_end = datetime.combine(end + timedelta(days=1), time(0), loc.tz).astimezone(UTC)
        window_end = min(window_end, window_start + limit)
        found.extend(
            availability_list(
                treatment=the_treatment,
                window_start=window_start,
                window_end=window_end,
                now=now,
                location=loc,
                specialist_id=specialist_id,
                for_staff=actor.is_staff,
            )
        )
    found.sort(key=lambda ls: (ls.slot.start, ls.context.location.name))
    return found


def _slots_json(found: list[Any]) -> str:
    return json.dumps({"slots": [slot_out(located) for located in found]}, ensure_ascii=False)
