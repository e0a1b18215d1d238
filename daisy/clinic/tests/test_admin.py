"""The Django admin as the interim back-office: every page a manager needs renders, lists cost a
constant number of queries, resource hours inlines work on the child admins, and appointments,
allocations, the audit trail and worker heartbeats cannot be written through it."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from django.contrib import admin
from django.db import connection
from django.db.models import Model
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from daisy.accounts.models import Role, User
from daisy.accounts.services import staff_user_create
from daisy.audit.models import AuditEntry
from daisy.clients.models import Client, Contraindication, Tier
from daisy.clinic.models import (
    Closure,
    DateOverride,
    Device,
    DeviceKind,
    Location,
    Resource,
    Room,
    RoomKind,
    Skill,
    Specialist,
    TimeOff,
    WeeklyHours,
)
from daisy.notifications.models import Message, MessageChannel, WorkerHeartbeat
from daisy.scheduling.models import Allocation, Appointment, Status
from daisy.treatments.models import Phase, Treatment
from tests.support.testing import staff_login

pytestmark = pytest.mark.django_db

ADMIN_APPS = {"clinic", "treatments", "clients", "scheduling", "audit", "notifications"}
# Written only by services (or nobody): the admin shows them and refuses every write.
READ_ONLY = {Appointment, Allocation, AuditEntry, WorkerHeartbeat, Message, Resource}
START = datetime(2030, 1, 7, 10, 0, tzinfo=UTC)

_seq = itertools.count(1)


# --- factories ---------------------------------------------------------------------------------


def make_user(**overrides: Any) -> User:
    n = next(_seq)
    values: dict[str, Any] = {"username": f"user{n}", "role": Role.CLIENT}
    values.update(overrides)
    return User.objects.create_user(password="pw-test-123", **values)


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
    return Location.objects.create(**values)


def make_skill(**overrides: Any) -> Skill:
    n = next(_seq)
    return Skill.objects.create(**{"slug": f"skill-{n}", "name": f"Skill {n}", **overrides})


def make_specialist(location: Location, **overrides: Any) -> Specialist:
    n = next(_seq)
    user = overrides.pop("user", None) or make_user(role=Role.SPECIALIST)
    specialist = Specialist.objects.create(user=user, name=f"Specialist {n}", **overrides)
    specialist.locations.add(location)
    return specialist


def make_room(location: Location, **overrides: Any) -> Room:
    n = next(_seq)
    values: dict[str, Any] = {"name": f"Room {n}", "room_kind": RoomKind.TREATMENT}
    values.update(overrides)
    return Room.objects.create(location=location, **values)


def make_device(location: Location, **overrides: Any) -> Device:
    n = next(_seq)
    values: dict[str, Any] = {
        "name": f"Pen {n}",
        "device_kind": DeviceKind.MICRONEEDLING_PEN,
        "serial": f"SN-{n:06d}",
    }
    values.update(overrides)
    return Device.objects.create(location=location, **values)


def make_treatment(**overrides: Any) -> Treatment:
    n = next(_seq)
    values: dict[str, Any] = {"slug": f"treatment-{n}", "name": f"Treatment {n}", "price": 100}
    values.update(overrides)
    treatment = Treatment.objects.create(**values)
    Phase.objects.create(
        treatment=treatment, order=1, name="Treat", duration_minutes=45, needs_specialist=True
    )
    Phase.objects.create(
        treatment=treatment,
        order=2,
        name="Clean-down",
        duration_minutes=15,
        room_kind=RoomKind.TREATMENT,
        is_buffer=True,
    )
    return treatment


def make_client(**overrides: Any) -> Client:
    n = next(_seq)
    values: dict[str, Any] = {
        "first_name": "Ada",
        "last_name": f"Client{n}",
        "email": f"client{n}@example.com",
        "phone": "+447700900123",
    }
    values.update(overrides)
    return Client.objects.create(**values)


def make_appointment(
    *, client: Client, treatment: Treatment, specialist: Specialist, location: Location
) -> Appointment:
    starts_at = START + timedelta(days=next(_seq))
    appointment = Appointment.objects.create(
        client=client,
        treatment=treatment,
        location=location,
        specialist=specialist,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=45),
        busy_until=starts_at + timedelta(minutes=60),
        price=treatment.price,
        created_at=START,
        updated_at=START,
    )
    Allocation.objects.create(
        appointment=appointment,
        resource=specialist,
        role="specialist",
        phases="Treat",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=45),
    )
    return appointment


def make_world() -> dict[type[Model], Model]:
    """One row of every model the admin shows, linked as in a real clinic."""
    location = make_location()
    skill = make_skill()
    specialist = make_specialist(location)
    specialist.skills.add(skill)
    room = make_room(location)
    device = make_device(location)
    treatment = make_treatment()
    client = make_client()
    appointment = make_appointment(
        client=client, treatment=treatment, specialist=specialist, location=location
    )
    return {
        Location: location,
        Skill: skill,
        Specialist: specialist,
        Room: room,
        Device: device,
        Resource: Resource.objects.get(pk=room.pk),
        WeeklyHours: WeeklyHours.objects.create(
            location=location, weekday=0, opens_at=time(9), closes_at=time(19)
        ),
        DateOverride: DateOverride.objects.create(
            location=location, resource=specialist, on=date(2030, 1, 8), is_closed=True
        ),
        TimeOff: TimeOff.objects.create(
            resource=specialist, starts_at=START, ends_at=START + timedelta(hours=4)
        ),
        Closure: Closure.objects.create(
            location=location, on=date(2030, 12, 25), name="Christmas Day"
        ),
        Treatment: treatment,
        Client: client,
        Contraindication: Contraindication.objects.create(
            client=client, condition="Active acne", tier=Tier.DEFER
        ),
        Appointment: appointment,
        Allocation: appointment.allocations.get(),
        AuditEntry: AuditEntry.objects.create(
            at=START,
            actor=specialist.user,
            action="appointment_book",
            object_type="scheduling.appointment",
            object_id=str(appointment.pk),
            data={"starts_at": START.isoformat()},
        ),
        WorkerHeartbeat: WorkerHeartbeat.objects.create(
            worker_id=f"worker-{next(_seq)}", started_at=START, beat_at=START
        ),
        Message: Message.objects.create(
            channel=MessageChannel.EMAIL,
            recipient=client.email,
            client=client,
            template="appointment_booked",
            dedupe_key=f"appointment:{appointment.pk}:booked",
            about=f"appointment:{appointment.pk}",
            send_after=START,
            created_at=START,
        ),
    }


# --- fixtures and helpers ----------------------------------------------------------------------


@pytest.fixture
def manager(client: HttpClient) -> HttpClient:
    user = User.objects.create_superuser(
        username="manager", email="manager@example.com", password="pw-test-123", role=Role.MANAGER
    )
    staff_login(client, user)
    return client


@pytest.fixture
def world() -> dict[type[Model], Model]:
    return make_world()


def url(model: type[Model], view: str, *args: Any) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def management(prefix: str, total: int, initial: int = 0) -> dict[str, str]:
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def form_errors(response: Any) -> Any:
    if response.context is None or "adminform" not in response.context:
        return None
    inline_errors = [f.formset.errors for f in response.context["inline_admin_formsets"]]
    return response.context["adminform"].form.errors, inline_errors


REGISTERED = sorted(
    (m for m in admin.site._registry if m._meta.app_label in ADMIN_APPS),
    key=lambda m: m._meta.label,
)
EDITABLE = [m for m in REGISTERED if m not in READ_ONLY]


# --- every page renders -------------------------------------------------------------------------


def test_registers_every_model_of_the_back_office() -> None:
    expected = {
        Location,
        Skill,
        Specialist,
        Room,
        Device,
        Resource,
        WeeklyHours,
        DateOverride,
        TimeOff,
        Closure,
        Treatment,
        Client,
        Contraindication,
        Appointment,
        Allocation,
        AuditEntry,
        WorkerHeartbeat,
        Message,
    }
    assert set(REGISTERED) == expected


@pytest.mark.parametrize("model", REGISTERED, ids=lambda m: m._meta.label)
def test_changelist_renders(
    manager: HttpClient, world: dict[type[Model], Model], model: Any
) -> None:
    response = manager.get(url(model, "changelist"))
    assert response.status_code == 200
    assert response.context["cl"].result_count >= 1


@pytest.mark.parametrize("model", REGISTERED, ids=lambda m: m._meta.label)
def test_changelist_search_renders(
    manager: HttpClient, world: dict[type[Model], Model], model: Any
) -> None:
    if not admin.site._registry[model].search_fields:
        pytest.skip("no search")
    assert manager.get(url(model, "changelist"), {"q": "a"}).status_code == 200


@pytest.mark.parametrize("model", EDITABLE, ids=lambda m: m._meta.label)
def test_add_page_renders(manager: HttpClient, model: Any) -> None:
    assert manager.get(url(model, "add")).status_code == 200


@pytest.mark.parametrize("model", READ_ONLY, ids=lambda m: m._meta.label)
def test_add_page_is_forbidden_for_read_only_models(manager: HttpClient, model: Any) -> None:
    assert manager.get(url(model, "add")).status_code == 403


@pytest.mark.parametrize("model", REGISTERED, ids=lambda m: m._meta.label)
def test_change_page_renders(
    manager: HttpClient, world: dict[type[Model], Model], model: Any
) -> None:
    response = manager.get(url(model, "change", world[model].pk))
    assert response.status_code == 200


@pytest.mark.parametrize("model", REGISTERED, ids=lambda m: m._meta.label)
def test_changelist_queries_do_not_grow_with_rows(
    manager: HttpClient, world: dict[type[Model], Model], model: Any
) -> None:
    page = url(model, "changelist")
    manager.get(page)  # warm caches (content types, session)
    with CaptureQueriesContext(connection) as one:
        manager.get(page)
    make_world()
    make_world()
    with CaptureQueriesContext(connection) as three:
        response = manager.get(page)
    assert response.context["cl"].result_count >= 3
    assert len(three) == len(one), "\n".join(q["sql"] for q in three.captured_queries)


# --- appointments and the other records are read-only ------------------------------------------


def test_appointment_change_page_shows_fields_read_only(
    manager: HttpClient, world: dict[type[Model], Model]
) -> None:
    appointment = world[Appointment]
    response = manager.get(url(Appointment, "change", appointment.pk))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="starts_at_0"' not in html
    assert 'name="_save"' not in html
    assert f"{appointment.starts_at:%Y-%m-%d %H:%M} UTC" in html
    assert '<div class="readonly">' in html
    # The allocations are shown with it, read-only too.
    assert response.context["inline_admin_formsets"][0].formset.queryset.count() == 1
    assert 'name="allocations-0-starts_at' not in html


def test_post_cannot_move_an_appointment(
    manager: HttpClient, world: dict[type[Model], Model]
) -> None:
    appointment = world[Appointment]
    before = Appointment.objects.values().get(pk=appointment.pk)
    allocations_before = list(Allocation.objects.values())

    response = manager.post(
        url(Appointment, "change", appointment.pk),
        {
            "starts_at_0": "2031-06-01",
            "starts_at_1": "12:00:00",
            "status": Status.CANCELLED,
            "_save": "Save",
        },
    )

    assert response.status_code == 403
    assert Appointment.objects.values().get(pk=appointment.pk) == before
    assert list(Allocation.objects.values()) == allocations_before


@pytest.mark.parametrize("model", READ_ONLY, ids=lambda m: m._meta.label)
def test_read_only_models_cannot_be_changed_or_deleted(
    manager: HttpClient, world: dict[type[Model], Model], model: Any
) -> None:
    obj = world[model]
    before = model.objects.values().get(pk=obj.pk)

    assert manager.post(url(model, "change", obj.pk), {"_save": "Save"}).status_code == 403
    assert manager.get(url(model, "delete", obj.pk)).status_code == 403
    assert manager.post(url(model, "delete", obj.pk), {"post": "yes"}).status_code == 403
    response = manager.post(
        url(model, "changelist"),
        {"action": "delete_selected", "_selected_action": [str(obj.pk)], "post": "yes"},
    )

    assert response.status_code in (200, 302)
    assert model.objects.values().get(pk=obj.pk) == before


# --- resource hours through the child admins ---------------------------------------------------


def specialist_post(specialist: Specialist, location: Location, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": specialist.name,
        "user": str(specialist.user_id),
        "title": "",
        "bio": "",
        "locations": [str(location.pk)],
        "is_active": "on",
        **management("weekly_hours", 0),
        **management("date_overrides", 0),
        **management("time_off", 0),
        "_save": "Save",
    }
    data.update(extra)
    return data


def test_specialist_page_saves_working_hours_for_the_resource(manager: HttpClient) -> None:
    location = make_location()
    specialist = make_specialist(location)

    response = manager.post(
        url(Specialist, "change", specialist.pk),
        specialist_post(
            specialist,
            location,
            **management("weekly_hours", 1),
            **{
                "weekly_hours-0-location": str(location.pk),
                "weekly_hours-0-weekday": "2",
                "weekly_hours-0-opens_at": "10:00",
                "weekly_hours-0-closes_at": "16:00",
            },
        ),
    )

    assert response.status_code == 302, form_errors(response)
    hours = WeeklyHours.objects.get(resource=specialist.pk)
    assert (hours.location, hours.weekday, hours.opens_at) == (location, 2, time(10))


def test_specialist_hours_must_be_at_one_of_their_locations(manager: HttpClient) -> None:
    location, elsewhere = make_location(), make_location()
    specialist = make_specialist(location)

    response = manager.post(
        url(Specialist, "change", specialist.pk),
        specialist_post(
            specialist,
            location,
            **management("weekly_hours", 1),
            **{
                "weekly_hours-0-location": str(elsewhere.pk),
                "weekly_hours-0-weekday": "2",
                "weekly_hours-0-opens_at": "10:00",
                "weekly_hours-0-closes_at": "16:00",
            },
        ),
    )

    assert response.status_code == 200
    assert not WeeklyHours.objects.filter(resource=specialist.pk).exists()


def test_time_off_is_entered_in_the_location_time_zone(manager: HttpClient) -> None:
    location = make_location(time_zone="Europe/London")
    specialist = make_specialist(location)

    page = manager.get(url(Specialist, "change", specialist.pk))
    assert "Time zone: Europe/London" in page.content.decode()
    response = manager.post(
        url(Specialist, "change", specialist.pk),
        specialist_post(
            specialist,
            location,
            **management("time_off", 1),
            **{
                "time_off-0-starts_at_0": "2030-07-01",
                "time_off-0-starts_at_1": "09:00",
                "time_off-0-ends_at_0": "2030-07-01",
                "time_off-0-ends_at_1": "17:00",
            },
        ),
    )

    assert response.status_code == 302, form_errors(response)
    off = TimeOff.objects.get(resource=specialist.pk)
    # British summer time: 09:00 in London is 08:00 UTC.
    assert off.starts_at == datetime(2030, 7, 1, 8, 0, tzinfo=UTC)


def test_room_hours_take_the_room_location(manager: HttpClient) -> None:
    location = make_location()
    room = make_room(location)

    response = manager.post(
        url(Room, "change", room.pk),
        {
            "name": room.name,
            "location": str(location.pk),
            "room_kind": RoomKind.TREATMENT,
            "is_active": "on",
            **management("weekly_hours", 1),
            "weekly_hours-0-weekday": "0",
            "weekly_hours-0-opens_at": "08:00",
            "weekly_hours-0-closes_at": "12:00",
            **management("date_overrides", 1),
            "date_overrides-0-on": "2030-01-09",
            "date_overrides-0-is_closed": "on",
            **management("time_off", 0),
            "_save": "Save",
        },
    )

    assert response.status_code == 302, form_errors(response)
    assert WeeklyHours.objects.get(resource=room.pk).location == location
    assert DateOverride.objects.get(resource=room.pk).location == location


def test_location_page_edits_only_the_location_own_hours(
    manager: HttpClient, world: dict[type[Model], Model]
) -> None:
    location = world[Location]
    WeeklyHours.objects.create(
        location=location,
        resource=world[Room],
        weekday=1,
        opens_at=time(8),
        closes_at=time(9),
    )

    response = manager.get(url(Location, "change", location.pk))

    formsets = {f.formset.prefix: f.formset for f in response.context["inline_admin_formsets"]}
    assert [h.resource_id for h in formsets["weekly_hours"].queryset] == [None]
    assert all(o.resource_id is None for o in formsets["date_overrides"].queryset)


def test_contraindication_records_who_entered_it(
    manager: HttpClient, world: dict[type[Model], Model]
) -> None:
    client = world[Client]

    response = manager.post(
        url(Contraindication, "add"),
        {
            "client": str(client.pk),
            "condition": "Pregnancy",
            "tier": Tier.HARD_STOP,
            "change_reason": "Told us at the consultation",
            "_save": "1",
        },
    )

    assert response.status_code == 302, form_errors(response)
    entry = Contraindication.objects.get(condition="Pregnancy")
    assert entry.recorded_by is not None and entry.recorded_by.username == "manager"


def test_a_contraindication_is_not_recorded_without_a_reason(
    manager: HttpClient, world: dict[type[Model], Model]
) -> None:
    response = manager.post(
        url(Contraindication, "add"),
        {
            "client": str(world[Client].pk),
            "condition": "Pregnancy",
            "tier": Tier.HARD_STOP,
            "_save": "1",
        },
    )

    assert response.status_code == 200
    assert "Say why you record this finding" in response.content.decode()
    assert not Contraindication.objects.filter(condition="Pregnancy").exists()


def test_phase_without_a_resource_is_refused_in_words(manager: HttpClient) -> None:
    response = manager.post(
        url(Treatment, "add"),
        {
            "name": "Peel",
            "slug": "peel",
            "price": "50",
            "currency": "GBP",
            "is_active": "on",
            "min_notice_minutes": "120",
            "max_advance_days": "180",
            "cancellation_window_hours": "48",
            "step_minutes": "15",
            "display_order": "100",
            **management("phases", 1),
            "phases-0-order": "1",
            "phases-0-name": "Apply",
            "phases-0-duration_minutes": "20",
            "_save": "Save",
        },
    )

    assert response.status_code == 200
    assert "needs a specialist, a room or a device" in response.content.decode()
    assert not Treatment.objects.filter(slug="peel").exists()


def test_treatment_list_shows_total_minutes(
    manager: HttpClient, world: dict[type[Model], Model]
) -> None:
    response = manager.get(url(Treatment, "changelist"))
    row = next(t for t in response.context["cl"].result_list if t.pk == world[Treatment].pk)
    assert (row._total_minutes, row._client_minutes) == (60, 45)


def test_resource_hours_elsewhere_than_the_resource_are_refused(manager: HttpClient) -> None:
    location, elsewhere = make_location(), make_location()
    room = make_room(location)
    data = {
        "resource": str(room.pk),
        "weekday": "0",
        "opens_at": "09:00",
        "closes_at": "12:00",
        "_save": "Save",
    }

    refused = manager.post(url(WeeklyHours, "add"), {**data, "location": str(elsewhere.pk)})
    accepted = manager.post(url(WeeklyHours, "add"), {**data, "location": str(location.pk)})

    assert refused.status_code == 200
    assert "does not work at" in refused.content.decode()
    assert accepted.status_code == 302, form_errors(accepted)
    assert WeeklyHours.objects.get(resource=room.pk).location == location


# --- the staff roles' view of it ---------------------------------------------------------------


def login_as(client: HttpClient, role: str) -> HttpClient:
    staff_login(
        client,
        staff_user_create(username=f"{role}{next(_seq)}", role=role, password="pw-test-123"),
    )
    return client


def test_reception_can_enter_time_off(client: HttpClient, world: dict[type[Model], Model]) -> None:
    reception = login_as(client, Role.RECEPTION)
    specialist = world[Specialist]

    page = reception.get(url(TimeOff, "add"))
    assert page.status_code == 200
    assert f"Specialist: {specialist.name}" in page.content.decode()
    response = reception.post(
        url(TimeOff, "add"),
        {
            "resource": str(specialist.pk),
            "starts_at_0": "2030-01-10",
            "starts_at_1": "09:00",
            "ends_at_0": "2030-01-10",
            "ends_at_1": "13:00",
            "reason": "Dentist",
            "_save": "Save",
        },
    )

    assert response.status_code == 302, form_errors(response)
    assert TimeOff.objects.filter(resource=specialist.pk, reason="Dentist").exists()


def test_reception_edits_clients_without_seeing_user_accounts(
    client: HttpClient, world: dict[type[Model], Model]
) -> None:
    reception = login_as(client, Role.RECEPTION)

    response = reception.get(url(Client, "change", world[Client].pk))

    assert response.status_code == 200
    assert "user" not in response.context["adminform"].form.fields
    assert "first_name" in response.context["adminform"].form.fields


@pytest.mark.parametrize("role", [Role.RECEPTION, Role.SPECIALIST])
def test_staff_cannot_touch_appointments_or_the_audit_trail(
    client: HttpClient, world: dict[type[Model], Model], role: str
) -> None:
    staff = login_as(client, role)
    appointment = world[Appointment]
    before = Appointment.objects.values().get(pk=appointment.pk)

    assert staff.get(url(Appointment, "changelist")).status_code == 200
    assert staff.get(url(Appointment, "add")).status_code == 403
    moved = staff.post(
        url(Appointment, "change", appointment.pk),
        {"starts_at_0": "2031-06-01", "starts_at_1": "12:00:00", "_save": "Save"},
    )
    assert moved.status_code == 403
    assert staff.get(url(AuditEntry, "changelist")).status_code == 403
    assert Appointment.objects.values().get(pk=appointment.pk) == before
