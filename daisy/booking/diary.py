"""The front desk's diary, read (issue 13, item 1): one location's day or week, a column per
specialist (or per room, with the devices beside them), each appointment drawn by its phases
and flagged with what the desk must know before the client arrives.

It composes reads of several apps (scheduling, clients, courses, aftercare), which is why it
lives in `booking`, the layer that composes. Times are the location's wall-clock times.

Cost: a fixed number of queries whatever the number of appointments (the locations, the day's
appointments, the columns' resources, the opening hours, and one query per kind of flag); the
bench measures it (`make bench`: desk_day_*) and a test counts the queries."""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, Max
from django.utils.translation import gettext as _

from daisy.aftercare.models import Alert
from daisy.clients.selectors import client_find, client_list
from daisy.clinic.models import DateOverride, Device, Location, Room, Specialist, WeeklyHours
from daisy.courses.models import PlanSession
from daisy.records.charting import chart_states_for
from daisy.records.consent_selectors import consent_missing_for
from daisy.scheduling.models import Appointment, Status
from daisy.scheduling.selectors import (
    FLAG_CLINICAL_HOLD,
    FLAG_SCREENING,
    appointment_flags,
    availability_list,
    diary_stamps,
    setup_cached,
    treatment_template,
)

# Each row of the diary grid is this many minutes.
ROW_MINUTES = 5
# A day with no opening hours (a closure, a Sunday) is drawn over these hours.
DEFAULT_OPENS = time(8)
DEFAULT_CLOSES = time(20)

MODE_SPECIALISTS = "specialists"
MODE_ROOMS = "rooms"
MODES = (MODE_SPECIALISTS, MODE_ROOMS)

# Flags, in the order the desk reads them. The key is the stable code (the API's), the label
# the words staff see.
FLAG_FIRST_VISIT = "first_visit"
FLAG_COURSE = "course_session"
FLAG_ALERT = "red_flag_alert"
FLAG_NOTE = "note"
# The treatment chart (issue 14 item 5): signed; signed but waiting for the clinic's required
# co-signature; or not signed (a draft, or a completed treatment with no chart at all).
FLAG_CHARTED = "charted"
FLAG_CHART_COSIGN = "chart_cosign"
FLAG_CHART_UNSIGNED = "chart_unsigned"
# Issue 14 item 4: the treatment consent is missing or out of date (DOMAIN.md 6.4).
FLAG_CONSENT = "consent_missing"
FLAG_LABELS = {
    FLAG_CLINICAL_HOLD: _("Clinical hold: a clinician must see the client first"),
    FLAG_ALERT: _("Open warning from an aftercare check-in"),
    FLAG_SCREENING: _("A health finding stands in the way: clinician review needed"),
    FLAG_CONSENT: _("Consent not done"),
    FLAG_FIRST_VISIT: _("First visit"),
    FLAG_COURSE: _("Course session"),
    FLAG_NOTE: _("Note"),
    FLAG_CHART_UNSIGNED: _("Chart not signed yet"),
    FLAG_CHART_COSIGN: _("Chart waiting for a clinician's co-signature"),
    FLAG_CHARTED: _("Charted"),
}
# Flags that must stop the desk before the client is treated (or, for the chart, before the
# visit is closed).
WARNING_FLAGS = frozenset(
    {
        FLAG_CLINICAL_HOLD,
        FLAG_ALERT,
        FLAG_SCREENING,
        FLAG_CONSENT,
        FLAG_CHART_UNSIGNED,
        FLAG_CHART_COSIGN,
    }
)
CHART_FLAGS = {
    "signed": FLAG_CHARTED,
    "awaiting_cosign": FLAG_CHART_COSIGN,
    "draft": FLAG_CHART_UNSIGNED,
}

# What the desk calls each status (the stored names are the scheduling app's).
STATUS_LABELS = {
    Status.BOOKED: _("Booked"),
    Status.CHECKED_IN: _("Arrived"),
    Status.IN_TREATMENT: _("In treatment"),
    Status.COMPLETED: _("Completed"),
    Status.CANCELLED: _("Cancelled"),
    Status.NO_SHOW: _("No-show"),
}
VISIT_STATUSES = (Status.CHECKED_IN, Status.IN_TREATMENT, Status.COMPLETED)
SHOWN_STATUSES = (
    Status.BOOKED,
    Status.CHECKED_IN,
    Status.IN_TREATMENT,
    Status.COMPLETED,
    Status.NO_SHOW,
)


@dataclass(frozen=True)
class Flag:
    code: str
    label: str
    is_warning: bool


@dataclass(frozen=True)
class PhaseView:
    """One phase of an appointment as the diary draws it. `kind`: "specialist" (the specialist
    is with the client), "room" (room-only time, e.g. numbing: the specialist is free for
    someone else), "clean_down" (the room and device after the client has left)."""

    name: str
    starts_at: datetime
    ends_at: datetime
    kind: str
    uses_specialist: bool
    uses_room: bool
    uses_device: bool


@dataclass(frozen=True)
class DiaryAppointment:
    id: Any
    client_id: Any
    client_name: str
    treatment_name: str
    status: str
    status_label: str
    starts_at: datetime  # the location's wall clock
    ends_at: datetime
    busy_until: datetime
    specialist_id: Any
    specialist_name: str
    room_id: Any
    room_name: str
    device_id: Any
    device_name: str
    notes: str
    cancel_reason: str
    client_phone: str
    client_email: str
    location_id: Any
    flags: tuple[Flag, ...]
    course_label: str  # "Session 2 of 4", or ""
    phases: tuple[PhaseView, ...]
    # Posted back with every action on it: an action on a view older than this is refused.
    version: str

    @property
    def has_warning(self) -> bool:
        return any(f.is_warning for f in self.flags)


@dataclass(frozen=True)
class Block:
    """A stretch of one appointment drawn in one column: rows are 1-based grid lines."""

    kind: str  # PhaseView.kind, or "whole" for a block drawn as one piece
    name: str
    row: int
    span: int


@dataclass
class Placed:
    appointment: DiaryAppointment
    row: int
    span: int
    blocks: list[Block]

    @property
    def inner(self) -> list[tuple[Block, int]]:
        """Each block with its row inside the appointment (1-based)."""
        return [(b, b.row - self.row + 1) for b in self.blocks]


@dataclass
class Column:
    id: Any
    name: str
    kind: str  # "specialist", "room", "device"
    index: int  # 1-based grid column (the time labels are column 1)
    items: list[Placed] = field(default_factory=list)


@dataclass(frozen=True)
class HourLine:
    row: int
    label: str


@dataclass
class DiaryDay:
    location: Location
    on: date
    mode: str
    tz_name: str
    tz_abbrev: str
    opens_at: datetime
    closes_at: datetime
    rows: int
    hours: list[HourLine]
    columns: list[Column]
    appointments: list[DiaryAppointment]
    cancelled: list[DiaryAppointment]
    now_row: int | None
    now_label: str
    version: str
    is_closed: bool
    # Every resource at the location, whatever the columns: (id, kind, name).
    resources: list[tuple[Any, str, str]]


def _local(value: datetime, tz: zoneinfo.ZoneInfo) -> datetime:
    return value.astimezone(tz)


def day_bounds(on: date, tz: zoneinfo.ZoneInfo) -> tuple[datetime, datetime]:
    """Local midnight to the next local midnight, as aware datetimes (23 or 25 hours apart on
    the days the clocks change)."""
    return (
        datetime.combine(on, time(0), tzinfo=tz),
        datetime.combine(on + timedelta(days=1), time(0), tzinfo=tz),
    )


def _phases_of(treatment: Any, stamps: Any) -> tuple[Any, ...] | None:
    def build() -> tuple[Any, ...] | None:
        try:
            return treatment_template(treatment).phases
        except Exception:  # a treatment whose phases were emptied: drawn as one block
            return None

    return setup_cached(stamps=stamps, key=("desk-phases", treatment.pk), build=build)


def _phase_views(
    appt: Appointment, template: Sequence[Any] | None, tz: Any
) -> tuple[PhaseView, ...]:
    """The appointment's phases from its treatment's template, laid out from its start. When
    the template no longer matches the booked length (its phases were edited since), the
    appointment is drawn as one piece: what was booked is the truth."""
    if not template:
        return ()
    out: list[PhaseView] = []
    # One zone conversion per appointment: its phases share the start's UTC offset unless the
    # clocks change during it (then each phase is converted on its own).
    first = appt.starts_at.astimezone(tz)
    offset = first.utcoffset()
    same = appt.busy_until.astimezone(tz).utcoffset() == offset
    fixed = first.tzinfo if same else None

    def local(value: datetime) -> datetime:
        if fixed is None:
            return value.astimezone(tz)
        return (value.replace(tzinfo=None) + offset).replace(tzinfo=fixed)

    at = appt.starts_at.astimezone(UTC)
    for phase in template:
        end = at + phase.duration
        uses_specialist = "specialist" in phase.roles
        kind = "clean_down" if phase.is_buffer else ("specialist" if uses_specialist else "room")
        out.append(
            PhaseView(
                name=phase.name,
                starts_at=local(at),
                ends_at=local(end),
                kind=kind,
                uses_specialist=uses_specialist,
                uses_room="room" in phase.roles,
                uses_device="device" in phase.roles,
            )
        )
        at = end
    if at != appt.busy_until:
        return ()
    return tuple(out)


def appointment_version(appt: Any) -> str:
    """The token an action posts back: changes with every write to the appointment."""
    return appt.updated_at.isoformat() if appt.updated_at else ""


def _client_name(client: Any) -> str:
    return f"{client.first_name} {client.last_name}".strip()


def _flags(
    appts: Sequence[Appointment], on: date, tz: zoneinfo.ZoneInfo
) -> tuple[dict[Any, list[str]], dict[Any, str]]:
    """appointment id -> flag codes, and -> "Session n of N" for course sessions. A fixed
    number of queries whatever the number of appointments."""
    out: dict[Any, list[str]] = defaultdict(list)
    if not appts:
        return out, {}
    client_ids = {a.client_id for a in appts}
    ids = [a.pk for a in appts]
    for appt_id, codes in appointment_flags(appts).items():
        out[appt_id].extend(codes)
    alerted = set(
        Alert.objects.filter(client_id__in=client_ids, cleared_at__isnull=True).values_list(
            "client_id", flat=True
        )
    )
    # A first visit: no earlier appointment of the client was ever attended.
    day_start, _end = day_bounds(on, tz)
    seen_before = set(
        Appointment.objects.filter(
            client_id__in=client_ids, status__in=VISIT_STATUSES, starts_at__lt=day_start
        )
        .order_by()
        .values_list("client_id", flat=True)
        .distinct()
    )
    # Course sessions: numbered among the course's sessions that are not cancelled, as the
    # client's course page numbers them (daisy/courses/selectors.py).
    plan_of = dict(
        PlanSession.objects.filter(appointment_id__in=ids).values_list("appointment_id", "plan_id")
    )
    labels: dict[Any, str] = {}
    if plan_of:
        rows = (
            PlanSession.objects.filter(plan_id__in=set(plan_of.values()))
            .order_by("plan_id", "appointment__starts_at", "appointment_id")
            .values_list("plan_id", "appointment_id", "appointment__status", "plan__sessions")
        )
        numbers: dict[Any, int] = {}
        counters: dict[Any, int] = defaultdict(int)
        totals: dict[Any, int] = {}
        for plan_id, appt_id, status, planned in rows:
            totals[plan_id] = planned
            if status != Status.CANCELLED:
                counters[plan_id] += 1
                numbers[appt_id] = counters[plan_id]
        for appt_id, plan_id in plan_of.items():
            if appt_id in numbers:
                labels[appt_id] = _("Session %(n)s of %(total)s") % {
                    "n": numbers[appt_id],
                    "total": max(totals[plan_id], counters[plan_id]),
                }
    charts = chart_states_for(ids)
    unconsented = consent_missing_for(appts)
    for appt in appts:
        codes = out[appt.pk]
        if appt.pk in unconsented:
            codes.append(FLAG_CONSENT)
        state = charts.get(appt.pk)
        if state is not None:
            codes.append(CHART_FLAGS[state])
        elif appt.status == Status.COMPLETED and appt.treatment.requires_screening:
            # A treatment (not a consultation) closed with no chart at all.
            codes.append(FLAG_CHART_UNSIGNED)
        if appt.client_id in alerted:
            codes.append(FLAG_ALERT)
        if appt.client_id not in seen_before and appt.status == Status.BOOKED:
            codes.append(FLAG_FIRST_VISIT)
        if appt.pk in labels:
            codes.append(FLAG_COURSE)
        if appt.notes.strip():
            codes.append(FLAG_NOTE)
    return out, labels


def _to_view(
    appt: Appointment,
    codes: list[str],
    course_label: str,
    template: Sequence[Any] | None,
    tz: zoneinfo.ZoneInfo,
    names: dict[Any, str],
) -> DiaryAppointment:
    order = list(FLAG_LABELS)
    flags = tuple(
        Flag(
            code=c,
            label=course_label if c == FLAG_COURSE else str(FLAG_LABELS[c]),
            is_warning=c in WARNING_FLAGS,
        )
        for c in sorted(set(codes), key=order.index)
    )
    return DiaryAppointment(
        id=appt.pk,
        client_id=appt.client_id,
        client_name=_client_name(appt.client),
        treatment_name=appt.treatment.name,
        status=appt.status,
        status_label=str(STATUS_LABELS.get(appt.status, appt.status)),
        starts_at=_local(appt.starts_at, tz),
        ends_at=_local(appt.ends_at, tz),
        busy_until=_local(appt.busy_until, tz),
        specialist_id=appt.specialist_id,
        specialist_name=names.get(appt.specialist_id, ""),
        room_id=appt.room_id,
        room_name=names.get(appt.room_id, ""),
        device_id=appt.device_id,
        device_name=names.get(appt.device_id, ""),
        notes=appt.notes,
        cancel_reason=appt.cancel_reason,
        client_phone=appt.client.phone,
        client_email=appt.client.email,
        location_id=appt.location_id,
        flags=flags,
        course_label=course_label,
        phases=_phase_views(appt, template, tz),
        version=appointment_version(appt),
    )


def _opening(location: Location, on: date) -> tuple[time, time, bool]:
    """The location's opening and closing wall-clock times that day; closed days are drawn
    over the default hours."""
    override = (
        DateOverride.objects.filter(location=location, resource__isnull=True, on=on)
        .order_by("pk")
        .first()
    )
    if override is not None:
        if override.is_closed or override.opens_at is None or override.closes_at is None:
            return DEFAULT_OPENS, DEFAULT_CLOSES, True
        return override.opens_at, override.closes_at, False
    hours = list(
        WeeklyHours.objects.filter(
            location=location, resource__isnull=True, weekday=on.weekday()
        ).values_list("opens_at", "closes_at")
    )
    if not hours:
        return DEFAULT_OPENS, DEFAULT_CLOSES, True
    return min(h[0] for h in hours), max(h[1] for h in hours), False


def desk_next_open_day(location: Location, on: date) -> date:
    """`on` if the location opens that day, else the next day it does (within a week)."""
    for k in range(8):
        day = on + timedelta(days=k)
        if not _opening(location, day)[2]:
            return day
    return on


def desk_locations() -> list[Location]:
    return list(Location.objects.filter(is_active=True).order_by("name"))


def desk_default_location(user: Any) -> Location | None:
    """A specialist's first location; anyone else's the first of the clinic's."""
    specialist = Specialist.objects.filter(user=user, is_active=True).first()
    if specialist is not None:
        loc = specialist.locations.filter(is_active=True).order_by("name").first()
        if loc is not None:
            return loc
    return Location.objects.filter(is_active=True).order_by("name").first()


def desk_specialist_of(user: Any) -> Any:
    """The id of the user's own specialist record, if they are one."""
    return Specialist.objects.filter(user=user).values_list("pk", flat=True).first()


def desk_specialists(location: Location) -> list[tuple[Any, str]]:
    return list(
        Specialist.objects.filter(locations=location, is_active=True)
        .order_by("name", "pk")
        .values_list("pk", "name")
    )


@dataclass(frozen=True)
class _Named:
    pk: Any
    name: str


def _resources(location: Location) -> tuple[list[Any], list[Any], list[Any]]:
    def named(qs: Any) -> list[_Named]:
        return [
            _Named(pk, name) for pk, name in qs.order_by("name", "pk").values_list("pk", "name")
        ]

    return (
        named(Specialist.objects.filter(locations=location, is_active=True)),
        named(Room.objects.filter(location=location, is_active=True)),
        named(Device.objects.filter(location=location, is_active=True)),
    )


def _minutes(value: datetime, day_start: datetime) -> int:
    """Wall-clock minutes since local midnight (a 25-hour day's fold counts once)."""
    local = value.astimezone(day_start.tzinfo)
    if local.date() != day_start.date():
        return 24 * 60 if local > day_start else 0
    return local.hour * 60 + local.minute


def _row(minutes: int, first: int) -> int:
    return (minutes - first) // ROW_MINUTES + 1


def _span(start: int, end: int) -> int:
    return max(1, -(-(end - start) // ROW_MINUTES))


def _blocks(view: DiaryAppointment, kind: str, first: int, day_start: datetime) -> list[Block]:
    """The stretches drawn in a column of this kind. A specialist's column shows the whole
    appointment, with the room-only phases marked as the specialist's free time; a room shows
    everything up to the end of clean-down; a device only the phases that use it."""
    if not view.phases:
        end = view.busy_until if kind != "specialist" else view.ends_at
        start_m, end_m = _minutes(view.starts_at, day_start), _minutes(end, day_start)
        return [Block("whole", view.treatment_name, _row(start_m, first), _span(start_m, end_m))]
    out: list[Block] = []
    for phase in view.phases:
        if kind == "specialist" and phase.kind == "clean_down":
            continue
        if kind == "device" and not phase.uses_device:
            continue
        start_m = _minutes(phase.starts_at, day_start)
        end_m = _minutes(phase.ends_at, day_start)
        if end_m <= start_m:
            continue
        out.append(Block(phase.kind, phase.name, _row(start_m, first), _span(start_m, end_m)))
    return out


def diary_version(*, location: Location, first_day: date, last_day: date) -> str:
    """A cheap stamp of the days' appointments at the location: it changes with every booking,
    move, cancellation, status change or note there (one indexed aggregate query). The desk
    polls it and redraws only when it changed."""
    tz = location.tz
    start, _x = day_bounds(first_day, tz)
    _y, end = day_bounds(last_day, tz)
    row = Appointment.objects.filter(
        location=location, starts_at__gte=start, starts_at__lt=end
    ).aggregate(n=Count("pk"), last=Max("updated_at"))
    last = row["last"].isoformat() if row["last"] else "-"
    return f"{row['n']}.{last}"


# The columns the desk reads: loading whole client and treatment rows for 150 appointments
# cost more than the query itself (bench: desk_day_ms beside desk_day_floor_ms).
_DIARY_FIELDS = (
    "id",
    "client_id",
    "treatment_id",
    "location_id",
    "specialist_id",
    "room_id",
    "device_id",
    "starts_at",
    "ends_at",
    "busy_until",
    "status",
    "notes",
    "cancel_reason",
    "override_reason",
    "updated_at",
    "client__id",
    "client__first_name",
    "client__last_name",
    "client__phone",
    "client__email",
    "treatment__id",
    "treatment__name",
    "treatment__slug",
    "treatment__requires_screening",
)


def _appointments(location: Location, start: datetime, end: datetime) -> list[Appointment]:
    appts = list(
        Appointment.objects.filter(location=location, starts_at__gte=start, starts_at__lt=end)
        .select_related("client", "treatment")
        .only(*_DIARY_FIELDS)
        .order_by("starts_at", "pk")
    )
    for appt in appts:
        appt.location = location  # the one we have: no query per appointment for its zone
    return appts


def diary_day(
    *, location: Location, on: date, now: datetime, mode: str = MODE_SPECIALISTS
) -> DiaryDay:
    """One location's day, ready to draw: columns (specialists, or rooms then devices), the
    day's appointments placed on a grid of ROW_MINUTES rows, today's line, and the stamp the
    desk polls."""
    if mode not in MODES:
        mode = MODE_SPECIALISTS
    tz = location.tz
    day_start, day_end = day_bounds(on, tz)
    stamps = diary_stamps()
    opens, closes, is_closed = _opening(location, on)
    appts = _appointments(location, day_start, day_end)
    specialists, rooms, devices = _resources(location)
    names = {r.pk: r.name for r in (*specialists, *rooms, *devices)}
    missing = {
        rid
        for a in appts
        for rid in (a.specialist_id, a.room_id, a.device_id)
        if rid is not None and rid not in names
    }
    if missing:
        # Someone who no longer works here (or a retired room) still shows on their bookings.
        for cls in (Specialist, Room, Device):
            names.update(cls.objects.filter(pk__in=missing).values_list("pk", "name"))
    codes, labels = _flags(appts, on, tz)
    views: list[DiaryAppointment] = []
    for appt in appts:
        template = _phases_of(appt.treatment, stamps)
        views.append(
            _to_view(appt, codes.get(appt.pk, []), labels.get(appt.pk, ""), template, tz, names)
        )
    shown = [v for v in views if v.status in SHOWN_STATUSES]
    cancelled = [v for v in views if v.status == Status.CANCELLED]

    first = opens.hour * 60 + opens.minute
    last = closes.hour * 60 + closes.minute
    for v in shown:
        first = min(first, _minutes(v.starts_at, day_start))
        last = max(last, _minutes(v.busy_until, day_start))
    first = (first // 60) * 60
    last = min(24 * 60, -(-last // 60) * 60)
    rows = (last - first) // ROW_MINUTES

    columns: list[Column] = []
    if mode == MODE_ROOMS:
        for r in rooms:
            columns.append(Column(r.pk, r.name, "room", 0))
        for d in devices:
            columns.append(Column(d.pk, d.name, "device", 0))
    else:
        for s in specialists:
            columns.append(Column(s.pk, s.name, "specialist", 0))
    by_id = {(c.kind, c.id): c for c in columns}
    for v in shown:
        keys = (
            [("room", v.room_id), ("device", v.device_id)]
            if mode == MODE_ROOMS
            else [("specialist", v.specialist_id)]
        )
        for kind, rid in keys:
            if rid is None:
                continue
            column = by_id.get((kind, rid))
            if column is None:
                column = Column(rid, names.get(rid, _("Someone else")), kind, 0)
                columns.append(column)
                by_id[(kind, rid)] = column
            blocks = _blocks(v, kind, first, day_start)
            if not blocks:
                continue
            row = min(b.row for b in blocks)
            end_row = max(b.row + b.span for b in blocks)
            column.items.append(Placed(v, row, end_row - row, blocks))
    for i, column in enumerate(columns, start=2):
        column.index = i

    now_local = now.astimezone(tz)
    now_row = None
    if now_local.date() == on:
        m = now_local.hour * 60 + now_local.minute
        if first <= m < last:
            now_row = _row(m, first)
    hours = [HourLine(_row(m, first), f"{m // 60:02d}:00") for m in range(first, last, 60)]
    return DiaryDay(
        location=location,
        on=on,
        mode=mode,
        tz_name=location.time_zone,
        tz_abbrev=day_start.replace(hour=12).tzname() or location.time_zone,
        opens_at=datetime.combine(on, opens, tzinfo=tz),
        closes_at=datetime.combine(on, closes, tzinfo=tz),
        rows=rows,
        hours=hours,
        columns=columns,
        appointments=shown,
        cancelled=cancelled,
        now_row=now_row,
        now_label=now_local.strftime("%H:%M"),
        version=diary_version(location=location, first_day=on, last_day=on),
        is_closed=is_closed,
        resources=[
            *((s.pk, "specialist", s.name) for s in specialists),
            *((r.pk, "room", r.name) for r in rooms),
            *((d.pk, "device", d.name) for d in devices),
        ],
    )


@dataclass
class WeekDay:
    on: date
    is_today: bool
    appointments: list[DiaryAppointment]


@dataclass
class WeekRow:
    specialist_id: Any
    name: str
    days: list[WeekDay]


@dataclass
class DiaryWeek:
    location: Location
    first_day: date
    days: list[date]
    tz_name: str
    rows: list[WeekRow]
    version: str
    total: int


def diary_week(
    *, location: Location, on: date, now: datetime, specialist_id: Any = None
) -> DiaryWeek:
    """The Monday-to-Sunday week holding `on`: a row per specialist (or only the one asked
    for), a cell per day listing their appointments in time order."""
    tz = location.tz
    monday = on - timedelta(days=on.weekday())
    days = [monday + timedelta(days=i) for i in range(7)]
    start, _x = day_bounds(monday, tz)
    _y, end = day_bounds(days[-1], tz)
    stamps = diary_stamps()
    appts = [a for a in _appointments(location, start, end) if a.status in SHOWN_STATUSES]
    specialists, rooms, devices = _resources(location)
    names = {r.pk: r.name for r in (*specialists, *rooms, *devices)}
    codes, labels = _flags(appts, monday, tz)
    today = now.astimezone(tz).date()
    cells: dict[tuple[Any, date], list[DiaryAppointment]] = defaultdict(list)
    for appt in appts:
        template = _phases_of(appt.treatment, stamps)
        v = _to_view(appt, codes.get(appt.pk, []), labels.get(appt.pk, ""), template, tz, names)
        cells[(appt.specialist_id, v.starts_at.date())].append(v)
    people = [(s.pk, s.name) for s in specialists]
    if specialist_id is not None:
        people = [p for p in people if str(p[0]) == str(specialist_id)]
    rows = [
        WeekRow(pk, name, [WeekDay(d, d == today, cells.get((pk, d), [])) for d in days])
        for pk, name in people
    ]
    return DiaryWeek(
        location=location,
        first_day=monday,
        days=days,
        tz_name=location.time_zone,
        rows=rows,
        version=diary_version(location=location, first_day=monday, last_day=days[-1]),
        total=len(appts),
    )


# The desk's names for the statuses it sets (the API's too) -> the stored status.
DESK_STATUSES = {
    "arrived": Status.CHECKED_IN,
    "in_treatment": Status.IN_TREATMENT,
    "completed": Status.COMPLETED,
    "no_show": Status.NO_SHOW,
}
DESK_STATUS_OF = {v: k for k, v in DESK_STATUSES.items()}
# What the desk may do next from each status (the scheduling app enforces the same).
NEXT_STATUSES = {
    Status.BOOKED: ("arrived", "in_treatment", "completed", "no_show"),
    Status.CHECKED_IN: ("in_treatment", "completed"),
    Status.IN_TREATMENT: ("completed",),
}
DESK_STATUS_LABELS = {
    "arrived": _("Arrived"),
    "in_treatment": _("In treatment"),
    "completed": _("Completed"),
    "no_show": _("No-show"),
}


def diary_appointment(appointment_id: Any) -> tuple[DiaryAppointment, Appointment]:
    """One appointment as the desk shows it (with its flags), and the row for the services.
    Raises Appointment.DoesNotExist (the caller answers 404)."""
    appt = Appointment.objects.select_related("client", "treatment", "location").get(
        pk=appointment_id
    )
    tz = appt.location.tz
    on = appt.starts_at.astimezone(tz).date()
    codes, labels = _flags([appt], on, tz)
    ids = [r for r in (appt.specialist_id, appt.room_id, appt.device_id) if r is not None]
    names: dict[Any, str] = {}
    for cls in (Specialist, Room, Device):
        names.update(cls.objects.filter(pk__in=ids).values_list("pk", "name"))
    view = _to_view(
        appt,
        codes.get(appt.pk, []),
        labels.get(appt.pk, ""),
        _phases_of(appt.treatment, diary_stamps()),
        tz,
        names,
    )
    return view, appt


@dataclass(frozen=True)
class FreeTime:
    starts_at: datetime  # the location's wall clock
    specialist_id: Any
    specialist_name: str

    @property
    def value(self) -> str:
        """As a form posts it back: the aware instant and the specialist."""
        return f"{self.starts_at.isoformat()}|{self.specialist_id or ''}"


def free_time_of(located: Any, tz: Any) -> FreeTime:
    """A bookable slot (availability_list's, or a refusal's alternatives) as the desk offers it."""
    person = located.resource("specialist")
    return FreeTime(
        starts_at=located.slot.start.astimezone(tz),
        specialist_id=person.id if person else None,
        specialist_name=person.name if person else "",
    )


def desk_free_times(
    *,
    treatment: Any,
    location: Location,
    now: datetime,
    first_day: date,
    days: int = 1,
    specialist_id: Any = None,
    earliest: datetime | None = None,
    limit: int = 12,
) -> list[FreeTime]:
    """The next free times for a treatment at the desk (staff rules: no minimum notice), from
    `first_day` (or `earliest`) on, with a chosen specialist or with whoever is free."""
    tz = location.tz
    start, _x = day_bounds(first_day, tz)
    _y, end = day_bounds(first_day + timedelta(days=max(1, days) - 1), tz)
    if earliest is not None:
        start = max(start, earliest)
    start = max(start, now)
    if start >= end:
        return []
    found = availability_list(
        treatment=treatment,
        location=location,
        window_start=start,
        window_end=end,
        now=now,
        specialist_id=specialist_id,
        for_staff=True,
    )
    return [free_time_of(located, tz) for located in found[:limit]]


def desk_client_search(query: str, *, limit: int = 10) -> list[Any]:
    """Clients for the desk's "who is calling": the one whose email or phone this is, however
    it is typed (07700 900017, +44 7700 900017, ADA@Example.com), then name matches."""
    query = query.strip()
    if not query:
        return []
    out: list[Any] = []
    exact = client_find(email=query if "@" in query else None, phone=query)
    if exact is not None:
        out.append(exact)
    for client in client_list(search=query)[: limit + 1]:
        if all(c.pk != client.pk for c in out):
            out.append(client)
    return out[:limit]
