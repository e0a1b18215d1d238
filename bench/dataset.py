"""The bench data set, built deterministically and inserted in bulk.

One London clinic (open 08:00-21:00 every day, bank holidays closed), 20 specialists with the
micro-needling skill and varied weekly hours (8 of them with a week off), 10 treatment rooms,
6 micro-needling pens, the treatment presets, 600 clients and micro-needling appointments over
the 90 days from config.START (4 allocations each: room, specialist twice, pen) filling
config.BOOKED_SHARE (65%) of the rooms' open hours: about 5,400.

Appointments are placed by a greedy allocator that walks each day's 15-minute local grid and, at
each step, starts an appointment in every room that is free then if a pen and a specialist are
working and free for exactly the phases that need them (then random 0-30 minute gaps), which
books about 72% of the rooms' time, and finally keeps a seeded random part of what it placed,
enough for config.BOOKED_SHARE. The rows do not overlap by
construction; the database's own no-overlap guard (SQLite trigger / PostgreSQL exclusion
constraint) checks that again on insert, and an overlap query checks it once more before the
transaction commits. The whole build is one transaction whose last effect is the marker
location: the data set is there completely or not at all.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from time import perf_counter
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction

from bench import config
from daisy.accounts.models import Role, User
from daisy.booking.presets import clinic_presets_install
from daisy.clients.models import Client
from daisy.clinic.models import (
    Closure,
    Device,
    DeviceKind,
    Location,
    Room,
    RoomKind,
    Skill,
    Specialist,
    TimeOff,
    WeeklyHours,
)
from daisy.scheduling import selectors
from daisy.scheduling.models import Allocation, Appointment, Status
from daisy.treatments.selectors import treatment_get

TZ = ZoneInfo(config.TIME_ZONE)
# weekday -> (opens, closes), local hours. A busy city clinic open every day: 6,000 appointments
# of 80 minutes in 90 days need ~9 hours of one room's time per room and day.
LOCATION_HOURS = {weekday: (8, 21) for weekday in range(7)}
# England and Wales bank holidays inside the window (gov.uk): the clinic is closed.
BANK_HOLIDAYS = {
    date(2031, 4, 11): "Good Friday",
    date(2031, 4, 14): "Easter Monday",
    date(2031, 5, 5): "Early May bank holiday",
    date(2031, 5, 26): "Spring bank holiday",
}
SHIFTS = ((8, 16), (9, 17), (10, 18), (12, 20), (13, 21), (8, 18), (11, 21), (9, 19), (8, 21))
DAYS_WORKED = (5, 6)
TIME_OFF_SPECIALISTS = 8
TIME_OFF_DAYS = 5
# Minutes between one appointment's clean-down and the next in the same room, and the offset of
# each room's first appointment after opening.
GAPS = (0, 0, 0, 0, 0, 15, 15, 30)
STAGGER = (0, 15, 30)
STEP = 15 * 60


def _local(day: date, hour: int) -> int:
    return int(datetime.combine(day, time(hour), tzinfo=TZ).timestamp())


def _free(busy: list[tuple[int, int]], spans: list[tuple[int, int]]) -> bool:
    return all(e <= bs or s >= be for s, e in spans for bs, be in busy)


def role_runs(template: Any) -> tuple[list[tuple[str, int, int, str]], int, int]:
    """(role, start offset s, end offset s, phase names) per contiguous run of phases of one
    role, as services._allocations_for stores them; and the client and total durations."""
    runs: list[list[Any]] = []
    open_runs: dict[str, list[Any]] = {}
    offset = 0
    client = 0
    for phase in template.phases:
        seconds = int(phase.duration.total_seconds())
        for role in sorted(phase.roles):
            run = open_runs.get(role)
            if run is not None and run[2] == offset:
                run[2] = offset + seconds
                run[3].append(phase.name)
                continue
            run = [role, offset, offset + seconds, [phase.name]]
            open_runs[role] = run
            runs.append(run)
        offset += seconds
        if not phase.is_buffer:
            client = offset
    return [(r, a, b, ", ".join(names)) for r, a, b, names in runs], client, offset


class _Ids:
    """Deterministic UUIDs, so resource ids (and so the core's tie-break) repeat exactly."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def __call__(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)


def build(log: Callable[[str], None]) -> dict[str, Any]:
    rng = random.Random(config.SEED)
    new_id = _Ids(config.SEED + 1)
    started = perf_counter()
    with transaction.atomic():
        clinic_presets_install()
        treatment = treatment_get(slug="microneedling")
        skills = {s.slug: s for s in Skill.objects.all()}
        location = Location.objects.create(
            id=new_id(),
            name="Daisy bench clinic",
            slug="bench-building",
            address_line1="1 Benchmark Row",
            city="London",
            postcode="N1 1AA",
            time_zone=config.TIME_ZONE,
        )
        WeeklyHours.objects.bulk_create(
            WeeklyHours(location=location, weekday=wd, opens_at=time(o), closes_at=time(c))
            for wd, (o, c) in LOCATION_HOURS.items()
        )
        Closure.objects.bulk_create(
            Closure(location=location, on=day, name=name) for day, name in BANK_HOLIDAYS.items()
        )

        users = [
            User(
                id=new_id(),
                username=f"bench-specialist-{n:02d}",
                role=Role.SPECIALIST,
                is_staff=True,
                password=make_password(None),
            )
            for n in range(1, config.SPECIALISTS + 1)
        ]
        booker = User(
            id=new_id(), username="bench-client", role=Role.CLIENT, password=make_password(None)
        )
        User.objects.bulk_create([*users, booker])

        specialist_skills = [skills["microneedling"], skills["consultation"]]
        specialists: list[Specialist] = []
        hours: dict[uuid.UUID, dict[int, tuple[int, int]]] = {}
        for n, user in enumerate(users, start=1):
            sp = Specialist.objects.create(
                id=new_id(), user=user, name=f"Specialist {n:02d}", title="Skin specialist"
            )
            sp.skills.set(specialist_skills)
            sp.locations.add(location)
            specialists.append(sp)
            week: dict[int, tuple[int, int]] = {}
            for wd in sorted(rng.sample(range(7), rng.choice(DAYS_WORKED))):
                lo, hi = LOCATION_HOURS[wd]
                o, c = rng.choice(SHIFTS)
                week[wd] = (max(o, lo), min(c, hi))
            hours[sp.id] = week
        WeeklyHours.objects.bulk_create(
            WeeklyHours(
                location=location, resource_id=sp_id, weekday=wd, opens_at=time(o),
                closes_at=time(c),
            )
            for sp_id, week in hours.items()
            for wd, (o, c) in week.items()
        )
        off: dict[uuid.UUID, set[date]] = {}
        for sp in rng.sample(specialists, TIME_OFF_SPECIALISTS):
            first = config.START + timedelta(days=rng.randrange(0, config.DAYS - TIME_OFF_DAYS))
            off[sp.id] = {first + timedelta(days=k) for k in range(TIME_OFF_DAYS)}
            TimeOff.objects.create(
                resource=sp,
                starts_at=datetime.combine(first, time(0), tzinfo=TZ),
                ends_at=datetime.combine(first + timedelta(days=TIME_OFF_DAYS), time(0), tzinfo=TZ),
                reason="Holiday",
            )

        rooms = [
            Room.objects.create(
                id=new_id(), location=location, name=f"Treatment room {n:02d}",
                room_kind=RoomKind.TREATMENT,
            )
            for n in range(1, config.ROOMS + 1)
        ]
        pens = [
            Device.objects.create(
                id=new_id(), location=location, name=f"Needling pen {n}",
                device_kind=DeviceKind.MICRONEEDLING_PEN, serial=f"BENCH-PEN-{n:02d}",
            )
            for n in range(1, config.PENS + 1)
        ]
        clients = [
            Client(
                id=new_id(), first_name="Bench", last_name=f"Client {n:04d}",
                email=f"bench.client{n}@example.com", phone="+447700900123",
                date_of_birth=date(1970, 1, 1) + timedelta(days=rng.randrange(0, 365 * 40)),
            )
            for n in range(1, config.CLIENTS + 1)
        ]
        Client.objects.bulk_create(clients)
        log(f"  resources and clients: {perf_counter() - started:.1f}s")

        template = selectors.treatment_template(treatment)
        runs, client_seconds, total_seconds = role_runs(template)
        roles = {r for r, *_ in runs}
        if not roles <= {selectors.ROLE_ROOM, selectors.ROLE_SPECIALIST, selectors.ROLE_DEVICE}:
            raise RuntimeError(f"unexpected roles in the micro-needling template: {roles}")
        placed = _place(rng, runs, total_seconds, hours, off, rooms, pens, specialists)
        wanted = round(config.BOOKED_SHARE * room_open_seconds() / total_seconds)
        if len(placed) < wanted:
            raise RuntimeError(
                f"the allocator placed only {len(placed)} appointments; "
                f"{wanted} wanted: widen the hours or shrink the gaps"
            )
        keep = sorted(rng.sample(range(len(placed)), wanted))
        log(f"  placed {len(placed)} appointments, keeping {len(keep)}: "
            f"{perf_counter() - started:.1f}s")

        appointments: list[Appointment] = []
        allocations: list[Allocation] = []
        client_span = timedelta(seconds=client_seconds)
        total_span = timedelta(seconds=total_seconds)
        for k, index in enumerate(keep):
            start, room_id, sp_id, pen_id = placed[index]
            at = datetime.fromtimestamp(start, UTC)
            created = config.NOW - timedelta(days=1 + k % 50)
            appt = Appointment(
                id=new_id(), client=clients[k % len(clients)], treatment=treatment,
                location=location, specialist_id=sp_id, room_id=room_id, device_id=pen_id,
                starts_at=at, ends_at=at + client_span, busy_until=at + total_span,
                status=Status.BOOKED, price=treatment.price, created_at=created,
                updated_at=created,
            )
            appointments.append(appt)
            ids = {
                selectors.ROLE_ROOM: room_id,
                selectors.ROLE_SPECIALIST: sp_id,
                selectors.ROLE_DEVICE: pen_id,
            }
            for role, a, b, names in runs:
                allocations.append(
                    Allocation(
                        appointment=appt, resource_id=ids[role], role=role, phases=names,
                        starts_at=at + timedelta(seconds=a), ends_at=at + timedelta(seconds=b),
                    )
                )
        Appointment.objects.bulk_create(appointments, batch_size=500)
        # Latest first: SQLite's overlap trigger then scans only the few rows of the resource
        # that start before the new row ends, instead of all earlier ones.
        allocations.sort(key=lambda row: row.starts_at, reverse=True)
        Allocation.objects.bulk_create(allocations, batch_size=500)
        log(f"  inserted {len(appointments)} appointments and {len(allocations)} allocations: "
            f"{perf_counter() - started:.1f}s")

        overlaps = count_overlaps()
        if overlaps:
            raise RuntimeError(f"the data set has {overlaps} overlapping allocations")
        # Last: the marker says the data set is complete.
        Location.objects.filter(pk=location.pk).update(slug=config.dataset_marker())
    log(f"  data set committed: {perf_counter() - started:.1f}s")
    return {"placed": len(placed), "build_s": round(perf_counter() - started, 2)}


def _place(
    rng: random.Random,
    runs: list[tuple[str, int, int, str]],
    total: int,
    hours: dict[uuid.UUID, dict[int, tuple[int, int]]],
    off: dict[uuid.UUID, set[date]],
    rooms: list[Room],
    pens: list[Device],
    specialists: list[Specialist],
) -> list[tuple[int, uuid.UUID, uuid.UUID, uuid.UUID]]:
    """Greedy, deterministic placement: (start epoch s, room, specialist, pen) per appointment."""
    spec_runs = [(a, b) for r, a, b, _ in runs if r == selectors.ROLE_SPECIALIST]
    pen_runs = [(a, b) for r, a, b, _ in runs if r == selectors.ROLE_DEVICE]
    placed = []
    for k in range(config.DAYS):
        day = config.START + timedelta(days=k)
        if day in BANK_HOLIDAYS:
            continue
        wd = day.weekday()
        opens, closes = _local(day, LOCATION_HOURS[wd][0]), _local(day, LOCATION_HOURS[wd][1])
        shift = {
            sp.id: (_local(day, hours[sp.id][wd][0]), _local(day, hours[sp.id][wd][1]))
            for sp in specialists
            if wd in hours[sp.id] and day not in off.get(sp.id, ())
        }
        busy: dict[uuid.UUID, list[tuple[int, int]]] = {rid: [] for rid in shift}
        busy.update({pen.id: [] for pen in pens})
        # Chronological across rooms, so pens and specialists are handed out in time order
        # and their free time does not fragment.
        order = list(rooms)
        rng.shuffle(order)
        ready = {room.id: opens + rng.choice(STAGGER) * 60 for room in order}
        for cursor in range(opens, closes - total + 1, STEP):
            for room in order:
                if ready[room.id] > cursor:
                    continue
                need_sp = [(cursor + a, cursor + b) for a, b in spec_runs]
                need_pen = [(cursor + a, cursor + b) for a, b in pen_runs]
                pen_ok = [p.id for p in pens if _free(busy[p.id], need_pen)]
                sp_ok = [
                    sp_id
                    for sp_id, (o, c) in shift.items()
                    if o <= need_sp[0][0] and need_sp[-1][1] <= c and _free(busy[sp_id], need_sp)
                ]
                if not (pen_ok and sp_ok):
                    continue
                pen_id, sp_id = rng.choice(pen_ok), rng.choice(sp_ok)
                busy[pen_id].extend(need_pen)
                busy[sp_id].extend(need_sp)
                placed.append((cursor, room.id, sp_id, pen_id))
                ready[room.id] = cursor + total + rng.choice(GAPS) * 60
    return placed


def room_open_seconds() -> int:
    """The rooms' open time over the window: every room, every day the clinic opens."""
    total = 0
    for k in range(config.DAYS):
        day = config.START + timedelta(days=k)
        if day in BANK_HOLIDAYS:
            continue
        opens, closes = LOCATION_HOURS[day.weekday()]
        total += _local(day, closes) - _local(day, opens)
    return total * config.ROOMS


def booked_shares(location: Location) -> dict[str, float]:
    """Per role, the share of its open time that the data set's allocations take: rooms and
    pens against the clinic's open hours, specialists against their own working hours."""
    allocs = Allocation.objects.filter(
        is_active=True, appointment__location=location
    ).exclude(appointment__notes=config.BENCH_NOTE)
    used: dict[str, float] = {}
    for role, starts, ends in allocs.values_list("role", "starts_at", "ends_at"):
        used[role] = used.get(role, 0.0) + (ends - starts).total_seconds()
    rooms = room_open_seconds()
    pens = rooms // config.ROOMS * config.PENS
    working = 0.0
    off = [(t.resource_id, t.starts_at, t.ends_at) for t in TimeOff.objects.all()]
    for row in WeeklyHours.objects.filter(location=location, resource__isnull=False):
        for k in range(config.DAYS):
            day = config.START + timedelta(days=k)
            if day.weekday() != row.weekday or day in BANK_HOLIDAYS:
                continue
            begins = datetime.combine(day, row.opens_at, tzinfo=TZ)
            if any(r == row.resource_id and a <= begins < b for r, a, b in off):
                continue
            ends = datetime.combine(day, row.closes_at, tzinfo=TZ)
            working += (ends - begins).total_seconds()
    capacity = {
        selectors.ROLE_ROOM: rooms,
        selectors.ROLE_DEVICE: pens,
        selectors.ROLE_SPECIALIST: working,
    }
    return {
        role: round(used.get(role, 0.0) / seconds, 3)
        for role, seconds in capacity.items()
        if seconds
    }


def count_overlaps() -> int:
    """Active allocations that overlap the previous one of the same resource (should be 0)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT COUNT(*) FROM (
                SELECT starts_at, LAG(ends_at) OVER (
                    PARTITION BY resource_id ORDER BY starts_at
                ) AS prev_end
                FROM scheduling_allocation WHERE is_active
            ) AS t WHERE prev_end > starts_at
            """
        )
        return int(cursor.fetchone()[0])


def bench_location() -> Location | None:
    return Location.objects.filter(slug=config.dataset_marker()).first()


def summary(location: Location) -> dict[str, Any]:
    appts = Appointment.objects.filter(location=location).exclude(notes=config.BENCH_NOTE)
    return {
        "location_time_zone": location.time_zone,
        "window": f"{config.START.isoformat()} + {config.DAYS} days (DST change 2031-03-30)",
        "now": config.NOW.isoformat(),
        "specialists": Specialist.objects.filter(locations=location, is_active=True).count(),
        "rooms": Room.objects.filter(location=location).count(),
        "pens": Device.objects.filter(
            location=location, device_kind=DeviceKind.MICRONEEDLING_PEN
        ).count(),
        "appointments": appts.count(),
        "allocations": Allocation.objects.filter(appointment__in=appts, is_active=True).count(),
        "clients": Client.objects.count(),
        # Share of each role's open time booked (target for rooms: 60-70%).
        "booked_share": booked_shares(location),
        "closures": Closure.objects.filter(location=location).count(),
        "time_off": TimeOff.objects.count(),
        "seed": config.SEED,
        "marker": config.dataset_marker(),
    }


def newcomers(n: int) -> list[Client]:
    """`n` clients with no sessions ("Bench Newcomer 0001"...), made once and kept with the data
    set. A client's needling sessions are at least 28 days apart (DOMAIN.md 1.2) and the regular
    bench clients have sessions all over the 90 days, so the booking figures book newcomers."""
    have = Client.objects.filter(first_name="Bench", last_name__startswith="Newcomer ")
    count = have.count()
    if count < n:
        Client.objects.bulk_create(
            Client(
                id=uuid.uuid4(),
                first_name="Bench",
                last_name=f"Newcomer {k:04d}",
                email=f"bench.newcomer{k}@example.com",
                phone="+447700900123",
                date_of_birth=date(1980, 1, 1),
            )
            for k in range(count + 1, n + 1)
        )
    return list(have.order_by("last_name")[:n])
