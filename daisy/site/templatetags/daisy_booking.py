"""Links the done pages offer after a booking: "Add to calendar" (a signed .ics address that
needs no login) and "Manage your booking" (the portal page, for a signed-in client)."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse
from django.utils import timezone

from daisy.aftercare.selectors import calendar_file_path, protocol_get_for_treatment
from daisy.core.aftercare import POST, PRE, describe, timeline

register = template.Library()


@register.simple_tag
def appointment_calendar_path(appointment: Any) -> str:
    return calendar_file_path(appointment=appointment)


@register.simple_tag
def course_calendar_path(course_id: Any) -> str:
    return calendar_file_path(course_id=course_id)


@register.simple_tag
def appointment_manage_path(appointment: Any) -> str:
    return reverse("portal:appointment-detail", args=[appointment.pk])


@register.simple_tag
def appointment_change_until(appointment: Any) -> str:
    """Until when the appointment can be moved or cancelled online: "Saturday 5 January,
    10:00 GMT", in its location's zone."""
    tz = appointment.location.tz
    deadline = appointment.starts_at - appointment.treatment.cancellation_window
    return describe(deadline, session=appointment.starts_at.astimezone(tz))


@register.simple_tag
def care_timeline(treatment: Any, starts_at: Any, location: Any) -> dict[str, list[Any]]:
    """The treatment's pre-care and aftercare dated for a session at `starts_at`, as read now
    ("Stop topical retinoids from Monday 31 December, 10:00 GMT until your appointment"; a step
    already under way reads "from now"): the review page shows what booking this time means."""
    if not starts_at or location is None:
        return {"pre": [], "post": []}
    steps = protocol_get_for_treatment(treatment).steps
    items = timeline(session_start=starts_at, steps=steps, tz=location.tz, now=timezone.now())
    return {
        "pre": [t for t in items if t.kind == PRE],
        "post": [t for t in items if t.kind == POST],
    }


@register.simple_tag
def change_deadline(treatment: Any, starts_at: Any, location: Any) -> dict[str, Any]:
    """What the treatment's no-change window means for a session at `starts_at`, read now:
    the moment online moves and free cancellation end ("Saturday 5 January, 10:00 GMT"), the
    window in hours, and whether that moment has already passed (issue 12: "until 48 hours
    before" said nothing when the time was tomorrow)."""
    if not starts_at or location is None:
        return {}
    deadline = starts_at - treatment.cancellation_window
    return {
        "until": describe(deadline, session=starts_at.astimezone(location.tz)),
        "hours": treatment.cancellation_window_hours,
        "is_past": deadline <= timezone.now(),
        "phone": getattr(location, "phone", ""),
    }
