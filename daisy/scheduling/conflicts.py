"""Bookings the clinic's own changes have broken (issue 13, item 5).

A closure, a specialist's time off or shorter opening hours can leave a booked appointment in
time when one of its people, rooms or devices is no longer there. Nothing is stored about
that: an appointment is *affected* exactly while one of its allocations lies outside its
resource's open time as the set-up stands now, so the desk's worklist shows it until it is
moved into open time or cancelled, and can never drift from the diary. The same reading, taken
inside a change that is then rolled back, lists what a change would break before anyone
confirms it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _

from daisy.clinic.models import Closure, TimeOff
from daisy.core import intervals
from daisy.core.intervals import Interval
from daisy.scheduling.models import Appointment, Status
from daisy.scheduling.selectors import _clinic_setup, _on_days, _on_days_plain, _open_time
from daisy.scheduling.selectors import resource_key as _rid


@dataclass(frozen=True)
class Affected:
    appointment: Appointment
    # What stands in the way, in words the desk reads ("Hannah Cole is away: training").
    reasons: tuple[str, ...]


def _why(resource: Any, start: datetime, end: datetime, location: Any) -> str:
    tz = location.tz
    day = start.astimezone(tz).date()
    closure = Closure.objects.filter(
        Q(location__isnull=True) | Q(location=location), on=day
    ).first()
    if closure is not None:
        return _("%(place)s is closed that day (%(name)s)") % {
            "place": location.name,
            "name": closure.name,
        }
    away = (
        TimeOff.objects.filter(resource_id=resource.pk, starts_at__lt=end, ends_at__gt=start)
        .order_by("starts_at")
        .first()
    )
    if away is not None:
        if away.reason:
            return _("%(who)s is away: %(reason)s") % {"who": resource.name, "reason": away.reason}
        return _("%(who)s is away") % {"who": resource.name}
    return _("Outside %(who)s's opening hours") % {"who": resource.name}


def appointments_affected(
    *,
    now: datetime,
    until: datetime | None = None,
    location_id: Any = None,
    appointment_ids: Iterable[Any] | None = None,
    explain: bool = True,
) -> list[Affected]:
    """Booked appointments from `now` on whose time is no longer open for one of their
    resources, in start order, with the reasons (`explain=False` skips the reasons' queries,
    for a before-and-after comparison). Reads the set-up afresh, never from a cache, so a
    change made earlier in the same transaction counts."""
    qs = (
        Appointment.objects.filter(status=Status.BOOKED, starts_at__gte=now)
        .select_related("client", "treatment", "location", "specialist")
        .prefetch_related("allocations__resource")
        .order_by("starts_at", "id")
    )
    if until is not None:
        qs = qs.filter(starts_at__lt=until)
    if location_id is not None:
        qs = qs.filter(location_id=location_id)
    if appointment_ids is not None:
        qs = qs.filter(pk__in=list(appointment_ids))
    appointments = list(qs)
    if not appointments:
        return []
    setup = _clinic_setup()
    # Per (location, resource): the open time over the days its bookings span, computed once.
    spans: dict[tuple[Any, str], list[tuple[datetime, datetime]]] = defaultdict(list)
    for appt in appointments:
        for alloc in appt.allocations.all():
            if alloc.is_active:
                spans[(appt.location_id, _rid(alloc.resource_id))].append(
                    (alloc.starts_at, alloc.ends_at)
                )
    locations = {a.location_id: a.location for a in appointments}
    open_by: dict[tuple[Any, str], list[Interval[datetime]]] = {}
    for (loc, rid), pairs in spans.items():
        location = locations[loc]
        tz = location.tz
        first_day: date = min(s for s, _e in pairs).astimezone(tz).date() - timedelta(days=1)
        last_day: date = max(e for _s, e in pairs).astimezone(tz).date() + timedelta(days=1)
        closed_on = frozenset(
            on
            for key in (loc, None)
            for on in _on_days_plain(setup.closures.get(key, []), first_day, last_day)
        )
        own = setup.hours.get((loc, rid))
        open_ = _open_time(
            location.time_zone,
            first_day,
            last_day,
            setup.hours.get((loc, None), ()),
            _on_days(setup.overrides.get((loc, None), []), first_day, last_day),
            own or None,
            _on_days(setup.overrides.get((loc, rid), []), first_day, last_day),
            closed_on,
        )
        away = [Interval(s, e) for s, e in setup.time_off.get(rid, ())]
        if away:
            open_ = intervals.subtract(open_, intervals.normalize(away))
        open_by[(loc, rid)] = open_
    out = []
    for appt in appointments:
        reasons: list[str] = []
        for alloc in appt.allocations.all():
            if not alloc.is_active:
                continue
            open_ = open_by[(appt.location_id, _rid(alloc.resource_id))]
            if not intervals.covers(open_, alloc.starts_at, alloc.ends_at):
                if not explain:
                    reasons.append("")
                    break
                why = _why(alloc.resource, alloc.starts_at, alloc.ends_at, appt.location)
                if why not in reasons:
                    reasons.append(why)
        if reasons:
            out.append(Affected(appointment=appt, reasons=tuple(reasons)))
    return out


def affected_count(*, now: datetime) -> int:
    """How many bookings are on the worklist (the desk's navigation shows it)."""
    return len(appointments_affected(now=now, explain=False))
