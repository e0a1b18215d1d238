"""The client portal (issue 4, items 4, 5 and 9): a client's own appointments in the location's
time, moves and cancellations within the treatment's policy (a late one explained, never
silently refused), the .ics, profile, and a JSON copy of their data."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client as HttpClient
from django.utils import timezone

from daisy.accounts.models import Role, User
from daisy.audit.models import AuditEntry
from daisy.booking.models import EntryStatus, WaitlistEntry
from daisy.booking.services import appointment_book, appointment_cancel
from daisy.clients.models import Client
from daisy.notifications.models import Message
from daisy.scheduling.models import Appointment, Status
from tests.support.testing import MONDAY, Clinic, at, booking_now, make_clinic, make_user

pytestmark = pytest.mark.django_db

NOW = booking_now()  # a week before MONDAY, 08:00 London


@dataclass
class World:
    clinic: Clinic
    user_a: User
    client_a: Client
    appt_a: Appointment
    user_b: User
    client_b: Client
    appt_b: Appointment
    http_a: HttpClient
    http_b: HttpClient


def _client_login(n: int, clinic: Clinic) -> tuple[User, Client]:
    user = make_user(
        role=Role.CLIENT, email=f"client{n}@example.com", email_verified_at=timezone.now()
    )
    client = clinic.clients[n]
    client.user = user
    client.save()
    return user, client


@pytest.fixture
def world() -> World:
    with time_machine.travel(NOW, tick=False):
        clinic = make_clinic()
        user_a, client_a = _client_login(0, clinic)
        user_b, client_b = _client_login(1, clinic)
        book = dict(treatment=clinic.microneedling, booked_by=clinic.reception, now=NOW)
        appt_a = appointment_book(client=client_a, starts_at=at(MONDAY, 10), **book).appointment
        appt_b = appointment_book(client=client_b, starts_at=at(MONDAY, 14), **book).appointment
        http_a, http_b = HttpClient(), HttpClient()
        http_a.force_login(user_a)
        http_b.force_login(user_b)
    return World(clinic, user_a, client_a, appt_a, user_b, client_b, appt_b, http_a, http_b)


@pytest.fixture(autouse=True)
def _clock() -> object:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def test_home_lists_my_appointments_in_london_time_and_not_others(world: World) -> None:
    page = world.http_a.get("/portal/")
    assert page.status_code == 200
    assert "Mon 7 Jan 2030, 10:00 London time" in page.text
    assert f"/portal/appointments/{world.appt_a.pk}/" in page.text
    assert str(world.appt_b.pk) not in page.text and "14:00" not in page.text
    assert AuditEntry.objects.filter(
        action="client.view", object_id=str(world.client_a.pk), data__via="portal:home"
    ).exists()


def test_summer_appointment_shows_british_summer_time(world: World) -> None:
    from datetime import date

    summer = appointment_book(
        client=world.client_a,
        treatment=world.clinic.microneedling,
        starts_at=at(date(2030, 4, 1), 10),  # the Monday after the clocks go forward
        booked_by=world.clinic.reception,
        now=NOW,
    ).appointment
    assert summer.starts_at == datetime(2030, 4, 1, 9, 0, tzinfo=UTC)  # BST is UTC+1
    page = world.http_a.get(f"/portal/appointments/{summer.pk}/")
    assert "Mon 1 Apr 2030, 10:00 London time" in page.text


def test_visitors_sign_in_first_and_staff_are_sent_to_the_back_office(world: World) -> None:
    anonymous = HttpClient().get("/portal/")
    assert anonymous.status_code == 302 and anonymous.url == "/account/sign-in/?next=/portal/"
    staff = HttpClient()
    staff.force_login(world.clinic.reception)
    response = staff.get("/portal/")
    assert response.status_code == 403 and "/admin/" in response.text


def test_reschedule_offers_free_times_and_moves_the_appointment(world: World) -> None:
    first = world.http_a.get(f"/portal/appointments/{world.appt_a.pk}/reschedule/")
    assert first.status_code == 200 and "Times are in London time" in first.text
    assert f"?week={MONDAY.isoformat()}" in first.text  # "Next week"
    page = world.http_a.get(
        f"/portal/appointments/{world.appt_a.pk}/reschedule/?week={MONDAY.isoformat()}"
    )
    new_start = at(MONDAY + timedelta(days=1), 11)
    assert f'value="{new_start.isoformat()}"' in page.text
    url = f"/portal/appointments/{world.appt_a.pk}/reschedule/"
    # Pressing a time asks first; nothing moves until the client confirms.
    asked = world.http_a.post(url, {"start": new_start.isoformat()})
    assert asked.status_code == 200 and "Move your appointment?" in asked.text
    assert "Tue 8 Jan 2030, 11:00 London time" in asked.text
    world.appt_a.refresh_from_db()
    assert world.appt_a.starts_at == at(MONDAY, 10)
    moved = world.http_a.post(url, {"start": new_start.isoformat(), "confirm": "yes"})
    assert moved.status_code == 302
    world.appt_a.refresh_from_db()
    assert world.appt_a.starts_at == new_start


@pytest.mark.parametrize("confirm", ["", "yes"])
@pytest.mark.parametrize(
    "start", ["9999-12-31T23:00:00+00:00", "0001-01-01T00:00:00+00:00", "2030-01-08T11:00:30Z"]
)
def test_a_tampered_time_is_refused_kindly(world: World, start: str, confirm: str) -> None:
    response = world.http_a.post(
        f"/portal/appointments/{world.appt_a.pk}/reschedule/",
        {"start": start, **({"confirm": confirm} if confirm else {})},
    )
    assert response.status_code in (200, 409, 422)
    assert "Choose one of the times offered." in response.text
    world.appt_a.refresh_from_db()
    assert world.appt_a.starts_at == at(MONDAY, 10)


def test_a_taken_time_gets_a_friendly_message_and_nearby_times(world: World) -> None:
    taken = world.appt_b.starts_at
    response = world.http_a.post(
        f"/portal/appointments/{world.appt_a.pk}/reschedule/",
        {"start": taken.isoformat(), "confirm": "yes"},
    )
    assert response.status_code == 409
    assert 'role="alert"' in response.text and "These nearby times are free" in response.text
    world.appt_a.refresh_from_db()
    assert world.appt_a.starts_at == at(MONDAY, 10)


def test_a_move_into_a_deferral_is_refused_with_a_reason_and_changes_nothing(
    world: World,
) -> None:
    """The same gate as every path (issue 11 item 2): toxin in the area defers needling."""
    world.client_a.contraindications.create(
        condition="Botulinum toxin in the area",
        tier="defer",
        until_on=MONDAY + timedelta(days=5),
    )
    response = world.http_a.post(
        f"/portal/appointments/{world.appt_a.pk}/reschedule/",
        {"start": at(MONDAY + timedelta(days=1), 11).isoformat(), "confirm": "yes"},
    )
    assert response.status_code in (200, 409)
    assert 'role="alert"' in response.text
    assert "needs a specialist" in response.text
    assert "Botulinum" not in response.text  # clinical detail is for the clinic
    world.appt_a.refresh_from_db()
    assert world.appt_a.starts_at == at(MONDAY, 10)


def test_late_move_is_explained_not_refused_silently(world: World, _clock) -> None:  # type: ignore[no-untyped-def]
    _clock.move_to(world.appt_a.starts_at - timedelta(hours=20))
    world.http_a.force_login(world.user_a)  # a week later: the old session has expired
    detail = world.http_a.get(f"/portal/appointments/{world.appt_a.pk}/")
    assert "less than 48 hours" in detail.text and "late cancellation" in detail.text
    page = world.http_a.get(f"/portal/appointments/{world.appt_a.pk}/reschedule/")
    assert "up to 48 hours before" in page.text and 'name="start"' not in page.text
    response = world.http_a.post(
        f"/portal/appointments/{world.appt_a.pk}/reschedule/",
        {"start": at(MONDAY + timedelta(days=2), 11).isoformat(), "confirm": "yes"},
    )
    assert "up to 48 hours before" in response.text
    world.appt_a.refresh_from_db()
    assert world.appt_a.starts_at == at(MONDAY, 10)


def test_cancel_in_good_time(world: World) -> None:
    page = world.http_a.get(f"/portal/appointments/{world.appt_a.pk}/cancel/")
    assert "free of charge" in page.text
    done = world.http_a.post(f"/portal/appointments/{world.appt_a.pk}/cancel/", {"reason": ""})
    assert done.status_code == 302
    world.appt_a.refresh_from_db()
    assert world.appt_a.status == Status.CANCELLED and not world.appt_a.is_late_cancellation


def test_late_cancellation_is_warned_about_then_made_and_marked(world: World, _clock) -> None:  # type: ignore[no-untyped-def]
    _clock.move_to(world.appt_a.starts_at - timedelta(hours=3))
    world.http_a.force_login(world.user_a)  # a week later: the old session has expired
    page = world.http_a.get(f"/portal/appointments/{world.appt_a.pk}/cancel/")
    assert "will count as a late cancellation" in page.text
    done = world.http_a.post(f"/portal/appointments/{world.appt_a.pk}/cancel/", {"reason": "ill"})
    follow = world.http_a.get(done.url)
    assert "counts as a late cancellation" in follow.text
    world.appt_a.refresh_from_db()
    assert world.appt_a.status == Status.CANCELLED and world.appt_a.is_late_cancellation


def test_calendar_download(world: World) -> None:
    response = world.http_a.get(f"/portal/appointments/{world.appt_a.pk}/calendar.ics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert "attachment" in response["Content-Disposition"]
    body = response.content.decode()
    assert f"UID:{world.appt_a.pk}@daisy" in body and "DTSTART:20300107T100000Z" in body


def test_profile_update(world: World) -> None:
    page = world.http_a.get("/portal/profile/")
    assert page.status_code == 200 and world.client_a.first_name in page.text
    bad = world.http_a.post(
        "/portal/profile/", {"first_name": "Ada", "last_name": "L", "phone": "nope"}
    )
    assert bad.status_code == 200 and 'aria-invalid="true"' in bad.text
    ok = world.http_a.post(
        "/portal/profile/",
        {"first_name": "Ada", "last_name": "Lovelace", "phone": "07911 123456"},
    )
    assert ok.status_code == 302
    world.client_a.refresh_from_db()
    assert (world.client_a.last_name, world.client_a.phone) == ("Lovelace", "+447911123456")


def test_data_download_has_my_data_only(world: World) -> None:
    response = world.http_a.post("/portal/my-data/download/")
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    assert response["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        content = archive.read("my-data.json")
    data = json.loads(content)
    assert data["profile"]["id"] == str(world.client_a.pk)
    assert [a["id"] for a in data["appointments"]] == [str(world.appt_a.pk)]
    assert data["messages"] and all(m["to"] != world.client_b.email for m in data["messages"])
    text = content.decode()
    assert str(world.client_b.pk) not in text and str(world.appt_b.pk) not in text
    assert world.client_b.last_name not in text
    assert AuditEntry.objects.filter(data__via="portal:data-download").count() == 1


# --- privacy: client B aims every portal URL at client A's objects ------------------------------

A_URLS = [
    ("get", "/portal/appointments/{a}/"),
    ("get", "/portal/appointments/{a}/reschedule/"),
    ("post", "/portal/appointments/{a}/reschedule/"),
    ("get", "/portal/appointments/{a}/cancel/"),
    ("post", "/portal/appointments/{a}/cancel/"),
    ("get", "/portal/appointments/{a}/calendar.ics"),
]


def _snapshot() -> tuple[object, ...]:
    return (
        list(Appointment.objects.order_by("pk").values()),
        list(Client.objects.order_by("pk").values()),
        Message.objects.count(),
        AuditEntry.objects.exclude(action="client.view").count(),
    )


@pytest.mark.parametrize(("method", "template"), A_URLS)
def test_client_b_gets_404_for_client_a_objects_and_nothing_changes(
    world: World, method: str, template: str
) -> None:
    before = _snapshot()
    path = template.format(a=world.appt_a.pk)
    data = {
        "start": at(MONDAY + timedelta(days=1), 11).isoformat(),
        "confirm": "yes",
        "reason": "x",
    }
    response = getattr(world.http_b, method)(path, data if method == "post" else None)
    assert response.status_code == 404
    assert str(world.appt_a.pk) not in response.text
    assert _snapshot() == before
    assert not AuditEntry.objects.filter(
        action="client.view", object_id=str(world.client_a.pk)
    ).exists()


@pytest.mark.parametrize(("method", "template"), A_URLS)
def test_unknown_and_malformed_ids_are_404_too(world: World, method: str, template: str) -> None:
    import uuid

    for ident in (uuid.uuid4(), "not-a-uuid"):
        response = getattr(world.http_a, method)(template.format(a=ident))
        assert response.status_code == 404


def test_every_portal_form_needs_the_csrf_token(world: World) -> None:
    strict = HttpClient(enforce_csrf_checks=True)
    strict.force_login(world.user_a)
    before = _snapshot()
    for path, data in [
        (f"/portal/appointments/{world.appt_a.pk}/reschedule/", {"start": "x"}),
        (f"/portal/appointments/{world.appt_a.pk}/cancel/", {}),
        ("/portal/profile/", {"first_name": "X", "last_name": "Y"}),
        ("/portal/my-data/download/", {}),
        ("/portal/my-data/erase/", {"confirm": "on"}),
    ]:
        assert strict.post(path, data).status_code == 403, path
    assert _snapshot() == before


# --- the waitlist from the portal (issue 13, item 3) -------------------------------------------


def test_a_client_joins_sees_the_offer_and_leaves(world: World) -> None:
    page = world.http_b.get("/portal/waitlist/")
    assert page.status_code == 200
    joined = world.http_b.post("/portal/waitlist/", {"treatment": "microneedling"})
    assert joined.status_code == 302
    entry = WaitlistEntry.objects.get(client=world.client_b)
    assert entry.created_by == world.user_b

    appointment_cancel(
        appointment=world.appt_a, by=world.clinic.reception, now=world.appt_a.created_at
    )
    page = world.http_b.get("/portal/waitlist/").content.decode()
    assert "Offered" in page and "10:00" in page and "Europe/London" in page

    stranger = world.http_a.post(f"/portal/waitlist/{entry.pk}/leave/")
    assert stranger.status_code == 404
    left = world.http_b.post(f"/portal/waitlist/{entry.pk}/leave/")
    assert left.status_code == 302
    entry.refresh_from_db()
    assert entry.status == EntryStatus.WITHDRAWN


def test_joining_twice_is_explained(world: World) -> None:
    world.http_b.post("/portal/waitlist/", {"treatment": "microneedling"})
    again = world.http_b.post("/portal/waitlist/", {"treatment": "microneedling"})
    assert again.status_code == 422
    assert "already on the waitlist" in again.content.decode()
