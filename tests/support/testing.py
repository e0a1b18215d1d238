"""Test factories: plain functions that build rows with sensible defaults (DESIGN.md 8)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from django.db import connection

from daisy.accounts.models import Role, User
from daisy.accounts.services import staff_user_create
from daisy.booking.presets import clinic_presets_install
from daisy.clients.models import Client
from daisy.clients.services import client_keys
from daisy.clinic.models import (
    Device,
    DeviceKind,
    Location,
    Room,
    RoomKind,
    Skill,
    Specialist,
    WeeklyHours,
)
from daisy.records.defaults import QUESTIONS as SCREENING_QUESTIONS
from daisy.records.services import screening_table_install
from daisy.treatments.models import Treatment

_seq = itertools.count(1)

LONDON = ZoneInfo("Europe/London")
# A Monday well inside British winter time, so tests read in UTC and local alike.
MONDAY = date(2030, 1, 7)


def at(day: date, hh: int, mm: int = 0, tz: ZoneInfo = LONDON) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=tz)


def make_location(**overrides: Any) -> Location:
    n = next(_seq)
    values: dict[str, Any] = {
        "name": f"Clinic {n}",
        "slug": f"clinic-{n}",
        "address_line1": f"{n} High Street",
        "city": "London",
        "postcode": "N1 1AA",
        "time_zone": "Europe/London",
    }
    values.update(overrides)
    hours = values.pop("hours", {d: (9, 19) for d in range(6)})
    location = Location.objects.create(**values)
    for weekday, (opens, closes) in hours.items():
        WeeklyHours.objects.create(
            location=location, weekday=weekday, opens_at=time(opens), closes_at=time(closes)
        )
    return location


def make_user(*, role: str = Role.CLIENT, **overrides: Any) -> User:
    n = next(_seq)
    username = overrides.pop("username", f"user{n}")
    if role == Role.CLIENT:
        return User.objects.create_user(
            username=username, password="pw-test-123", role=role, **overrides
        )
    return staff_user_create(username=username, role=role, password="pw-test-123", **overrides)


def make_specialist(
    location: Location, *, skills: list[str] | None = None, **overrides: Any
) -> Specialist:
    n = next(_seq)
    user = overrides.pop("user", None) or make_user(role=Role.SPECIALIST)
    specialist = Specialist.objects.create(
        user=user, name=overrides.pop("name", f"Specialist {n}"), **overrides
    )
    wanted = skills if skills is not None else [s.slug for s in Skill.objects.all()]
    specialist.skills.set(Skill.objects.filter(slug__in=wanted))
    specialist.locations.add(location)
    return specialist


def make_room(location: Location, **overrides: Any) -> Room:
    n = next(_seq)
    values = {"name": f"Room {n}", "room_kind": RoomKind.TREATMENT}
    values.update(overrides)
    return Room.objects.create(location=location, **values)


def make_device(location: Location, **overrides: Any) -> Device:
    n = next(_seq)
    values = {
        "name": f"Pen {n}",
        "device_kind": DeviceKind.MICRONEEDLING_PEN,
        "serial": f"SN-{n:06d}",
    }
    values.update(overrides)
    return Device.objects.create(location=location, **values)


_phones = itertools.count()


def make_client(**overrides: Any) -> Client:
    """A client record with its lookup keys, as client_create stores them. Each gets its own
    phone number (Ofcom's drama range, +44 7700 900500-900699, which tests typing a number of
    their own avoid), so two factory clients are never one person by phone."""
    n = next(_seq)
    values: dict[str, Any] = {
        "first_name": "Client",
        "last_name": f"Number{n}",
        "email": f"client{n}@example.com",
        "phone": f"+447700900{500 + next(_phones) % 200}",
        "date_of_birth": date(1990, 5, 17),
    }
    values.update(overrides)
    keys = client_keys(email=values.get("email", ""), phone=values.get("phone", ""))
    return Client.objects.create(**{**keys, **values})


@dataclass
class Clinic:
    location: Location
    specialists: list[Specialist]
    rooms: list[Room]
    devices: list[Device]
    treatments: dict[str, Treatment]
    reception: User
    manager: User
    clients: list[Client] = field(default_factory=list)

    @property
    def microneedling(self) -> Treatment:
        return self.treatments["microneedling"]


def make_clinic(
    *, specialists: int = 2, rooms: int = 2, pens: int = 1, clients: int = 2, **loc: Any
) -> Clinic:
    """A small micro-needling clinic: the presets, one location open Mon-Sat 09-19."""
    clinic_presets_install()
    screening_table_install()
    location = make_location(**loc)
    return Clinic(
        location=location,
        specialists=[make_specialist(location) for _ in range(specialists)],
        rooms=[make_room(location) for _ in range(rooms)],
        devices=[make_device(location) for _ in range(pens)],
        treatments={t.slug: t for t in Treatment.objects.prefetch_related("phases")},
        reception=make_user(role=Role.RECEPTION),
        manager=make_user(role=Role.MANAGER),
        clients=[make_client() for _ in range(clients)],
    )


def staff_login(http: Any, user: User) -> Any:
    """Sign a test client in as a staff member whose session has passed the second factor, as
    the staff pages (/desk/, /admin/) require (issue 16): `force_login`, plus a confirmed
    authenticator for the user (made if they have none) recorded on the session the way
    django-otp's login() does. Returns the test client."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    http.force_login(user)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
    session = http.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return http


def authenticator_code(user: User) -> str:
    """The code a staff member's authenticator app shows now (a confirmed one is made for them
    if they have none). Each code is accepted once: call again in the next 30-second step."""
    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def booking_now(day: date = MONDAY) -> datetime:
    """A 'now' a week before the test day, outside every minimum-notice window."""
    return at(day - timedelta(days=7), 8)


def current_database_url() -> str:
    """DATABASE_URL of the database this test process uses, for the real server and worker
    processes a test starts against it."""
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        name = str(s["NAME"])
        if name == ":memory:" or name.startswith("file:"):
            raise RuntimeError("another process cannot share an in-memory SQLite database")
        return f"sqlite:///{Path(name).resolve()}"
    if connection.vendor == "postgresql":
        user = quote(str(s.get("USER") or ""), safe="")
        password = quote(str(s.get("PASSWORD") or ""), safe="")
        auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
        host = s.get("HOST") or "127.0.0.1"
        port = f":{s['PORT']}" if s.get("PORT") else ""
        return f"postgres://{auth}{host}{port}/{quote(str(s['NAME']), safe='')}"
    raise RuntimeError(f"no database URL for {connection.vendor}")


# An online client who answered "no" to every pre-screen question (of every treatment's
# questionnaire: each treatment reads the answers to its own).
PRESCREEN_CLEAR: dict[str, bool] = {q["key"]: False for q in SCREENING_QUESTIONS if q["is_online"]}
# The same, as the booking pages' health questions are posted.
FORM_NO_TO_ALL: dict[str, str] = dict.fromkeys(PRESCREEN_CLEAR, "no")
# The online questions before micro-needling (in the shipped screening table).
# A tuple: tests share it, and one once added to it in place at import, which made another
# test count one question too many in a full run (and pass alone).
MICRONEEDLING_ONLINE: tuple[str, ...] = tuple(
    q["key"]
    for q in SCREENING_QUESTIONS
    if q["is_online"] and "microneedling" in q["questionnaires"]
)


# A client who answers "no" to every question asked again before a session (the re-screen:
# more than the pre-screen, every question that can change between sessions), of every
# treatment's questionnaire.
RESCREEN_CLEAR: dict[str, bool] = {q["key"]: False for q in SCREENING_QUESTIONS if q["is_rescreen"]}
# The re-screen's questions before micro-needling (in the shipped screening table).
MICRONEEDLING_RESCREEN: tuple[str, ...] = tuple(
    q["key"]
    for q in SCREENING_QUESTIONS
    if q["is_rescreen"] and "microneedling" in q["questionnaires"]
)


def precare_keys(treatment: Treatment) -> list[str]:
    """The keys of every pre-care step of `treatment`: what a client who already follows the
    whole preparation confirms when their time is too soon for it (issue 12)."""
    from daisy.aftercare.models import ProtocolStep

    rows = ProtocolStep.objects.filter(protocol__treatment=treatment, kind="pre")
    return [str(pk) for pk in rows.values_list("pk", flat=True)]


def rescreen_clear(appointment: Any, *, by: Any = None, now: datetime | None = None) -> Any:
    """The client's re-screen for `appointment`, answered "no" to every question (issue 14:
    needling does not start without one), as if from the reminder's link (or the desk's
    tablet, when `by` is a staff member). `now` defaults to an hour before the session."""
    from daisy.records.services import rescreen_record

    return rescreen_record(
        appointment=appointment,
        answers=RESCREEN_CLEAR,
        by=by,
        via="desk" if by is not None else "reminder",
        now=now or appointment.starts_at - timedelta(hours=1),
    )


def consent_signed(appointment: Any, *, by: Any = None, now: datetime | None = None) -> Any:
    """The client's treatment consent for `appointment`, signed with a typed name (issue 14:
    needling does not start without a current one): in the portal, or on the desk's tablet
    when `by` (a clinician) takes it. `now` defaults to an hour before the session. None when
    the clinic asks no consent for the treatment."""
    from daisy.records.consent_selectors import consent_template_for
    from daisy.records.consent_services import Signing, consent_sign

    template = consent_template_for(kind="treatment", treatment=appointment.treatment)
    if template is None:
        return None
    (consent,) = consent_sign(
        client=appointment.client,
        signing=[Signing(template, template.version)],
        method="typed",
        signed_name=appointment.client.full_name or "Client",
        via="desk" if by is not None else "portal",
        taken_by=by,
        appointment=appointment,
        now=now or appointment.starts_at - timedelta(hours=1),
    )
    return consent
