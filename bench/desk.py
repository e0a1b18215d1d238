"""The front desk's diary (issue 13, "make bench"): a location with 20 specialists and 150
appointments a day, its day view and its week view.

A desk clinic is made for the run and removed afterwards (so no other figure sees it): one
location open 08:00-21:00, 20 specialists, 20 rooms, 10 pens, and 150 micro-needling
appointments on each of the 7 days of the week of config.START, in every state the desk shows
(booked, arrived, in treatment, completed, no-show, and some cancelled). Rows are inserted in
bulk without allocations: the diary reads appointments, not allocations (the availability
figures measure those).

Figures:
  desk_day_ms           diary_day() for the Monday, a column per specialist: the service time
                        (target p95 < 60 ms), timed round-robin with
  desk_day_floor_ms     the one query every day view needs (the day's appointments, with
                        their clients and treatments), the floor;
  desk_day_page_ms      the whole page, GET /desk/<day>/?who=all in-process (Django's test
                        client): middleware, view, selectors and template;
  desk_week_ms          diary_week() for that week (1,050 appointments);
  http_desk_day         GET /desk/<day>/?who=all through gunicorn with 2 sync workers at
                        concurrency 2 (target p99 < 150 ms), and the diary's 4-second poll
                        (the unchanged version check, answered 204) alongside.
Each figure carries its query count, which does not grow with the number of appointments
(daisy/backoffice/tests/test_diary.py asserts that)."""

from __future__ import annotations

import http.client
import os
import uuid
from datetime import datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.test import Client as TestClient
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from bench import config
from bench.figures import Bench, Timed, warm_queries
from daisy.accounts.models import Role, User
from daisy.booking.diary import day_bounds, diary_day, diary_version, diary_week
from daisy.clients.models import Client
from daisy.clinic.models import (
    Device,
    DeviceKind,
    Location,
    Room,
    RoomKind,
    Specialist,
    WeeklyHours,
)
from daisy.scheduling.models import Appointment, Status
from daisy.scheduling.selectors import treatment_template

FIGURES = ("desk_day_ms", "desk_week_ms", "http_desk_day")
SLUG = "bench-desk"
PER_DAY = 150
SPECIALISTS = 20
ROOMS = 20
PENS = 10
DAY = config.START  # a Monday
USERNAME_PREFIX = "bench-desk-"
# A day's appointments per specialist: 7 or 8, 100 minutes apart from 08:00.
STATUSES = (
    Status.COMPLETED,
    Status.COMPLETED,
    Status.NO_SHOW,
    Status.IN_TREATMENT,
    Status.CHECKED_IN,
    Status.BOOKED,
    Status.BOOKED,
    Status.CANCELLED,
)


def cleanup() -> int:
    """Remove the desk clinic (and its users and sessions) if a run left it behind."""
    location = Location.objects.filter(slug=SLUG).first()
    removed = 0
    if location is not None:
        with transaction.atomic():
            removed, _ = Appointment.objects.filter(location=location).delete()
            specialists = list(Specialist.objects.filter(locations=location))
            user_ids = [s.user_id for s in specialists]
            for s in specialists:
                s.delete()
            User.objects.filter(pk__in=user_ids).delete()
            Room.objects.filter(location=location).delete()
            Device.objects.filter(location=location).delete()
            location.delete()
    User.objects.filter(username__startswith=USERNAME_PREFIX).delete()
    return removed


def _build(bench: Bench) -> Location:
    treatment = bench.treatment
    template = treatment_template(treatment)
    client_len = sum((p.duration for p in template.phases if not p.is_buffer), timedelta())
    total = sum((p.duration for p in template.phases), timedelta())
    tz = bench.tz
    with transaction.atomic():
        location = Location.objects.create(
            name="Bench desk clinic",
            slug=SLUG,
            address_line1="1 Bench Street",
            city="London",
            postcode="N1 1AA",
            time_zone=config.TIME_ZONE,
        )
        WeeklyHours.objects.bulk_create(
            WeeklyHours(location=location, weekday=d, opens_at=time(8), closes_at=time(21))
            for d in range(7)
        )
        password = make_password(None)
        specialists = []
        for n in range(SPECIALISTS):
            user = User.objects.create(
                username=f"{USERNAME_PREFIX}s{n:02d}", password=password, role=Role.SPECIALIST
            )
            s = Specialist.objects.create(user=user, name=f"Desk specialist {n + 1:02d}")
            s.locations.add(location)
            specialists.append(s)
        rooms = [
            Room.objects.create(
                location=location, name=f"Desk room {n + 1:02d}", room_kind=RoomKind.TREATMENT
            )
            for n in range(ROOMS)
        ]
        pens = [
            Device.objects.create(
                location=location,
                name=f"Desk pen {n + 1:02d}",
                device_kind=DeviceKind.MICRONEEDLING_PEN,
                serial=f"BENCH-DESK-{n:03d}",
            )
            for n in range(PENS)
        ]
        clients = list(Client.objects.order_by("pk")[:PER_DAY])
        rows = []
        for d in range(7):
            day = DAY + timedelta(days=d)
            made = 0
            for k in range(8):
                for i, s in enumerate(specialists):
                    if made == PER_DAY:
                        break
                    start = datetime.combine(day, time(8), tzinfo=tz) + timedelta(minutes=100 * k)
                    status = STATUSES[(i + k + d) % len(STATUSES)]
                    rows.append(
                        Appointment(
                            id=uuid.uuid4(),
                            client=clients[made % len(clients)],
                            treatment=treatment,
                            location=location,
                            specialist=s,
                            room=rooms[i],
                            device=pens[(i + k) % PENS],
                            starts_at=start,
                            ends_at=start + client_len,
                            busy_until=start + total,
                            status=status,
                            price=treatment.price,
                            notes="Prefers the window room" if (i + k) % 9 == 0 else "",
                            created_at=config.NOW,
                            updated_at=config.NOW,
                            cancelled_at=config.NOW if status == Status.CANCELLED else None,
                        )
                    )
                    made += 1
        Appointment.objects.bulk_create(rows, batch_size=500)
    return location



def run(bench: Bench) -> dict[str, Any]:
    wanted = [name for name in FIGURES if bench.wanted(name)]
    if not wanted:
        return {}
    removed = cleanup()
    if removed:
        bench.log(f"  removed a desk clinic left by an interrupted run ({removed} rows)")
    out: dict[str, Any] = {}
    try:
        location = _build(bench)
        if "desk_day_ms" in wanted or "desk_week_ms" in wanted:
            out.update(_in_process(bench, location, wanted))
        if "http_desk_day" in wanted and bench.db == "sqlite":
            out["http_desk_day"] = _http(bench, location)
    finally:
        cleanup()
    return out


def _staff() -> User:
    """The bench receptionist (removed with the desk clinic), with a confirmed authenticator
    app: staff pages answer only a session that has passed the second factor (issue 16)."""
    user = User.objects.filter(username=f"{USERNAME_PREFIX}reception").first()
    if user is None:
        user = User.objects.create(
            username=f"{USERNAME_PREFIX}reception",
            password=make_password(None),
            role=Role.RECEPTION,
            is_staff=True,
        )
    if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
    return user


def _verify(session: Any, user: User) -> None:
    """Mark `session` as having passed the second factor with the user's authenticator, the way
    django-otp's login() does after a right code (tests/support/testing.py::staff_login)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()
    if device is None:
        raise RuntimeError(f"{user.username} has no confirmed authenticator")
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id


def _in_process(bench: Bench, location: Location, wanted: list[str]) -> dict[str, Any]:
    tz = bench.tz
    start, end = day_bounds(DAY, tz)
    now = datetime.combine(DAY, time(12, 30), tzinfo=tz)

    def floor() -> None:
        list(
            Appointment.objects.filter(location=location, starts_at__gte=start, starts_at__lt=end)
            .select_related("client", "treatment")
            .order_by("starts_at", "pk")
        )

    def day() -> None:
        diary_day(location=location, on=DAY, now=now)

    def week() -> None:
        diary_week(location=location, on=DAY, now=now)

    client = TestClient()
    staff = _staff()
    client.force_login(staff)
    session = client.session
    _verify(session, staff)
    session.save()
    path = f"/desk/{DAY.isoformat()}/?location={location.pk}&who=all"

    def page() -> None:
        response = client.get(path, follow=False)
        if response.status_code != 200:
            raise RuntimeError(
                f"GET {path} answered {response.status_code} "
                f"{response.get('Location', '')}: desk_day_page_ms is not valid"
            )

    page()  # a staff session that is not accepted fails here, before any timing

    shown = diary_day(location=location, on=DAY, now=now)
    items = [
        Timed("desk_day_floor_ms", floor, {"queries": warm_queries(floor)}),
        Timed(
            "desk_day_ms",
            day,
            {
                "queries": warm_queries(day),
                "appointments": len(shown.appointments) + len(shown.cancelled),
                "columns": len(shown.columns),
                "what": "diary_day(): a location's day, 20 specialists, 150 appointments "
                "(phases, flags, grid placement), in-process",
            },
        ),
        Timed(
            "desk_day_page_ms",
            page,
            {"what": "GET /desk/<day>/?who=all, the whole page, Django test client in-process"},
        ),
    ]
    if "desk_week_ms" in wanted:
        items.append(
            Timed(
                "desk_week_ms",
                week,
                {
                    "queries": warm_queries(week),
                    "appointments": 7 * PER_DAY,
                    "what": "diary_week(): the same location's week, 1,050 appointments",
                },
            )
        )
    return bench.time(items)


def _http(bench: Bench, location: Location) -> dict[str, Any]:
    from bench.api_http import NO_CONTENT, OK, _load
    from daisy.api.tests.live import database_url, live_server

    user = _staff()
    from bench.site import _clock_at

    # The server's clock runs at config.NOW (bench/api_wsgi.py): the session must not have
    # expired by then.
    # The session is made as the in-process page's is (Django's force_login picks a backend
    # Daisy signs in with; a session naming another is anonymous), then verified.
    with _clock_at(config.NOW):
        signed_in = TestClient()
        signed_in.force_login(user)
        store = signed_in.session
        _verify(store, user)
        store.save()
    cookie = {"Cookie": f"{settings.SESSION_COOKIE_NAME}={store.session_key}"}
    path = f"/desk/{DAY.isoformat()}/?location={location.pk}&who=all"
    version = diary_version(location=location, first_day=DAY, last_day=DAY)
    # The version holds a time with its offset ("+00:00"): encoded, or "+" arrives as a space
    # and the check answers the whole grid (200) instead of "unchanged" (204).
    query = urlencode({"location": str(location.pk), "who": "all", "since": version})
    poll = f"/desk/{DAY.isoformat()}/grid/?{query}"
    seconds = 8.0 if bench.runs >= 30 else 3.0
    env = {"DAISY_BENCH_NOW": config.NOW.isoformat(), "LOG_LEVEL": "WARNING"}
    try:
        with live_server(
            workers=2, app="bench.api_wsgi:application", db_url=database_url(), env=env
        ) as server:
            page = ("GET", path, None, cookie)
            check = ("GET", poll, None, cookie)
            # Any answer but the page (200) or the unchanged poll (204), such as a redirect to
            # sign in, raises: it would be the speed of something else.
            for request, expect in ((page, OK), (check, NO_CONTENT)):
                status, where = _probe(server, request)
                if status not in expect:
                    raise RuntimeError(
                        f"GET {request[1]} answered {status} {where} (expected "
                        f"{sorted(expect)}): http_desk_day is not valid\n{server.log(3000)}"
                    )
            _load(server, lambda k: page, concurrency=2, count=20, expect=OK)  # warm both
            day = _load(server, lambda k: page, concurrency=2, seconds=seconds, expect=OK)
            polled = _load(
                server, lambda k: check, concurrency=2, seconds=seconds / 2, expect=NO_CONTENT
            )
    finally:
        store.delete()
    for name, fig in (("page", day), ("poll", polled)):
        bench.log(
            f"  http_desk_day {name:<22} p50 {fig['p50_ms']:8.2f} ms   "
            f"p99 {fig['p99_ms']:8.2f} ms   {fig['req_per_s']:7.1f}/s   {fig['statuses']}"
        )
    return {
        **day,
        "levels": {"2": day},
        "poll": polled,
        "db": bench.db,
        "server": "gunicorn, 2 sync workers, no access log",
        "what": "GET /desk/<day>/?who=all (150 appointments, 20 specialists) at concurrency 2; "
        "`poll` is the diary's 4-second check when nothing changed (204)",
        "load_generator": f"Python threads in the bench worker, {os.cpu_count()} CPUs shared",
    }


def _probe(server: Any, request: tuple[str, str, bytes | None, dict[str, str]]) -> tuple[int, str]:
    """One request's status and where it redirects to, if it does."""
    url = urlsplit(server.url)
    method, path, body, headers = request
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status, response.getheader("Location") or ""
    finally:
        conn.close()
