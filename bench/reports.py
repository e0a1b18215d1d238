"""The owner's reports over a year (issue 16, item 5, "make bench"): a clinic of 20 specialists,
20 rooms and 10 pens with a year of sessions, courses and messages, and each report asked for
that year at that location.

A reports clinic is made for the run and removed afterwards (so no other figure sees it): one
London location open 08:00-21:00 every day but bank holidays, each specialist working 08:00-19:00
on five days of the week (two weeks off each for a quarter of them), six micro-needling sessions
a working day each (about 31,000 in the year, every allocation written: the utilisation report
reads them), 4,000 clients, a course of up to six sessions for a third of them, and three
messages per session. Statuses as a past year has them: mostly completed, some no-shows,
cancellations (half of them late) and a few still booked. Rows are inserted in bulk; the
database's no-overlap guard still checks every active allocation.

Figures (target: p95 < 1 s each, "Reports over a year of a 20-specialist clinic answer in under
a second"):
  report_<name>_ms   daisy.booking.reports.<name>() for the year at the reports clinic, for
                     each report (utilisation, attendance, revenue, courses, rebooking,
                     delivery), timed round-robin. Warm: the clinic's set-up (hours, closures,
                     time off) cached under the database's stamp, as availability reads it;
                     report_utilisation_cold_ms reads it afresh each time;
  report_page_ms     GET /desk/reports/ for that year and location, the whole page with every
                     report, chart and table (Django's test client, in-process, as the
                     manager)."""

from __future__ import annotations

import random
import uuid
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.test import Client as TestClient
from django_otp.plugins.otp_totp.models import TOTPDevice

from bench import config
from bench.desk import _verify
from bench.figures import Bench, Timed, warm_queries
from daisy.accounts.models import Role, User
from daisy.booking import reports
from daisy.clients.models import Client
from daisy.clinic.models import (
    Closure,
    Device,
    DeviceKind,
    Location,
    Room,
    RoomKind,
    Specialist,
    TimeOff,
    WeeklyHours,
)
from daisy.courses.models import Plan, PlanSession, PlanStatus
from daisy.notifications.models import Message, MessageStatus
from daisy.scheduling import selectors
from daisy.scheduling.models import Allocation, Appointment, Status
from daisy.treatments.models import Treatment

REPORTS = ("utilisation", "attendance", "revenue", "courses", "rebooking", "delivery")
FIGURES = (
    *(f"report_{name}_ms" for name in REPORTS),
    "report_utilisation_cold_ms",
    "report_page_ms",
)
SLUG = "bench-reports"
PREFIX = "bench-reports-"
SPECIALISTS = 20
ROOMS = 20
PENS = 10
CLIENTS = 4000
PER_DAY = 6  # sessions per specialist and working day, 100 minutes apart
# The year before the availability data set's first day: a past year, as owners read it.
FIRST_DAY = config.START - timedelta(days=365)
LAST_DAY = config.START - timedelta(days=1)
BANK_HOLIDAYS = {
    date(2030, 4, 19),
    date(2030, 4, 22),
    date(2030, 5, 6),
    date(2030, 5, 27),
    date(2030, 8, 26),
    date(2030, 12, 25),
    date(2030, 12, 26),
    date(2031, 1, 1),
}
# (share, status, late) for the sessions before the year's last fortnight; after it, booked.
OUTCOMES = (
    (0.82, Status.COMPLETED, False),
    (0.05, Status.NO_SHOW, False),
    (0.05, Status.CANCELLED, True),
    (0.08, Status.CANCELLED, False),
)


def cleanup() -> int:
    """Remove the reports clinic (its sessions, courses, messages, clients and people)."""
    location = Location.objects.filter(slug=SLUG).first()
    removed = 0
    with transaction.atomic():
        Message.objects.filter(about__startswith=PREFIX).delete()
        Plan.objects.filter(notes=PREFIX).delete()
        if location is not None:
            removed, _ = Appointment.objects.filter(location=location).delete()
            specialists = list(Specialist.objects.filter(locations=location))
            user_ids = [s.user_id for s in specialists]
            for s in specialists:
                s.delete()
            User.objects.filter(pk__in=user_ids).delete()
            Room.objects.filter(location=location).delete()
            Device.objects.filter(location=location).delete()
            location.delete()
        Client.objects.filter(last_name__startswith=PREFIX).delete()
        User.objects.filter(username__startswith=PREFIX).delete()
    return removed


def _build(bench: Bench) -> tuple[Location, dict[str, int]]:
    rng = random.Random(config.SEED + 16)
    template = selectors.treatment_template(bench.treatment)
    client_len = sum((p.duration for p in template.phases if not p.is_buffer), timedelta())
    total = sum((p.duration for p in template.phases), timedelta())
    runs = _role_runs(template)
    treatments = list(Treatment.objects.order_by("display_order", "pk"))
    tz = bench.tz
    counts: dict[str, int] = {}
    with transaction.atomic():
        location = Location.objects.create(
            name="Bench reports clinic",
            slug=SLUG,
            address_line1="2 Bench Street",
            city="London",
            postcode="N1 1AB",
            time_zone=config.TIME_ZONE,
        )
        WeeklyHours.objects.bulk_create(
            WeeklyHours(location=location, weekday=d, opens_at=time(8), closes_at=time(21))
            for d in range(7)
        )
        Closure.objects.bulk_create(
            Closure(location=location, on=day, name="Bank holiday") for day in BANK_HOLIDAYS
        )
        password = make_password(None)
        specialists = []
        days_off: dict[int, set[int]] = {}
        away: dict[int, set[date]] = {}
        for n in range(SPECIALISTS):
            user = User.objects.create(
                username=f"{PREFIX}s{n:02d}", password=password, role=Role.SPECIALIST
            )
            s = Specialist.objects.create(user=user, name=f"Reports specialist {n + 1:02d}")
            s.locations.add(location)
            specialists.append(s)
            days_off[n] = {n % 7, (n + 3) % 7}
            if n % 4 == 0:
                first = FIRST_DAY + timedelta(days=rng.randrange(0, 340))
                away[n] = {first + timedelta(days=k) for k in range(14)}
                TimeOff.objects.create(
                    resource=s,
                    starts_at=datetime.combine(first, time(0), tz),
                    ends_at=datetime.combine(first + timedelta(days=14), time(0), tz),
                    reason="Holiday",
                )
        WeeklyHours.objects.bulk_create(
            WeeklyHours(
                location=location, resource=s, weekday=d, opens_at=time(8), closes_at=time(19)
            )
            for n, s in enumerate(specialists)
            for d in range(7)
            if d not in days_off[n]
        )
        rooms = [
            Room.objects.create(
                location=location, name=f"Reports room {n + 1:02d}", room_kind=RoomKind.TREATMENT
            )
            for n in range(ROOMS)
        ]
        pens = [
            Device.objects.create(
                location=location,
                name=f"Reports pen {n + 1:02d}",
                device_kind=DeviceKind.MICRONEEDLING_PEN,
                serial=f"BENCH-REPORTS-{n:03d}",
            )
            for n in range(PENS)
        ]
        clients = [
            Client(
                id=uuid.uuid4(),
                first_name="Bench",
                last_name=f"{PREFIX}{n:05d}",
                email=f"bench.reports{n}@example.com",
            )
            for n in range(CLIENTS)
        ]
        Client.objects.bulk_create(clients, batch_size=1000)

        appointments: list[Appointment] = []
        allocations: list[Allocation] = []
        booked_from = LAST_DAY - timedelta(days=14)
        day = FIRST_DAY
        k = 0
        while day <= LAST_DAY:
            if day not in BANK_HOLIDAYS:
                for n, s in enumerate(specialists):
                    if day.weekday() in days_off[n] or day in away.get(n, ()):
                        continue
                    # Specialists 11-20 start 50 minutes later: each pen serves two of them.
                    offset = timedelta(minutes=50 if n >= PENS else 0)
                    for slot in range(PER_DAY):
                        start = datetime.combine(day, time(8), tz) + offset
                        start += timedelta(minutes=100 * slot)
                        status, late = Status.BOOKED, False
                        if day < booked_from:
                            status, late = _outcome(rng.random())
                        created = datetime.combine(day, time(9), tz) - timedelta(
                            days=rng.randrange(1, 60)
                        )
                        appt = Appointment(
                            id=uuid.uuid4(),
                            client=clients[rng.randrange(CLIENTS)],
                            treatment=treatments[k % len(treatments)],
                            location=location,
                            specialist=s,
                            room=rooms[n],
                            device=pens[n % PENS],
                            starts_at=start,
                            ends_at=start + client_len,
                            busy_until=start + total,
                            status=status,
                            price=Decimal(180 + 20 * (k % 5)),
                            created_at=created,
                            updated_at=created,
                            cancelled_at=start - timedelta(hours=6 if late else 96)
                            if status == Status.CANCELLED
                            else None,
                            is_late_cancellation=late,
                        )
                        k += 1
                        appointments.append(appt)
                        active = status not in (Status.CANCELLED, Status.NO_SHOW)
                        ids = {
                            selectors.ROLE_ROOM: rooms[n].pk,
                            selectors.ROLE_SPECIALIST: s.pk,
                            selectors.ROLE_DEVICE: pens[n % PENS].pk,
                        }
                        for role, a, b, names in runs:
                            allocations.append(
                                Allocation(
                                    appointment=appt,
                                    resource_id=ids[role],
                                    role=role,
                                    phases=names,
                                    starts_at=start + a,
                                    ends_at=start + b,
                                    is_active=active,
                                )
                            )
            day += timedelta(days=1)
        Appointment.objects.bulk_create(appointments, batch_size=1000)
        allocations.sort(key=lambda row: row.starts_at, reverse=True)
        Allocation.objects.bulk_create(allocations, batch_size=1000)

        # Courses: a third of the clients, up to six of their sessions in time order.
        by_client: dict[Any, list[Appointment]] = {}
        for appt in appointments:
            by_client.setdefault(appt.client_id, []).append(appt)
        plans, links = [], []
        for n, client in enumerate(clients):
            mine = by_client.get(client.pk, [])
            if n % 3 or not mine:
                continue
            mine.sort(key=lambda a: a.starts_at)
            sessions = 3 + n % 4
            taken = mine[: min(sessions, len(mine))]
            plan = Plan(
                id=uuid.uuid4(),
                client=client,
                treatment=taken[0].treatment,
                location=location,
                specialist=taken[0].specialist,
                sessions=sessions,
                status=PlanStatus.STOPPED if n % 7 == 0 else PlanStatus.IN_PROGRESS,
                notes=PREFIX,
                created_at=taken[0].created_at,
                updated_at=taken[0].created_at,
            )
            plans.append(plan)
            links += [PlanSession(plan=plan, appointment=a) for a in taken]
        Plan.objects.bulk_create(plans, batch_size=1000)
        PlanSession.objects.bulk_create(links, batch_size=1000)

        messages = []
        for appt in appointments:
            for m, (channel, before) in enumerate(
                (("email", timedelta(days=7)), ("sms", timedelta(days=1)), ("email", -total))
            ):
                roll = rng.random()
                status = (
                    MessageStatus.CANCELLED
                    if appt.status == Status.CANCELLED and m
                    else MessageStatus.PENDING
                    if appt.status == Status.BOOKED and m
                    else MessageStatus.FAILED
                    if roll < 0.02
                    else MessageStatus.OUTCOME_UNKNOWN
                    if roll < 0.025
                    else MessageStatus.SENT
                )
                messages.append(
                    Message(
                        channel=channel,
                        recipient="client@example.com",
                        client_id=appt.client_id,
                        template="reminder",
                        dedupe_key=f"{PREFIX}{appt.pk}:{m}",
                        about=f"{PREFIX}{appt.pk}",
                        send_after=appt.starts_at - before,
                        status=status,
                        unknown_outcomes=1 if roll > 0.995 else 0,
                        created_at=appt.created_at,
                    )
                )
        Message.objects.bulk_create(messages, batch_size=1000)
        counts = {
            "appointments": len(appointments),
            "allocations": len(allocations),
            "courses": len(plans),
            "course_sessions": len(links),
            "messages": len(messages),
            "clients": CLIENTS,
        }
    return location, counts


def _outcome(roll: float) -> tuple[str, bool]:
    for share, status, late in OUTCOMES:
        if roll < share:
            return status, late
        roll -= share
    return Status.COMPLETED, False


def _role_runs(template: Any) -> list[tuple[str, timedelta, timedelta, str]]:
    from bench.dataset import role_runs

    found, _client, _total = role_runs(template)
    return [(r, timedelta(seconds=a), timedelta(seconds=b), n) for r, a, b, n in found]


def _manager() -> User:
    user = User.objects.create(
        username=f"{PREFIX}manager", password=make_password(None), role=Role.MANAGER
    )
    TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
    return user



def run(bench: Bench) -> dict[str, Any]:
    wanted = [name for name in FIGURES if bench.wanted(name)]
    if not wanted:
        return {}
    removed = cleanup()
    if removed:
        bench.log(f"  removed a reports clinic left by an interrupted run ({removed} rows)")
    try:
        location, counts = _build(bench)
        bench.log(
            f"  reports clinic: {counts['appointments']} sessions, {counts['allocations']} "
            f"allocations, {counts['courses']} courses, {counts['messages']} messages"
        )
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        return _measure(bench, location, counts, wanted)
    finally:
        cleanup()


def _measure(
    bench: Bench, location: Location, counts: dict[str, int], wanted: list[str]
) -> dict[str, Any]:
    period = reports.Period(first_day=FIRST_DAY, last_day=LAST_DAY, location_id=location.pk)
    size = {
        **counts,
        "days": (LAST_DAY - FIRST_DAY).days + 1,
        "first_day": FIRST_DAY.isoformat(),
        "specialists": SPECIALISTS,
        "rooms": ROOMS,
        "pens": PENS,
    }
    items = []
    for name in REPORTS:
        fn = getattr(reports, name)

        def call(fn: Any = fn) -> Any:
            return fn(period)

        items.append(
            Timed(
                f"report_{name}_ms",
                call,
                {
                    "queries": warm_queries(call),
                    **size,
                    "what": f"daisy.booking.reports.{name}() over a year at one location",
                },
            )
        )
    out = bench.time([i for i in items if i.name in wanted])
    if "report_utilisation_cold_ms" in wanted:
        out.update(
            bench.time(
                [
                    Timed(
                        "report_utilisation_cold_ms",
                        lambda: reports.utilisation(period),
                        {
                            "what": "utilisation with the clinic's set-up read afresh "
                            "(scheduling caches cleared before each call)",
                        },
                        setup=selectors.caches_clear,
                    )
                ],
                diagnostic=True,
            )
        )
    if "report_page_ms" in wanted:
        client = TestClient()
        manager = _manager()
        client.force_login(manager)
        session = client.session
        _verify(session, manager)
        session.save()
        path = (
            f"/desk/reports/?start={FIRST_DAY.isoformat()}&end={LAST_DAY.isoformat()}"
            f"&location={location.pk}&rebook_days=30"
        )

        def page() -> None:
            response = client.get(path)
            if response.status_code != 200:
                raise RuntimeError(
                    f"GET {path} answered {response.status_code}: report_page_ms is not valid"
                )

        page()
        out.update(
            bench.time(
                [
                    Timed(
                        "report_page_ms",
                        page,
                        {
                            "queries": warm_queries(page),
                            **size,
                            "what": "GET /desk/reports/ for the year at one location: every "
                            "report with its charts and tables, Django test client in-process",
                        },
                    )
                ]
            )
        )
    return out
