"""The owner's reports (issue 16, item 5), read: utilisation, attendance (no-shows and late
cancellations), revenue, course completion, rebooking and message delivery, for a range of
local days at one location or every location.

They read several apps (scheduling, courses, notifications, the clinic's calendars), which is
why they live in `booking`, the layer that composes. Each report is a fixed number of queries
whatever the amount of data, and the counting and summing happen in the database; only the
opening hours are expanded in Python, by the calendars availability uses
(scheduling.selectors.resource_open_time). `make bench` times each one over a year of a
20-specialist clinic (bench/reports.py).

Dates: a day is a local day in the zone of the appointment's own location (as the diary shows
it), so "1 to 31 March" at a London and a New York clinic are each their own March."""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import (
    Case,
    Count,
    F,
    FloatField,
    Func,
    Min,
    Q,
    RowRange,
    Sum,
    Value,
    When,
    Window,
)
from django.utils.translation import gettext_lazy as _

from daisy.clinic.models import Device, DeviceStatus, Location, Room, Specialist
from daisy.clinic.selectors import clinic_zone
from daisy.core import intervals
from daisy.core.intervals import Interval
from daisy.courses.models import Plan, PlanStatus
from daisy.notifications.models import Message, MessageChannel, MessageStatus
from daisy.scheduling.models import Allocation, Appointment, Status
from daisy.scheduling.selectors import resource_key, resource_open_time

KIND_SPECIALIST = "specialist"
KIND_ROOM = "room"
KIND_DEVICE = "device"
KIND_LABELS = {KIND_SPECIALIST: _("Specialist"), KIND_ROOM: _("Room"), KIND_DEVICE: _("Device")}
# Still to come or under way: a course with one of these is not over.
UPCOMING = (Status.BOOKED, Status.CHECKED_IN, Status.IN_TREATMENT)
DEFAULT_REBOOK_DAYS = 30


@dataclass(frozen=True)
class Period:
    """Local days first_day..last_day (inclusive); `location_id` None means every location."""

    first_day: date
    last_day: date
    location_id: Any = None
    rebook_days: int = DEFAULT_REBOOK_DAYS


@dataclass(frozen=True)
class _Place:
    pk: Any
    name: str
    tz: zoneinfo.ZoneInfo
    location: Location


def _places(period: Period) -> list[_Place]:
    qs = Location.objects.order_by("name")
    if period.location_id is not None:
        qs = qs.filter(pk=period.location_id)
    return [_Place(loc.pk, loc.name, loc.tz, loc) for loc in qs]


def _bounds(day_first: date, day_last: date, tz: zoneinfo.ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(day_first, time(0), tz)
    end = datetime.combine(day_last + timedelta(days=1), time(0), tz)
    return start, end


def _within(period: Period, places: list[_Place], *, at: str, location: str) -> Q:
    """`at` falls on one of the period's local days, in the zone of the row's `location`."""
    by_zone: dict[str, list[Any]] = defaultdict(list)
    for place in places:
        by_zone[place.tz.key].append(place.pk)
    found = Q(pk__in=[])
    for zone, pks in by_zone.items():
        start, end = _bounds(period.first_day, period.last_day, zoneinfo.ZoneInfo(zone))
        found |= Q(**{f"{location}__in": pks, f"{at}__gte": start, f"{at}__lt": end})
    return found


class _Seconds(Func):
    """`end` - `start` in seconds, in the database's own arithmetic: Django's datetime
    subtraction on SQLite calls back into Python for every row, which over a year of
    allocations cost seconds."""

    arity = 2
    output_field = FloatField()

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> Any:  # noqa: ARG002
        (end, end_params), (start, start_params) = (
            compiler.compile(e) for e in self.get_source_expressions()
        )
        if connection.vendor == "sqlite":
            sql = f"((julianday({end}) - julianday({start})) * 86400.0)"
        else:
            sql = f"EXTRACT(EPOCH FROM ({end} - {start}))"
        return sql, [*end_params, *start_params]


def _share(part: float, whole: float) -> float | None:
    """part / whole, or None when there is nothing to divide by."""
    return part / whole if whole else None


# --- utilisation -----------------------------------------------------------------------------


@dataclass(frozen=True)
class UtilisationRow:
    kind: str
    name: str
    booked_minutes: int
    open_minutes: int

    @property
    def share(self) -> float | None:
        return _share(self.booked_minutes, self.open_minutes)


def _minutes(spans: Iterable[Interval[datetime]]) -> int:
    return round(sum((s.end - s.start).total_seconds() for s in spans) / 60)


def utilisation(period: Period) -> list[UtilisationRow]:
    """Booked minutes over open minutes, per specialist, room and device.

    Booked: the resource time held by appointments that start in the period (every phase the
    resource is used for, clean-down included), as the diary holds it: booked, arrived, in
    treatment and completed sessions. Cancelled and no-show appointments released their time,
    so they count as not booked. Open: the resource's working hours within the location's
    opening hours, with date overrides and closures, less time off, over the period's days
    (scheduling.selectors.resource_open_time, the calendars availability reads). A specialist
    who works at several locations is open when any of them has them (every location), or
    when the chosen one does."""
    places = _places(period)
    pks = [p.pk for p in places]
    specialist_rows = list(
        Specialist.locations.through.objects.filter(location_id__in=pks, specialist__is_active=True)
        .order_by("specialist__name", "specialist_id")
        .values_list("specialist_id", "specialist__name", "location_id")
    )
    room_rows = list(
        Room.objects.filter(is_active=True, location_id__in=pks)
        .order_by("name", "pk")
        .values_list("pk", "name", "location_id")
    )
    device_rows = list(
        Device.objects.filter(is_active=True, location_id__in=pks)
        .exclude(status=DeviceStatus.RETIRED)
        .order_by("name", "pk")
        .values_list("pk", "name", "location_id")
    )
    booked: dict[str, int] = {}
    held = (
        Allocation.objects.filter(
            _within(period, places, at="starts_at", location="appointment__location_id"),
            is_active=True,
            appointment__isnull=False,
        )
        .values("resource_id")
        .annotate(held=Sum(_Seconds(F("ends_at"), F("starts_at"))))
        .order_by()
    )
    for row in held:
        booked[resource_key(row["resource_id"])] = round((row["held"] or 0) / 60)

    # resource -> (kind, name), in the order shown; resource -> the locations it works at.
    shown: dict[str, tuple[str, str]] = {}
    at_places: dict[Any, list[str]] = defaultdict(list)
    for kind, rows in (
        (KIND_SPECIALIST, specialist_rows),
        (KIND_ROOM, room_rows),
        (KIND_DEVICE, device_rows),
    ):
        for pk, name, location_id in rows:
            rid = resource_key(pk)
            shown.setdefault(rid, (kind, name))
            at_places[location_id].append(rid)
    open_time: dict[str, list[Interval[datetime]]] = defaultdict(list)
    found = resource_open_time(
        at=[(place.location, at_places.get(place.pk, [])) for place in places],
        first_day=period.first_day,
        last_day=period.last_day,
    )
    for (_loc, rid), spans in found.items():
        open_time[rid] = intervals.union(open_time[rid], spans) if open_time[rid] else spans
    return [
        UtilisationRow(kind, name, booked.get(rid, 0), _minutes(open_time.get(rid, ())))
        for rid, (kind, name) in shown.items()
    ]


# --- attendance: no-shows and late cancellations ---------------------------------------------


@dataclass(frozen=True)
class AttendanceRow:
    specialist: str
    appointments: int  # every appointment starting in the period, cancelled ones included
    cancelled: int
    late_cancelled: int
    no_shows: int

    @property
    def due(self) -> int:
        """The appointments that were still on: all but the cancelled ones."""
        return self.appointments - self.cancelled

    @property
    def no_show_rate(self) -> float | None:
        return _share(self.no_shows, self.due)

    @property
    def late_cancel_rate(self) -> float | None:
        return _share(self.late_cancelled, self.appointments)


@dataclass(frozen=True)
class Attendance:
    rows: list[AttendanceRow]
    total: AttendanceRow


def attendance(period: Period) -> Attendance:
    """No-show rate (no-shows over the appointments that were still on when they were due)
    and late-cancellation rate (late cancellations over every appointment), by specialist.

    Late: cancelled inside the treatment's cancellation window (Treatment.
    cancellation_window_hours, 48 hours unless the clinic changed it), as the cancellation
    recorded it at the time (Appointment.is_late_cancellation). A cancellation the clinic made
    itself is never late."""
    places = _places(period)
    rows = (
        Appointment.objects.filter(_within(period, places, at="starts_at", location="location_id"))
        .values("specialist__name")
        .annotate(
            appointments=Count("pk"),
            cancelled=Count("pk", filter=Q(status=Status.CANCELLED)),
            late=Count("pk", filter=Q(status=Status.CANCELLED, is_late_cancellation=True)),
            no_shows=Count("pk", filter=Q(status=Status.NO_SHOW)),
        )
        .order_by("specialist__name")
    )
    out = [
        AttendanceRow(
            r["specialist__name"] or "",
            r["appointments"],
            r["cancelled"],
            r["late"],
            r["no_shows"],
        )
        for r in rows
    ]
    total = AttendanceRow(
        "",
        sum(r.appointments for r in out),
        sum(r.cancelled for r in out),
        sum(r.late_cancelled for r in out),
        sum(r.no_shows for r in out),
    )
    return Attendance(out, total)


# --- revenue --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RevenueRow:
    name: str
    currency: str
    sessions: int
    amount: Decimal


@dataclass(frozen=True)
class Revenue:
    by_treatment: list[RevenueRow]
    by_specialist: list[RevenueRow]
    by_location: list[RevenueRow]

    @property
    def totals(self) -> list[RevenueRow]:
        """One row per currency: the whole period."""
        sums: dict[str, list[Any]] = {}
        for row in self.by_location:
            entry = sums.setdefault(row.currency, [0, Decimal(0)])
            entry[0] += row.sessions
            entry[1] += row.amount
        return [RevenueRow("", cur, n, amount) for cur, (n, amount) in sorted(sums.items())]


def revenue(period: Period) -> Revenue:
    """Completed sessions and what they were booked at, by treatment, specialist and location.

    The amount is the price stored on each appointment when it was booked (Appointment.price:
    the treatment's price then, or what staff agreed), in the treatment's currency; a later
    change of the treatment's price does not rewrite it. Payments are not recorded by Daisy, so
    this is the value of the sessions given, not the money taken."""
    places = _places(period)
    done = Appointment.objects.filter(
        _within(period, places, at="starts_at", location="location_id"),
        status=Status.COMPLETED,
    )

    def grouped(by: str) -> list[RevenueRow]:
        rows = (
            done.values(by, "treatment__currency")
            .annotate(sessions=Count("pk"), amount=Sum("price"))
            .order_by(by, "treatment__currency")
        )
        return [
            RevenueRow(
                r[by] or "",
                r["treatment__currency"],
                r["sessions"],
                Decimal(r["amount"] or 0).quantize(Decimal("0.01")),
            )
            for r in rows
        ]

    return Revenue(
        by_treatment=grouped("treatment__name"),
        by_specialist=grouped("specialist__name"),
        by_location=grouped("location__name"),
    )


# --- courses: completion and drop-off by session number ---------------------------------------


@dataclass(frozen=True)
class CourseStep:
    number: int  # the session number, 1 = the first
    planned: int  # courses of at least this many sessions
    completed: int  # courses whose session `number` was completed
    stopped_before: int  # courses that ended having completed `number - 1` sessions

    @property
    def completion(self) -> float | None:
        return _share(self.completed, self.planned)


@dataclass(frozen=True)
class Courses:
    courses: int
    finished: int  # every planned session completed
    stopped: int  # ended early (stopped, or nothing left booked and not all completed)
    steps: list[CourseStep] = field(default_factory=list)

    @property
    def completion_rate(self) -> float | None:
        return _share(self.finished, self.courses)


def courses(period: Period) -> Courses:
    """Courses whose first session falls in the period, at the location (the course's own):
    how many reached each session number, and where the others stopped.

    Session numbers follow the course's sessions in time order; a session counts as reached
    when it was completed. A course has stopped early when it was stopped, or when it is not
    complete and has no session still booked (a client who cancelled the rest, or missed the
    last one). One query: the per-course counts are grouped again in the database."""
    places = _places(period)
    per_course = (
        Plan.objects.exclude(status=PlanStatus.PROPOSED)
        .annotate(
            first_at=Min("plan_sessions__appointment__starts_at"),
            done=Count(
                "plan_sessions", filter=Q(plan_sessions__appointment__status=Status.COMPLETED)
            ),
            ahead=Count("plan_sessions", filter=Q(plan_sessions__appointment__status__in=UPCOMING)),
        )
        .filter(_within(period, places, at="first_at", location="location_id"))
        .values("done", "sessions", "status", "ahead")
        .order_by()
    )
    inner, params = per_course.query.sql_with_params()
    # Grouped again by the database, so one row per (completed, planned, stopped) comes back
    # however many courses there are.
    sql = (
        "SELECT t.done, t.sessions, CASE WHEN t.status = %s OR (t.status <> %s AND "
        "t.done < t.sessions AND t.ahead = 0) THEN 1 ELSE 0 END, COUNT(*) "
        f"FROM ({inner}) t GROUP BY 1, 2, 3"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [PlanStatus.STOPPED, PlanStatus.COMPLETED, *params])
        groups = [(int(d), int(s), bool(x), int(n)) for d, s, x, n in cursor.fetchall()]
    longest = max((s for _d, s, _x, _n in groups), default=0)
    steps = [
        CourseStep(
            number=k,
            planned=sum(n for _d, s, _x, n in groups if s >= k),
            completed=sum(n for d, _s, _x, n in groups if d >= k),
            stopped_before=sum(n for d, _s, x, n in groups if x and d == k - 1),
        )
        for k in range(1, longest + 1)
    ]
    return Courses(
        courses=sum(n for *_rest, n in groups),
        finished=sum(n for d, s, _x, n in groups if d >= s),
        stopped=sum(n for _d, _s, x, n in groups if x),
        steps=steps,
    )


# --- rebooking ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RebookingRow:
    specialist: str
    clients: int  # clients with a completed session in the period
    rebooked: int  # of them, those with a later visit booked within N days of one

    @property
    def rate(self) -> float | None:
        return _share(self.rebooked, self.clients)


@dataclass(frozen=True)
class Rebooking:
    days: int
    rows: list[RebookingRow]
    total: RebookingRow


def rebooking(period: Period) -> Rebooking:
    """Clients who had a session completed in the period and had another visit booked by N
    days after it ended (`period.rebook_days`): a later appointment, not cancelled, whose
    booking was made no later than that (a course's next session booked in advance counts).
    By the specialist who gave the completed session; a client seen by two specialists counts
    once in the total.

    One pass over the client's appointments in start order (a window: the earliest booking
    time among each appointment's later ones), rather than a look-up per session, and one
    query for the rows and the total. Two appointments of one client that start at the same
    moment are taken in id order."""
    places = _places(period)
    if not places:
        return Rebooking(period.rebook_days, [], RebookingRow("", 0, 0))
    earliest = min(_bounds(period.first_day, period.last_day, p.tz)[0] for p in places)
    counted = Q(status=Status.COMPLETED) & _within(
        period, places, at="starts_at", location="location_id"
    )
    rows_qs = (
        Appointment.objects.filter(starts_at__gte=earliest)
        .exclude(status=Status.CANCELLED)
        .annotate(
            counted=Case(When(counted, then=Value(1)), default=Value(0)),
            next_booked_at=Window(
                Min("created_at"),
                partition_by=[F("client_id")],
                order_by=[F("starts_at").asc(), F("id").asc()],
                frame=RowRange(start=1, end=None),
            ),
            who=F("specialist__name"),
            person=F("client_id"),
            until=F("ends_at"),
        )
        .values("who", "person", "until", "counted", "next_booked_at")
        .order_by()
    )
    inner, params = rows_qs.query.sql_with_params()
    days = int(period.rebook_days)
    if connection.vendor == "sqlite":
        rebooked = f"julianday(t.next_booked_at) <= julianday(t.until) + {days}"
    else:
        rebooked = f"t.next_booked_at <= t.until + make_interval(days => {days})"
    counts = f"COUNT(DISTINCT t.person), COUNT(DISTINCT CASE WHEN {rebooked} THEN t.person END)"
    sql = (
        f"WITH t AS ({inner}) "
        f"SELECT 0, t.who, {counts} FROM t WHERE t.counted = 1 GROUP BY t.who "
        f"UNION ALL SELECT 1, NULL, {counts} FROM t WHERE t.counted = 1 "
        "ORDER BY 1, 2"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchall()
    rows = [RebookingRow(who or "", int(n), int(r)) for total, who, n, r in found if not total]
    whole = [RebookingRow("", int(n), int(r)) for total, _who, n, r in found if total]
    return Rebooking(
        days=period.rebook_days,
        rows=rows,
        total=whole[0] if whole else RebookingRow("", 0, 0),
    )


# --- message delivery -----------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryRow:
    channel: str
    messages: int
    sent: int
    failed: int
    unknown: int  # handed over, result never known (being re-sent)
    waiting: int  # not yet due, or being sent now
    cancelled: int
    resent: int  # sent, after an earlier hand-off whose result was lost

    @property
    def channel_label(self) -> str:
        if self.channel in MessageChannel.values:
            return str(MessageChannel(self.channel).label)
        return self.channel

    @property
    def failure_rate(self) -> float | None:
        return _share(self.failed, self.sent + self.failed + self.unknown)


def delivery(period: Period) -> tuple[list[DeliveryRow], zoneinfo.ZoneInfo]:
    """Messages due in the period (by the time they were to be sent) by channel and how they
    ended. Messages know an address, not a location (DESIGN.md 3), so this report is for the
    whole clinic whatever location is chosen; its days are in the chosen location's zone (the
    clinic's first location's, for every location). Returns the rows and that zone."""
    places = _places(period)
    tz = places[0].tz if period.location_id is not None and places else clinic_zone()
    start, end = _bounds(period.first_day, period.last_day, tz)
    known = [
        MessageStatus.SENT,
        MessageStatus.FAILED,
        MessageStatus.OUTCOME_UNKNOWN,
        MessageStatus.UNCONFIRMED,
        MessageStatus.CANCELLED,
    ]
    # Unknown outcome: being sent again after a lost worker, or handed over and not confirmed.
    unknown = [MessageStatus.OUTCOME_UNKNOWN, MessageStatus.UNCONFIRMED]
    rows = (
        Message.objects.filter(send_after__gte=start, send_after__lt=end)
        .values("channel")
        .annotate(
            messages=Count("pk"),
            sent=Count("pk", filter=Q(status=MessageStatus.SENT)),
            failed=Count("pk", filter=Q(status=MessageStatus.FAILED)),
            unknown=Count("pk", filter=Q(status__in=unknown)),
            cancelled=Count("pk", filter=Q(status=MessageStatus.CANCELLED)),
            waiting=Count("pk", filter=~Q(status__in=known)),
            resent=Count("pk", filter=Q(status=MessageStatus.SENT, unknown_outcomes__gt=0)),
        )
        .order_by("channel")
    )
    return [
        DeliveryRow(
            r["channel"],
            r["messages"],
            r["sent"],
            r["failed"],
            r["unknown"],
            r["waiting"],
            r["cancelled"],
            r["resent"],
        )
        for r in rows
    ], tz
