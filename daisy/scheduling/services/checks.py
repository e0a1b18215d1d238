"""The checks every scheduling write makes before it takes any lock: a sane start, a treatment on
offer, a location that offers it and where the chosen specialist works; and the helpers that
scope idempotency keys to whoever acted."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _

from daisy.clinic.models import Location, Specialist
from daisy.lib.errors import InvalidTime, PermissionDenied, ValidationFailed
from daisy.lib.times import SANE_YEARS, is_sane_year
from daisy.scheduling import selectors
from daisy.treatments.models import Treatment


def is_staff(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_clinic_staff", False))


def request_fingerprint(**parts: Any) -> str:
    """What a request asked for, so a replayed idempotency key with another body is refused."""
    raw = json.dumps({k: str(v) for k, v in sorted(parts.items())}, sort_keys=True)
    return hashlib.sha256(raw.encode()).hexdigest()


def idempotency_scope(actor: Any, key: str) -> str:
    """An idempotency key belongs to whoever sent it: two callers never share one."""
    owner = str(actor.pk) if getattr(actor, "pk", None) else "anonymous"
    return f"{owner}:{key}"


def start_check(starts_at: datetime, *, new: bool = False) -> None:
    """An aware start within sane years, or a clear InvalidTime (never an overflow later)."""
    if starts_at.tzinfo is None:
        what = _("The new start time") if new else _("The start time")
        raise InvalidTime(
            _("%(what)s needs a time zone or UTC offset.") % {"what": what},
            fields={"start": "naive"},
        )
    if not is_sane_year(starts_at):
        raise InvalidTime(
            _("Choose a time between %(low)s and %(high)s.")
            % {"low": SANE_YEARS[0], "high": SANE_YEARS[1]},
            fields={"start": "out of range"},
        )


def _resolve_location(
    treatment: Treatment, location: Location | None, specialist: Specialist | None
) -> Location:
    if location is not None:
        if not location.is_active:
            raise ValidationFailed(
                _("That location is closed for bookings."), fields={"location": "inactive"}
            )
        return location
    options = list(selectors.locations_offering(treatment))
    if specialist is not None:
        theirs = set(specialist.locations.values_list("pk", flat=True))
        options = [loc for loc in options if loc.pk in theirs]
    if len(options) == 1:
        return options[0]
    if not options:
        raise ValidationFailed(
            _("No location offers %(treatment)s at the moment.") % {"treatment": treatment.name},
            fields={"location": "none"},
        )
    raise ValidationFailed(
        _("Choose a location for this booking."), fields={"location": "required"}
    )


def booking_request_check(
    *,
    treatment: Treatment,
    for_staff: bool,
    location: Location | None = None,
    specialist: Specialist | None = None,
    starts_at: datetime | None = None,
) -> Location:
    """What every booking, hold and course checks before taking any lock: a sane start, a
    treatment on offer (online only where it is bookable online), a location that offers it and
    where the chosen specialist works. Returns the location."""
    if starts_at is not None:
        start_check(starts_at)
    treatment_on_offer_check(treatment, for_staff=for_staff)
    loc = _resolve_location(treatment, location, specialist)
    if specialist is not None:
        specialist_check_works_at(specialist, loc)
    return loc


def treatment_on_offer_check(treatment: Treatment, *, for_staff: bool) -> None:
    """The treatment is offered, and online only where it is bookable online: checked before
    anything is asked of the client (a course's health questions, say)."""
    if not treatment.is_active:
        raise ValidationFailed(
            _("%(treatment)s is not offered at the moment.") % {"treatment": treatment.name},
            fields={"treatment": "inactive"},
        )
    if not for_staff and not treatment.is_online_bookable:
        raise PermissionDenied(
            _("%(treatment)s is booked by the clinic: please call us.")
            % {"treatment": treatment.name}
        )


def specialist_check_works_at(specialist: Specialist, location: Location) -> None:
    if not specialist.locations.filter(pk=location.pk).exists():
        raise ValidationFailed(
            _("%(specialist)s does not work at %(location)s.")
            % {"specialist": specialist.name, "location": location.name},
            fields={"specialist": "wrong location"},
        )
