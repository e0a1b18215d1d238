"""Reads for scheduling: availability and appointment lists.

Availability costs a constant number of queries whatever the number of resources, days or
appointments (a test counts them): eligible resources, hours, overrides, closures, time off and
the window's allocations, then the pure core does the rest over whole free sets."""

from __future__ import annotations

import functools
import math
import sqlite3
import threading
import uuid
import zoneinfo
from bisect import bisect_left, bisect_right
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time
from itertools import groupby
from operator import itemgetter
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Q, QuerySet

from daisy.clients.models import BLOCKING_TIERS, ClinicalHold, Contraindication
from daisy.clinic.models import (
    Closure,
    DateOverride,
    Device,
    DeviceStatus,
    Location,
    ResourceKind,
    Room,
    Specialist,
    TimeOff,
    WeeklyHours,
)
from daisy.core import calendars, intervals, slots
from daisy.core.intervals import Interval
from daisy.lib.errors import InvalidTime, NotFound, ValidationFailed
from daisy.scheduling.models import ACTIVE_STATUSES, Allocation, Appointment, SlotHold
from daisy.treatments.models import Treatment
from daisy.treatments.selectors import NEEDLING_DEVICE

ROLE_SPECIALIST = "specialist"
ROLE_ROOM = "room"
ROLE_DEVICE = "device"
_ROLE_OF_KIND = {
    ResourceKind.SPECIALIST: ROLE_SPECIALIST,
    ResourceKind.ROOM: ROLE_ROOM,
    ResourceKind.DEVICE: ROLE_DEVICE,
}


def treatment_template(treatment: Treatment) -> slots.Template:
    phases = []
    for phase in treatment.phases.all():
        roles = set()
        if phase.needs_specialist:
            roles.add(ROLE_SPECIALIST)
        if phase.room_kind:
            roles.add(ROLE_ROOM)
        if phase.device_kind:
            roles.add(ROLE_DEVICE)
        phases.append(
            slots.PhaseTemplate(
                name=phase.name,
                duration=phase.duration,
                roles=frozenset(roles),
                is_buffer=phase.is_buffer,
            )
        )
    if sum((p.duration for p in phases), timedelta()) > MAX_ALLOCATION:
        raise ValidationFailed(f"{treatment.name} lasts more than a day; shorten its phases.")
    if not phases:
        raise ValidationFailed(
            f"{treatment.name} has no phases set up yet, so it cannot be booked."
        )
    return slots.Template(phases=tuple(phases))


def treatment_rules(treatment: Treatment, *, for_staff: bool = False) -> slots.Rules:
    # Minimum notice protects the clinic from last-minute online bookings; the front desk may
    # book a walk-in for right now.
    return slots.Rules(
        min_notice=timedelta(0) if for_staff else treatment.min_notice,
        max_advance=treatment.max_advance if not for_staff else timedelta(days=730),
        step_minutes=treatment.step_minutes,
    )


@dataclass(frozen=True)
class ResourceInfo:
    id: str
    role: str
    name: str


@dataclass
class BookingContext:
    """Everything the core needs to answer one availability or booking question at one
    location, loaded with a fixed number of queries."""

    treatment: Treatment
    location: Location
    tz: zoneinfo.ZoneInfo
    template: slots.Template
    candidates: list[slots.Candidate]
    resources: dict[str, ResourceInfo] = field(default_factory=dict)


def _required(treatment: Treatment) -> tuple[set[int], str, str]:
    skills: set[int] = set()
    room_kinds = {p.room_kind for p in treatment.phases.all() if p.room_kind}
    device_kinds = {p.device_kind for p in treatment.phases.all() if p.device_kind}
    for phase in treatment.phases.all():
        if phase.specialist_skill_id:
            skills.add(phase.specialist_skill_id)
    if len(room_kinds) > 1 or len(device_kinds) > 1:
        raise ValidationFailed(
            f"{treatment.name} asks for more than one kind of room or device; "
            "one appointment uses one room and one device."
        )
    return skills, next(iter(room_kinds), ""), next(iter(device_kinds), "")


# --- per-process caches of the clinic's set-up, keyed on the database's own stamp -----------
#
# DiaryVersion's `config` stamp changes in the same transaction as any change of the clinic's
# set-up (triggers; daisy/scheduling/versioning.py), so an entry is looked up under the stamp read
# *before* the rows it was built from: it is never older than the stamp says. A stamp is drawn
# at random on each change, so one from a rolled-back transaction never comes back. Bookings,
# holds and other changes of allocated time are never cached: every availability answer reads
# the busy time afresh (the answer cache that did showed no gain a client would notice; issue 15).

_STAMP_SQL = "SELECT config FROM scheduling_diaryversion WHERE id = 1"
_CACHE_SIZE = 256
# Only the current set-up is ever asked for again; older copies are just memory.
_CACHE_SIZES = {"setup": 4}
_cache_lock = threading.Lock()
_caches: dict[str, OrderedDict[Any, Any]] = defaultdict(OrderedDict)


@dataclass(frozen=True)
class Stamps:
    config: int


def diary_stamps() -> Stamps | None:
    """The current stamp, or None when the row is missing (then nothing is cached)."""
    with connection.cursor() as cursor:
        cursor.execute(_STAMP_SQL)
        row = cursor.fetchone()
    return Stamps(int(row[0])) if row else None


def _cached(kind: str, key: Any, build: Callable[[], Any]) -> Any:
    """`build()` once per key and process (bounded, least recently used goes first). `key`
    is None: build afresh, cache nothing."""
    if key is None:
        return build()
    key = (connection.settings_dict["NAME"], key)
    cache = _caches[kind]
    with _cache_lock:
        if key in cache:
            cache.move_to_end(key)
            return cache[key]
    value = build()
    with _cache_lock:
        cache[key] = value
        while len(cache) > _CACHE_SIZES.get(kind, _CACHE_SIZE):
            cache.popitem(last=False)
    return value


def setup_cached(*, stamps: Stamps | None, key: Any, build: Callable[[], Any]) -> Any:
    """`build()`'s result, reused while the clinic's set-up is unchanged: for values read only
    from set-up tables (a treatment and its phases, the locations), never from the diary."""
    return _cached("setup-values", (stamps.config, key) if stamps else None, build)


def caches_clear() -> None:
    with _cache_lock:
        _caches.clear()


def eligible_resources(
    treatment: Treatment,
    location: Location,
    *,
    specialist_id: Any = None,
    stamps: Stamps | None = None,
) -> dict[str, list[ResourceInfo]]:
    """Active resources at the location that can serve the treatment, by role. Read afresh,
    unless `stamps` (read before this call) allow the answer cached for them."""
    key = None
    if stamps is not None:
        key = (stamps.config, treatment.pk, location.pk, str(specialist_id or ""))
    return _cached("eligible", key, lambda: _eligible_resources(treatment, location, specialist_id))


def _eligible_resources(
    treatment: Treatment, location: Location, specialist_id: Any
) -> dict[str, list[ResourceInfo]]:
    """One query for all roles (a UNION ALL of each role's rows), in name order per role."""
    template = treatment_template(treatment)
    skills, room_kind, device_kind = _required(treatment)
    parts: list[QuerySet[Any]] = []
    if ROLE_SPECIALIST in template.roles:
        qs = Specialist.objects.filter(is_active=True, locations=location)
        for skill_id in skills:
            qs = qs.filter(skills__id=skill_id)
        if specialist_id is not None:
            qs = qs.filter(pk=specialist_id)
        parts.append(qs.distinct())
    if ROLE_ROOM in template.roles:
        parts.append(Room.objects.filter(is_active=True, location=location, room_kind=room_kind))
    if ROLE_DEVICE in template.roles:
        parts.append(
            Device.objects.filter(
                is_active=True,
                location=location,
                device_kind=device_kind,
                status=DeviceStatus.IN_SERVICE,
            )
        )
    out: dict[str, list[ResourceInfo]] = {role: [] for role in _ROLE_OF_KIND.values()}
    out = {role: rows for role, rows in out.items() if role in template.roles}
    if not parts:
        return out
    rows_qs = [p.order_by().values_list("pk", "kind", "name") for p in parts]
    query = rows_qs[0].union(*rows_qs[1:], all=True) if len(rows_qs) > 1 else rows_qs[0]
    for pk, kind, name in sorted(query, key=lambda row: (row[2], str(row[0]))):
        role = _ROLE_OF_KIND[kind]
        out[role].append(ResourceInfo(_rid(pk), role, name))
    return out


def resource_key(value: Any) -> str:
    """Resource ids as the core sees them: 32 hex digits, whichever database answered."""
    if isinstance(value, str):
        return value.replace("-", "")
    return str(value.hex)


_rid = resource_key


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


# No allocation lasts longer than this (the database refuses longer ones; migrations/0004), so
# a window query can bound starts_at from below and use the index as a range, not a prefix.
MAX_ALLOCATION = timedelta(days=1)

# unixepoch() (SQLite 3.38+) is three times faster than strftime('%s') on this query.
_EPOCH = "unixepoch({})" if sqlite3.sqlite_version_info >= (3, 38) else "strftime('%%s', {})"
_BUSY_SQL = {
    "sqlite": (
        f"SELECT resource_id, CAST({_EPOCH.format('starts_at')} AS INTEGER), "
        # Django writes 'YYYY-MM-DD HH:MM:SS[.ffffff]'; round a fractional end up.
        f"CAST({_EPOCH.format('ends_at')} AS INTEGER) + (length(ends_at) > 19) "
        "FROM scheduling_allocation WHERE is_active AND starts_at < %s AND ends_at > %s "
        "AND starts_at > %s AND resource_id IN ({ids}){exclude} ORDER BY resource_id"
    ),
    # One row per resource with its rows as two arrays: a long window (a course's months) has
    # tens of thousands of rows, and reading them one by one over the wire cost more than the
    # server spends finding them. date_part gives float8 seconds, a third cheaper than
    # extract's numeric, and exact enough: a float8 near 2**33 s (the year 2242) resolves a
    # quarter of a microsecond, so floor and ceil of microsecond times come out right.
    "postgresql": (
        "SELECT replace(resource_id::text, '-', ''), "
        "array_agg(floor(date_part('epoch', starts_at))::bigint), "
        "array_agg(ceil(date_part('epoch', ends_at))::bigint) "
        "FROM scheduling_allocation WHERE is_active AND starts_at < %s AND ends_at > %s "
        "AND starts_at > %s AND resource_id IN ({ids}){exclude} "
        "GROUP BY resource_id ORDER BY resource_id"
    ),
}


def busy_rows(
    resource_ids: Sequence[str],
    start: datetime,
    end: datetime,
    *,
    now: datetime | None = None,
    exclude_appointment_id: Any = None,
    exclude_hold_id: Any = None,
    exclude_hold_ids: Sequence[Any] = (),
) -> dict[str, list[tuple[int, int]]]:
    """The window's active allocations of these resources as {resource hex id: [(start, end)
    epoch seconds]}: the single indexed query that is the physical floor of every availability
    answer (bench: availability_floor_ms). Integers, because building two datetimes per row
    cost more than the query itself. A resource with nothing busy is absent.

    With `now`, holds that expired by then are not busy (they block nobody); without it every
    active row counts, which can only ever refuse more, never double-book. The holds named in
    `exclude_hold_id` / `exclude_hold_ids` are not busy either."""
    if not resource_ids:
        return {}
    vendor = connection.vendor
    sql = _BUSY_SQL.get(vendor)
    ops = connection.ops
    if vendor == "sqlite":
        ids = [uuid.UUID(r).hex for r in resource_ids]
    else:
        ids = [uuid.UUID(r) for r in resource_ids]
    params: list[Any] = [
        ops.adapt_datetimefield_value(end),
        ops.adapt_datetimefield_value(start),
        ops.adapt_datetimefield_value(start - MAX_ALLOCATION),
        *ids,
    ]
    exclude = ""
    if now is not None:
        exclude += " AND (hold_expires_at IS NULL OR hold_expires_at > %s)"
        params.append(ops.adapt_datetimefield_value(now))
    # A hold's rows have no appointment and a booking's no hold: NULL must not drop them.
    if exclude_appointment_id is not None:
        exclude += " AND (appointment_id IS NULL OR appointment_id <> %s)"
        value = uuid.UUID(str(exclude_appointment_id))
        params.append(value.hex if vendor == "sqlite" else value)
    holds = [uuid.UUID(str(h)) for h in (exclude_hold_id, *exclude_hold_ids) if h is not None]
    if holds:
        marks = ", ".join(["%s"] * len(holds))
        exclude += f" AND (hold_id IS NULL OR hold_id NOT IN ({marks}))"
        params.extend(h.hex if vendor == "sqlite" else h for h in holds)
    if sql is None:  # another backend: the portable, slower ORM path
        qs = Allocation.objects.filter(
            is_active=True, starts_at__lt=end, ends_at__gt=start, resource_id__in=ids
        ).order_by("resource_id")
        if now is not None:
            qs = qs.filter(Q(hold_expires_at__isnull=True) | Q(hold_expires_at__gt=now))
        if exclude_appointment_id is not None:
            qs = qs.filter(
                Q(appointment_id__isnull=True) | ~Q(appointment_id=exclude_appointment_id)
            )
        if holds:
            qs = qs.filter(Q(hold_id__isnull=True) | ~Q(hold_id__in=holds))
        return _grouped(
            (_rid(r), math.floor(s.timestamp()), math.ceil(e.timestamp()))
            for r, s, e in qs.values_list("resource_id", "starts_at", "ends_at")
        )
    query = sql.format(ids=", ".join(["%s"] * len(ids)), exclude=exclude)
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        rows = cursor.fetchall()
    if vendor == "sqlite":
        return _grouped(rows)
    return {resource: list(zip(starts, ends, strict=True)) for resource, starts, ends in rows}


def _grouped(rows: Iterable[tuple[str, int, int]]) -> dict[str, list[tuple[int, int]]]:
    # Rows come ordered by resource (free: the index leads with it), so grouping them is one
    # pass rather than 24k dictionary appends.
    return {rid: [(s, e) for _, s, e in group] for rid, group in groupby(rows, key=itemgetter(0))}


HoursRow = tuple[int, dt_time, dt_time]  # weekday, opens, closes
OverrideRow = tuple[date, bool, dt_time | None, dt_time | None]  # on, is_closed, opens, closes


def _day_hours(rows: Iterable[HoursRow]) -> dict[int, list[calendars.DayHours]]:
    out: dict[int, list[calendars.DayHours]] = defaultdict(list)
    for weekday, opens, closes in rows:
        out[weekday].append(calendars.DayHours(opens, closes))
    return out


def _overrides(rows: Iterable[OverrideRow]) -> dict[date, list[calendars.DayHours]]:
    out: dict[date, list[calendars.DayHours]] = defaultdict(list)
    closed = set()
    for on, is_closed, opens, closes in rows:
        day = out[on]  # touching the key marks the day as overridden, even when closed
        if is_closed:
            closed.add(on)
        elif opens and closes:
            day.append(calendars.DayHours(opens, closes))
    for on in closed:  # a closed row beside open rows: closed wins
        out[on] = []
    return out


@functools.lru_cache(maxsize=1024)
def _open_time(
    tz_key: str,
    first_day: date,
    last_day: date,
    location_hours: tuple[HoursRow, ...],
    location_overrides: tuple[OverrideRow, ...],
    own_hours: tuple[HoursRow, ...] | None,
    own_overrides: tuple[OverrideRow, ...],
    closed_on: frozenset[date],
) -> list[Interval[datetime]]:
    """A resource's open time: its own hours (or the location's) within the location's hours.

    Cached on the rows' values, not their ids, so an edit in the admin is a new key and never a
    stale answer; hours change rarely while availability is asked for all the time."""
    tz = zoneinfo.ZoneInfo(tz_key)
    location_open = calendars.open_intervals(
        tz=tz,
        start_on=first_day,
        end_on=last_day,
        weekly=_day_hours(location_hours),
        overrides=_overrides(location_overrides),
        closed_on=closed_on,
    )
    if own_hours is None and not own_overrides:
        return location_open
    own = calendars.open_intervals(
        tz=tz,
        start_on=first_day,
        end_on=last_day,
        weekly=_day_hours(own_hours if own_hours is not None else location_hours),
        overrides=_overrides(own_overrides),
        closed_on=closed_on,
    )
    return intervals.intersect(own, location_open)


@dataclass(frozen=True)
class _ClinicSetup:
    """Every row of hours, overrides, closures and time off, grouped for the hot path."""

    hours: dict[tuple[Any, str | None], tuple[HoursRow, ...]]  # (location pk, rid | None)
    overrides: dict[tuple[Any, str | None], list[OverrideRow]]  # sorted by date
    closures: dict[Any, list[date]]  # location pk (None: every location) -> sorted dates
    time_off: dict[str, list[tuple[datetime, datetime]]]  # rid -> sorted (start, end)


def _clinic_setup() -> _ClinicSetup:
    hours: dict[tuple[Any, str | None], list[HoursRow]] = defaultdict(list)
    for loc, rid, weekday, opens, closes in WeeklyHours.objects.order_by(
        "weekday", "opens_at"
    ).values_list("location_id", "resource_id", "weekday", "opens_at", "closes_at"):
        hours[(loc, _rid(rid) if rid else None)].append((weekday, opens, closes))
    overrides: dict[tuple[Any, str | None], list[OverrideRow]] = defaultdict(list)
    for loc, rid, on, is_closed, opens, closes in DateOverride.objects.order_by(
        "on", "opens_at"
    ).values_list("location_id", "resource_id", "on", "is_closed", "opens_at", "closes_at"):
        overrides[(loc, _rid(rid) if rid else None)].append((on, is_closed, opens, closes))
    closures: dict[Any, list[date]] = defaultdict(list)
    for loc, on in Closure.objects.order_by("on").values_list("location_id", "on"):
        closures[loc].append(on)
    time_off: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
    for rid, s, e in TimeOff.objects.order_by("starts_at").values_list(
        "resource_id", "starts_at", "ends_at"
    ):
        time_off[_rid(rid)].append((_utc(s), _utc(e)))
    return _ClinicSetup(
        hours={k: tuple(v) for k, v in hours.items()},
        overrides=dict(overrides),
        closures=dict(closures),
        time_off=dict(time_off),
    )


def _on_days_plain(days: list[date], first_day: date, last_day: date) -> list[date]:
    return days[bisect_left(days, first_day) : bisect_right(days, last_day)]


def _on_days(rows: list[OverrideRow], first_day: date, last_day: date) -> tuple[OverrideRow, ...]:
    lo = bisect_left(rows, first_day, key=itemgetter(0))
    hi = bisect_right(rows, last_day, key=itemgetter(0))
    return tuple(rows[lo:hi])


def resource_open_time(
    *,
    at: Sequence[tuple[Location, Sequence[str]]],
    first_day: date,
    last_day: date,
) -> dict[tuple[Any, str], list[Interval[datetime]]]:
    """Open time on the local days first_day..last_day (inclusive), in UTC, of each resource
    at each location in `at` ((location, resource ids as resource_key gives them) pairs), keyed
    (location pk, resource id): its own hours (or the location's) within the location's, with
    date overrides and closures, less its time off. The calendars availability reads
    (booking_context), asked for whole days: what the owner's utilisation report divides by.
    A constant number of queries, whatever the locations, resources and days."""
    stamps = diary_stamps()
    setup: _ClinicSetup = _cached("setup", stamps.config if stamps else None, _clinic_setup)
    out: dict[tuple[Any, str], list[Interval[datetime]]] = {}
    for location, resource_ids in at:
        tz = location.tz
        window = Interval(
            _utc(datetime.combine(first_day, dt_time(0), tz)),
            _utc(datetime.combine(last_day + timedelta(days=1), dt_time(0), tz)),
        )
        loc = location.pk
        closed_on = frozenset(
            on
            for key in (loc, None)
            for on in _on_days_plain(setup.closures.get(key, []), first_day, last_day)
        )
        location_hours = setup.hours.get((loc, None), ())
        location_overrides = _on_days(setup.overrides.get((loc, None), []), first_day, last_day)
        for rid in resource_ids:
            open_ = _open_time(
                location.time_zone,
                first_day,
                last_day,
                location_hours,
                location_overrides,
                setup.hours.get((loc, rid)) or None,
                _on_days(setup.overrides.get((loc, rid), []), first_day, last_day),
                closed_on,
            )
            off = [
                Interval(s, e)
                for s, e in setup.time_off.get(rid, ())
                if s < window.end and e > window.start
            ]
            if off:
                open_ = intervals.subtract(open_, intervals.normalize(off))
            out[(loc, rid)] = intervals.intersect(open_, [window])
    return out


def booking_context(
    *,
    treatment: Treatment,
    location: Location,
    window_start: datetime,
    window_end: datetime,
    specialist_id: Any = None,
    exclude_appointment_id: Any = None,
    by_role: dict[str, list[ResourceInfo]] | None = None,
    now: datetime | None = None,
    exclude_hold_id: Any = None,
    over_anonymous_holds: bool = False,
) -> BookingContext:
    """`now` lets expired holds go (pass it whenever you have it); `exclude_hold_id` treats one
    hold's time as free (its owner looking again, or the booking that converts it);
    `over_anonymous_holds` treats the time of live holds by visitors who are not signed in as
    free (staff book over them: DESIGN.md 4, "Holds are bounded")."""
    tz = location.tz
    stamps = diary_stamps()
    template = _cached(
        "template",
        (stamps.config, treatment.pk) if stamps else None,
        lambda: treatment_template(treatment),
    )
    if by_role is None:
        by_role = eligible_resources(
            treatment, location, specialist_id=specialist_id, stamps=stamps
        )
    infos = {info.id: info for infos in by_role.values() for info in infos}
    ids = list(infos)
    setup: _ClinicSetup = _cached("setup", stamps.config if stamps else None, _clinic_setup)

    first_day = _utc(window_start).astimezone(tz).date() - timedelta(days=1)
    last_day = (_utc(window_end) + template.total_duration).astimezone(tz).date() + timedelta(
        days=1
    )

    loc = location.pk
    closed_on = frozenset(
        on
        for key in (loc, None)
        for on in _on_days_plain(setup.closures.get(key, []), first_day, last_day)
    )
    off_from = _utc(window_start) - template.total_duration
    off_until = _utc(window_end) + template.total_duration
    time_off: dict[str, list[Interval[datetime]]] = {}
    for rid in ids:
        spans = [
            Interval(s, e) for s, e in setup.time_off.get(rid, ()) if s < off_until and e > off_from
        ]
        if spans:
            time_off[rid] = spans

    busy_from = window_start - template.total_duration
    busy_until = window_end + template.total_duration
    busy = busy_rows(
        ids,
        busy_from,
        busy_until,
        now=now,
        exclude_appointment_id=exclude_appointment_id,
        exclude_hold_id=exclude_hold_id,
        exclude_hold_ids=(
            anonymous_hold_ids(now=now, window_start=busy_from, window_end=busy_until)
            if over_anonymous_holds and now is not None
            else ()
        ),
    )

    location_hours = setup.hours.get((loc, None), ())
    location_overrides = _on_days(setup.overrides.get((loc, None), []), first_day, last_day)
    candidates = []
    for info in infos.values():
        own = setup.hours.get((loc, info.id))
        open_ = _open_time(
            location.time_zone,
            first_day,
            last_day,
            location_hours,
            location_overrides,
            own or None,
            _on_days(setup.overrides.get((loc, info.id), []), first_day, last_day),
            closed_on,
        )
        if info.id in time_off:
            open_ = intervals.subtract(open_, intervals.normalize(time_off[info.id]))
        candidates.append(
            slots.Candidate(
                resource_id=info.id,
                role=info.role,
                open=open_,
                busy=(),
                busy_seconds=busy.get(info.id, ()),
            )
        )
    return BookingContext(
        treatment=treatment,
        location=location,
        tz=tz,
        template=template,
        candidates=candidates,
        resources=infos,
    )


def check_window(window_start: datetime, window_end: datetime) -> None:
    if window_start.tzinfo is None or window_end.tzinfo is None:
        raise InvalidTime("Times must include a UTC offset or time zone.")
    if window_end <= window_start:
        raise ValidationFailed(
            "The end of the period must be after its start.", fields={"end": "before start"}
        )
    if window_end - window_start > timedelta(days=settings.DAISY_MAX_WINDOW_DAYS):
        raise ValidationFailed(
            f"Ask for at most {settings.DAISY_MAX_WINDOW_DAYS} days at a time.",
            fields={"end": "window too long"},
        )


@dataclass(frozen=True)
class LocatedSlot:
    slot: slots.Slot
    context: BookingContext

    def resource(self, role: str) -> ResourceInfo | None:
        rid = self.slot.resources.get(role)
        return self.context.resources.get(rid) if rid else None


def availability_list(
    *,
    treatment: Treatment,
    window_start: datetime,
    window_end: datetime,
    now: datetime,
    location: Location | None = None,
    specialist_id: Any = None,
    group_by_specialist: bool = False,
    for_staff: bool = False,
    held_by: str | None = None,
    over_anonymous_holds: bool | None = None,
) -> list[LocatedSlot]:
    """Bookable slots for the treatment: one per start time (resources chosen by the core's
    tie-break), or one per start and specialist when grouping or filtering by specialist.

    Live holds are busy time, except the one held by `held_by` (its owner may pick it again)
    and, with `over_anonymous_holds` (by default: for staff), those of visitors who are not
    signed in: staff may book over them. Busy time is read afresh on every call."""
    check_window(window_start, window_end)
    if over_anonymous_holds is None:
        over_anonymous_holds = for_staff
    own_hold = slot_hold_live_id(held_by=held_by, now=now) if held_by else None
    locations = [location] if location is not None else list(locations_offering(treatment))
    out: list[LocatedSlot] = []
    rules = treatment_rules(treatment, for_staff=for_staff)
    group_by = ROLE_SPECIALIST if (group_by_specialist or specialist_id is not None) else None
    for loc in locations:
        ctx = booking_context(
            treatment=treatment,
            location=loc,
            window_start=_utc(window_start),
            window_end=_utc(window_end),
            specialist_id=specialist_id,
            now=now,
            exclude_hold_id=own_hold,
            over_anonymous_holds=over_anonymous_holds,
        )
        try:
            found = slots.find_slots(
                template=ctx.template,
                candidates=ctx.candidates,
                window_start=_utc(window_start),
                window_end=_utc(window_end),
                tz=ctx.tz,
                now=now,
                rules=rules,
                group_by=group_by if group_by in ctx.template.roles else None,
            )
        except slots.SlotProblem as problem:
            if problem.code == "no_candidates":
                continue
            raise ValidationFailed(problem.message, code=problem.code) from problem
        out.extend(LocatedSlot(s, ctx) for s in found)
    out.sort(key=lambda ls: ls.slot.start)
    return out


def slot_hold_live_id(*, held_by: str, now: datetime) -> Any:
    """The id of the owner's hold while it lasts, else None."""
    return (
        SlotHold.objects.filter(held_by=held_by, expires_at__gt=now)
        .values_list("pk", flat=True)
        .first()
    )


def anonymous_hold_ids(*, now: datetime, window_start: datetime, window_end: datetime) -> list[Any]:
    """Live holds of visitors who are not signed in that overlap the window, at any location (a
    specialist may work at several). Few: they are capped per day."""
    return list(
        SlotHold.objects.filter(
            is_anonymous=True,
            expires_at__gt=now,
            starts_at__lt=window_end,
            ends_at__gt=window_start,
        ).values_list("pk", flat=True)
    )


def slot_hold_get(*, hold_id: Any, held_by: str) -> SlotHold | None:
    """The owner's hold by id (live or not), or None: a hold id alone grants nothing."""
    try:
        pk = uuid.UUID(str(hold_id))
    except ValueError:
        return None
    return SlotHold.objects.filter(pk=pk, held_by=held_by).first()


def locations_offering(treatment: Treatment) -> QuerySet[Location]:
    return Location.objects.filter(is_active=True).order_by("name")


def location_get(location_id: Any) -> Location:
    loc = Location.objects.filter(pk=location_id, is_active=True).first()
    if loc is None:
        raise NotFound("That location does not exist.", fields={"location": "unknown"})
    return loc


def appointment_get(appointment_id: Any) -> Appointment:
    appt = (
        Appointment.objects.select_related("client", "treatment", "location", "specialist")
        .filter(pk=appointment_id)
        .first()
    )
    if appt is None:
        raise NotFound("That appointment does not exist.")
    return appt


def local_start_resolve(*, location: Location, local: datetime) -> datetime:
    """A start typed as local wall-clock time at the location -> aware UTC.

    A time inside the spring-forward gap does not exist and is refused with a message; a time
    in the autumn fold means its first occurrence unless `local.fold` is 1 (DST policy in
    daisy/core/calendars.py)."""
    if local.tzinfo is not None:
        return _utc(local)
    try:
        return calendars.resolve_local_strict(local, location.tz)
    except calendars.NonexistentLocalTime:
        raise InvalidTime(
            f"{local:%H:%M} on {local:%d %B %Y} does not exist in {location.time_zone}: the "
            "clocks go forward then. Choose a time after the change.",
            code="nonexistent_local_time",
            fields={"start": "nonexistent local time"},
        ) from None


def appointment_list(
    *,
    first_day: date | None = None,
    last_day: date | None = None,
    client_id: Any = None,
    specialist_id: Any = None,
    status: str | None = None,
) -> QuerySet[Appointment]:
    """Appointments in start order. `first_day`/`last_day` are calendar dates (both inclusive)
    in the zone of each appointment's own location."""
    qs = Appointment.objects.select_related("client", "treatment", "location", "specialist")
    if first_day is not None or last_day is not None:
        by_zone: dict[str, list[Any]] = defaultdict(list)
        for pk, zone in Location.objects.values_list("pk", "time_zone"):
            by_zone[zone].append(pk)
        within = Q(pk__in=[])
        for zone, location_ids in by_zone.items():
            tz = zoneinfo.ZoneInfo(zone)
            part = Q(location_id__in=location_ids)
            if first_day is not None:
                part &= Q(starts_at__gte=datetime.combine(first_day, datetime.min.time(), tz))
            if last_day is not None:
                after = last_day + timedelta(days=1)
                part &= Q(starts_at__lt=datetime.combine(after, datetime.min.time(), tz))
            within |= part
        qs = qs.filter(within)
    if client_id is not None:
        qs = qs.filter(client_id=client_id)
    if specialist_id is not None:
        qs = qs.filter(specialist_id=specialist_id)
    if status is not None:
        qs = qs.filter(status=status)
    return qs.order_by("starts_at", "id")


# --- flags for the desk: bookings a recorded finding or hold now stands in the way of ------------

FLAG_CLINICAL_HOLD = "clinical_hold"
FLAG_SCREENING = "screening"


def appointment_flags(appointments: Sequence[Appointment]) -> dict[Any, list[str]]:
    """appointment id -> what the desk must look at before the session: the client's next
    session is on a clinical hold, or a finding recorded since the booking (a hard stop, a
    deferral reaching the session's day, a review) stands in its way without a recorded
    override. Read when shown, so a finding recorded or resolved a moment ago is reflected at
    once. Two queries, whatever the number of appointments."""
    booked = [a for a in appointments if a.status == "booked"]
    if not booked:
        return {}
    client_ids = {a.client_id for a in booked}
    held = set(
        ClinicalHold.objects.filter(client_id__in=client_ids, cleared_at__isnull=True).values_list(
            "client_id", flat=True
        )
    )
    findings: dict[Any, list[Contraindication]] = defaultdict(list)
    for finding in Contraindication.objects.filter(
        client_id__in=client_ids, resolved_at__isnull=True, tier__in=BLOCKING_TIERS
    ):
        findings[finding.client_id].append(finding)
    out: dict[Any, list[str]] = {}
    for appt in booked:
        flags = appointment_flags_of(
            appt, on_hold=appt.client_id in held, findings=findings.get(appt.client_id, [])
        )
        if flags:
            out[appt.pk] = flags
    return out


def appointment_flags_of(
    appt: Appointment, *, on_hold: bool, findings: Sequence[Contraindication]
) -> list[str]:
    """The flags of one booked appointment, from its client's open hold and open findings."""
    if appt.status != "booked":
        return []
    flags = []
    if on_hold:
        flags.append(FLAG_CLINICAL_HOLD)
    day = appt.starts_at.astimezone(appt.location.tz).date()
    blocking = [f for f in findings if f.blocks_on(day)]
    if blocking and appt.treatment.requires_screening and not appt.override_reason:
        flags.append(FLAG_SCREENING)
    return flags


def needling_session_days(
    client: Any, *, tz: zoneinfo.ZoneInfo, exclude: Iterable[Any] = ()
) -> list[date]:
    """The local days of the client's active needling sessions (any treatment that needles,
    course or not; `exclude`: appointment ids left out): DOMAIN.md 1.2 keeps another needling
    session at least 28 days from each."""
    if getattr(client, "pk", None) is None:  # nobody yet (a guest's proposal)
        return []
    starts = (
        Appointment.objects.filter(
            client=client,
            status__in=ACTIVE_STATUSES,
            treatment__phases__device_kind=NEEDLING_DEVICE,
        )
        .exclude(pk__in=list(exclude))
        .values_list("starts_at", flat=True)
        .distinct()
    )
    return sorted({s.astimezone(tz).date() for s in starts})
