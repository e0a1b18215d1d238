"""The demo clinic: "Daisy Laser & Skin Care Clinic", seeded once and deterministically relative
to the day it is seeded, so every demo looks lived-in (4 weeks of history, 8 weeks ahead)."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import transaction

from daisy.accounts.models import STAFF_ROLES, Role, User
from daisy.accounts.services import staff_user_create
from daisy.accounts.twofactor import authenticator_set_secret, has_authenticator
from daisy.booking import services
from daisy.booking.presets import clinic_presets_install
from daisy.clients.accounts import client_login_grant
from daisy.clients.models import Client
from daisy.clients.services import client_keys
from daisy.clinic.demo_profiles import PROFILES
from daisy.clinic.models import (
    Closure,
    Device,
    DeviceKind,
    Location,
    Room,
    RoomKind,
    Skill,
    Specialist,
    WeeklyHours,
)
from daisy.lib.errors import DomainError
from daisy.records.consent_selectors import consent_status, consent_template_for
from daisy.records.consent_services import Signing, consent_sign
from daisy.records.selectors import question_keys_all, questionnaire_for
from daisy.records.services import rescreen_record
from daisy.scheduling import selectors
from daisy.scheduling.models import Appointment, Status
from daisy.treatments.models import Treatment

DEMO_PASSWORD = "daisy-demo"
STAFF_USERS = ("manager", "reception", "specialist1", "specialist2", "specialist3")
CLINIC_SLUG = "daisy-clinic"
# The demo staff's authenticator secrets (base32, as an authenticator app takes them), printed in
# the README beside the demo password so anyone trying the demo can sign in (issue 16). Demo
# data only: a real clinic's staff set up their own app at their first sign-in.
DEMO_TOTP_SECRETS = {
    "manager": "DAISYDEMOMANAGERTWOFACTORSECRET2",
    "reception": "DAISYDEMORECEPTIONTWOFACTORCODE2",
    "specialist1": "DAISYDEMOSPECIALISTONETWOFACTOR2",
    "specialist2": "DAISYDEMOSPECIALISTTWOTWOFACTOR2",
    "specialist3": "DAISYDEMOSPECIALISTTHREE2FACTOR2",
}

# England and Wales bank holidays (gov.uk) around the demo's window.
BANK_HOLIDAYS = {
    date(2026, 12, 25): "Christmas Day",
    date(2026, 12, 28): "Boxing Day (substitute day)",
    date(2027, 1, 1): "New Year's Day",
    date(2027, 3, 26): "Good Friday",
    date(2027, 3, 29): "Easter Monday",
    date(2027, 5, 3): "Early May bank holiday",
    date(2027, 5, 31): "Spring bank holiday",
    date(2027, 8, 30): "Summer bank holiday",
    date(2027, 12, 27): "Christmas Day (substitute day)",
    date(2027, 12, 28): "Boxing Day (substitute day)",
}

FIRST_NAMES = [
    "Amelia",
    "Olivia",
    "Isla",
    "Ava",
    "Mia",
    "Sophia",
    "Grace",
    "Lily",
    "Freya",
    "Emily",
    "Ivy",
    "Ella",
    "Rosie",
    "Evie",
    "Florence",
    "Poppy",
    "Charlotte",
    "Willow",
    "Aisha",
    "Priya",
    "Noah",
    "Oliver",
    "George",
    "Arthur",
    "Leo",
    "Harry",
    "Oscar",
    "Archie",
    "Henry",
    "Theo",
    "Zara",
    "Maya",
    "Chloe",
    "Hannah",
    "Sienna",
    "Layla",
    "Nadia",
    "Yasmin",
    "Ruby",
    "Eleanor",
]
LAST_NAMES = [
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Johnson",
    "Davies",
    "Patel",
    "Robinson",
    "Wright",
    "Thompson",
    "Evans",
    "Walker",
    "White",
    "Roberts",
    "Green",
    "Hall",
    "Wood",
    "Jackson",
    "Clarke",
    "Khan",
    "Lewis",
    "Hughes",
    "Edwards",
    "Hill",
    "Moore",
    "Clark",
    "Harrison",
    "Scott",
    "Young",
    "Morris",
    "Hussain",
    "Ward",
    "Turner",
    "Carter",
    "Phillips",
    "Mitchell",
    "Cooper",
    "Chowdhury",
]


@dataclass(frozen=True)
class DemoSummary:
    created: bool
    clients: int
    appointments: int


def _demo_id(name: str) -> uuid.UUID:
    # The core's tie-break orders equally loaded resources by id, so fixed ids make the same
    # day always seed the same diary.
    return uuid.uuid5(uuid.NAMESPACE_URL, f"https://daisy.example/demo/{name}")


def demo_exists() -> bool:
    return Location.objects.filter(slug=CLINIC_SLUG).exists()


# The first demo client signs in to the portal (password DEMO_PASSWORD) with this address.
DEMO_CLIENT_EMAIL = f"{FIRST_NAMES[0].lower()}.{LAST_NAMES[0].lower()}@example.com"


def demo_seed(*, now: datetime, seed: int = 2026) -> DemoSummary:
    """Seed the demo clinic unless it exists. `now` anchors the 12 weeks of appointments."""
    if demo_exists():
        demo_authenticators_ensure()
        return DemoSummary(False, Client.objects.count(), 0)
    rng = random.Random(seed)
    with transaction.atomic():
        clinic_presets_install()
        location = _clinic()
        specialists = _staff(location)
        demo_authenticators_ensure()
        _rooms_and_devices(location)
        clients = _clients(rng)
        # One sample client can sign in to the portal, to show the client's side.
        client_login_grant(
            client=clients[0], password=DEMO_PASSWORD, now=now, is_email_confirmed=True
        )
    booked = _appointments(
        rng, now=now, location=location, clients=clients, specialists=specialists, seed=seed
    )
    return DemoSummary(True, len(clients), booked)


def demo_authenticators_ensure() -> None:
    """The demo staff's fixed authenticator secrets, for any that has none (a demo seeded before
    two-factor sign-in gets them at the next `daisy seed_demo`)."""
    for user in User.objects.filter(username__in=DEMO_TOTP_SECRETS, role__in=STAFF_ROLES):
        if not has_authenticator(user):
            authenticator_set_secret(user=user, secret_base32=DEMO_TOTP_SECRETS[user.username])


def _clinic() -> Location:
    location = Location.objects.create(
        name="Daisy Laser & Skin Care Clinic",
        slug=CLINIC_SLUG,
        address_line1="12 Primrose Street",
        city="London",
        postcode="N1 7GU",
        country="GB",
        phone="+44 20 7946 0321",
        email="hello@daisy.example",
        time_zone="Europe/London",
        out_of_hours_name="NHS 111",
        out_of_hours_phone="111",
        emergency_number="999",
    )
    for weekday in range(5):
        WeeklyHours.objects.create(
            location=location, weekday=weekday, opens_at=time(9), closes_at=time(19)
        )
    WeeklyHours.objects.create(location=location, weekday=5, opens_at=time(9), closes_at=time(17))
    for day, name in BANK_HOLIDAYS.items():
        Closure.objects.create(location=None, on=day, name=name)
    return location


def _staff(location: Location) -> list[Specialist]:
    staff_user_create(
        username="manager",
        role=Role.MANAGER,
        password=DEMO_PASSWORD,
        first_name="Dana",
        last_name="Whitfield",
        email="manager@daisy.example",
    )
    staff_user_create(
        username="reception",
        role=Role.RECEPTION,
        password=DEMO_PASSWORD,
        first_name="Ben",
        last_name="Okafor",
        email="reception@daisy.example",
    )
    skills = {s.slug: s for s in Skill.objects.all()}
    people = [
        ("Sofia", "Marin", list(skills)),
        ("Hannah", "Cole", ["consultation", "microneedling", "chemical-peel", "led-therapy"]),
        ("Ravi", "Mehta", ["consultation", "microneedling", "laser-hair-removal", "led-therapy"]),
    ]
    # Each specialist works a different week, so availability differs by person.
    hours = [
        {0: (9, 17), 1: (9, 17), 2: (9, 17), 3: (11, 19), 4: (9, 17)},
        {1: (10, 19), 2: (10, 19), 3: (9, 17), 4: (10, 19), 5: (9, 17)},
        {0: (11, 19), 2: (9, 17), 3: (9, 17), 4: (9, 15), 5: (9, 17)},
    ]
    out = []
    for n, (first, last, skill_slugs) in enumerate(people, start=1):
        user = staff_user_create(
            username=f"specialist{n}",
            role=Role.SPECIALIST,
            password=DEMO_PASSWORD,
            first_name=first,
            last_name=last,
            email=f"specialist{n}@daisy.example",
        )
        specialist = Specialist.objects.create(
            id=_demo_id(f"specialist{n}"),
            user=user,
            name=f"{first} {last}",
            **PROFILES[f"specialist{n}"],
        )
        specialist.skills.set([skills[s] for s in skill_slugs])
        specialist.locations.add(location)
        for weekday, (start, end) in hours[n - 1].items():
            WeeklyHours.objects.create(
                location=location,
                resource=specialist,
                weekday=weekday,
                opens_at=time(start),
                closes_at=time(end),
            )
        out.append(specialist)
    return out


def _rooms_and_devices(location: Location) -> None:
    for name, kind in (
        ("Treatment room 1", RoomKind.TREATMENT),
        ("Treatment room 2", RoomKind.TREATMENT),
        ("Laser suite", RoomKind.LASER),
    ):
        Room.objects.create(id=_demo_id(name), location=location, name=name, room_kind=kind)
    for n in (1, 2):
        Device.objects.create(
            id=_demo_id(f"pen{n}"),
            location=location,
            name=f"Needling pen {n}",
            device_kind=DeviceKind.MICRONEEDLING_PEN,
            model_name="Motorised micro-needling pen",
            serial=f"MNP-2026-{n:04d}",
        )
    Device.objects.create(
        id=_demo_id("laser"),
        location=location,
        name="Diode laser",
        device_kind=DeviceKind.HAIR_REMOVAL_LASER,
        model_name="810 nm diode laser",
        serial="DL-2025-0007",
    )
    Device.objects.create(
        id=_demo_id("led"),
        location=location,
        name="LED panel",
        device_kind=DeviceKind.LED_PANEL,
        model_name="Red/near-infrared LED panel",
        serial="LED-2024-0112",
    )


def _clients(rng: random.Random) -> list[Client]:
    clients = []
    for i in range(40):
        first, last = FIRST_NAMES[i], LAST_NAMES[i]
        dob = date(1965, 1, 1) + timedelta(days=rng.randrange(0, 365 * 38))
        email, phone = f"{first.lower()}.{last.lower()}@example.com", f"+4477009{i:05d}"
        clients.append(
            Client(
                first_name=first,
                last_name=last,
                email=email,
                phone=phone,
                date_of_birth=dob,
                **client_keys(email=email, phone=phone),
            )
        )
    Client.objects.bulk_create(clients)
    return clients


def _appointments(
    rng: random.Random,
    *,
    now: datetime,
    location: Location,
    clients: list[Client],
    specialists: list[Specialist],
    seed: int,
) -> int:
    reception = User.objects.get(username="reception")
    weights = {
        "microneedling": 6,
        "consultation": 3,
        "chemical-peel": 2,
        "laser-hair-removal": 2,
        "led-therapy": 1,
    }
    treatments = {t.slug: t for t in Treatment.objects.prefetch_related("phases")}
    slugs = [s for s in weights if s in treatments]
    today = now.astimezone(location.tz).date()
    booked = 0
    made: list[Appointment] = []
    for offset in range(-28, 57):
        day = today + timedelta(days=offset)
        day_start = datetime.combine(day, time(0), tzinfo=location.tz)
        for _ in range(rng.choice((3, 4, 5))):
            slug = rng.choices(slugs, weights=[weights[s] for s in slugs])[0]
            treatment = treatments[slug]
            # Book as if on the day before, so history is made through the same rules and the
            # same day of the year always gives the same diary, whatever the time of seeding;
            # later days are booked now, so no audit entry or message is dated in the future.
            book_now = min(day_start - timedelta(days=1), now)
            found = selectors.availability_list(
                treatment=treatment,
                location=location,
                window_start=day_start,
                window_end=day_start + timedelta(days=1),
                now=book_now,
                for_staff=True,
            )
            if not found:
                continue
            pick = rng.choice(found)
            client = rng.choice(clients)
            try:
                result = services.appointment_book(
                    client=client,
                    treatment=treatment,
                    starts_at=pick.slot.start,
                    booked_by=reception,
                    now=book_now,
                    location=location,
                )
            except DomainError:
                continue
            booked += 1
            made.append(result.appointment)
    # The desk's demo day gets its states of its own (_desk_day), not the history's below.
    booked += len(
        _desk_day(rng, now=now, location=location, clients=clients, treatments=treatments)
    )
    # Outcomes come after the whole diary is booked, so the time of day the demo is seeded
    # changes which appointments are history, never which were booked. Each appointment's
    # roll comes from its own seed, for the same reason.
    for appt in made:
        if appt.ends_at >= now:
            continue
        after = min(appt.ends_at + timedelta(minutes=5), now)
        roll = random.Random(f"{seed}:{appt.starts_at.isoformat()}:{appt.client_id}").random()
        if roll < 0.08:
            services.appointment_cancel(
                appointment=appt,
                by=reception,
                now=appt.starts_at - timedelta(days=2),
                reason="Client asked to cancel",
            )
        elif roll < 0.13:
            services.appointment_set_status(
                appointment=appt, status=Status.NO_SHOW, by=reception, now=after
            )
        else:
            _rescreened(appt, after)
            services.appointment_set_status(
                appointment=appt, status=Status.COMPLETED, by=reception, now=after
            )
    return booked


def _rescreened(appt: Appointment, now: datetime) -> None:
    """The demo client signed the consent and answered the health questions from their
    reminder, nothing changed (issue 14: needling does not start without either)."""
    _consented(appt, min(now, appt.starts_at) - timedelta(hours=2))
    if not appt.treatment.requires_screening or questionnaire_for(appt.treatment) is None:
        return
    answers: dict[str, object] = dict.fromkeys(question_keys_all(), False)
    rescreen_record(
        appointment=appt,
        answers=answers,
        by=None,
        via="reminder",
        now=min(now, appt.starts_at) - timedelta(hours=2),
    )


def _consented(appt: Appointment, now: datetime) -> None:
    """The demo client signed the treatment consent in their account beforehand, unless a
    current one stands (issue 14: needling does not start without it)."""
    template = consent_template_for(kind="treatment", treatment=appt.treatment)
    if template is None or consent_status(appt).is_signed:
        return
    consent_sign(
        client=appt.client,
        signing=[Signing(template, template.version)],
        method="typed",
        signed_name=appt.client.full_name,
        via="portal",
        appointment=appt,
        now=now,
    )


def desk_demo_day(location: Location, now: datetime) -> date:
    """The working day the front desk's demo is full on: today, or the next day it is open."""
    today = now.astimezone(location.tz).date()
    open_days = set(WeeklyHours.objects.filter(location=location).values_list("weekday", flat=True))
    for k in range(8):
        day = today + timedelta(days=k)
        if day.weekday() in open_days and not Closure.objects.filter(on=day).exists():
            return day
    return today


def _desk_day(
    rng: random.Random,
    *,
    now: datetime,
    location: Location,
    clients: list[Client],
    treatments: dict[str, Treatment],
) -> list[Appointment]:
    """Fill the desk's demo day (issue 13): as many bookings as fit, then, if it is today,
    every state the desk shows: completed and a no-show before now, one in treatment and one
    arrived around now, one cancelled by the clinic, the rest booked."""
    reception = User.objects.get(username="reception")
    day = desk_demo_day(location, now)
    day_start = datetime.combine(day, time(0), tzinfo=location.tz)
    book_now = min(day_start - timedelta(days=1), now)
    made: list[Appointment] = []
    for slug in ("microneedling", "consultation", "chemical-peel", "led-therapy") * 6:
        treatment = treatments.get(slug)
        if treatment is None:
            continue
        found = selectors.availability_list(
            treatment=treatment,
            location=location,
            window_start=day_start,
            window_end=day_start + timedelta(days=1),
            now=book_now,
            for_staff=True,
        )
        if not found:
            continue
        pick = found[rng.randrange(len(found))]
        try:
            result = services.appointment_book(
                client=rng.choice(clients),
                treatment=treatment,
                starts_at=pick.slot.start,
                booked_by=reception,
                now=book_now,
                location=location,
            )
        except DomainError:
            continue
        made.append(result.appointment)
    if day != now.astimezone(location.tz).date():
        return made
    made.sort(key=lambda a: a.starts_at)
    states = {"cancelled": False, "arrived": False, "in_treatment": False, "no_show": False}
    for appt in made:
        try:
            if appt.ends_at < now:
                if not states["no_show"]:
                    status = Status.NO_SHOW
                    states["no_show"] = True
                else:
                    status = Status.COMPLETED
                    _rescreened(appt, now)
                services.appointment_set_status(
                    appointment=appt, status=status, by=reception, now=now
                )
            elif appt.starts_at <= now and not states["in_treatment"]:
                _rescreened(appt, now)
                services.appointment_set_status(
                    appointment=appt, status=Status.IN_TREATMENT, by=reception, now=now
                )
                states["in_treatment"] = True
            elif not states["arrived"]:
                services.appointment_set_status(
                    appointment=appt, status=Status.CHECKED_IN, by=reception, now=now
                )
                states["arrived"] = True
            elif not states["cancelled"]:
                services.appointment_cancel(
                    appointment=appt,
                    by=reception,
                    now=now,
                    reason="Specialist unwell",
                    by_clinic=True,
                    notify_client=False,
                )
                states["cancelled"] = True
        except DomainError:
            continue
    return made
