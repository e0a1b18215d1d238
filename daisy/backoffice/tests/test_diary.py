"""Issue 13, item 1: the diary at /desk/: who may open it, what it shows, and at what cost."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from daisy.accounts.models import Role
from daisy.backoffice.tests.conftest import DESK_NOW, book
from daisy.booking.diary import FLAG_FIRST_VISIT, MODE_ROOMS, diary_day
from tests.support.testing import MONDAY, authenticator_code, make_user, staff_login

pytestmark = [pytest.mark.django_db]


def test_visitors_are_sent_to_sign_in_and_clients_are_refused(client, clinic):
    r = client.get("/desk/")
    assert r.status_code == 302 and r.url.startswith("/desk/sign-in/?next=/desk/")
    client.force_login(make_user(role=Role.CLIENT))
    r = client.get("/desk/")
    assert r.status_code == 403
    assert "This page is for clinic staff" in r.content.decode()


def test_reception_signs_in_and_opens_today(client, clinic, on_monday):
    r = client.post(
        "/account/staff/sign-in/?next=/desk/",
        {
            "username": clinic.reception.username,
            "password": "pw-test-123",
            "code": authenticator_code(clinic.reception),
        },
    )
    assert r.status_code == 302 and r.url == "/desk/"
    page = client.get("/desk/").content.decode()
    assert "Monday 7 January 2030" in page
    assert "Europe/London (GMT)" in page
    for s in clinic.specialists:
        assert s.name in page


def test_the_day_shows_each_appointment_by_its_phases_in_its_specialist_s_column(
    client, clinic, on_monday
):
    first, second = clinic.specialists
    book(clinic, clinic.clients[0], 10, specialist=first)
    staff_login(client, clinic.reception)
    page = client.get("/desk/2030-01-07/").content.decode()
    assert clinic.clients[0].first_name in page
    # Consultation with the specialist, then numbing (room only: the specialist is free).
    assert 'class="phase ph-specialist' in page
    assert 'class="phase ph-room' in page
    assert "First visit" in page
    assert 'id="diary-now"' in page  # today's line at 09:30


def test_the_diary_data_places_phases_and_flags(clinic, on_monday):
    appt = book(clinic, clinic.clients[0], 10, specialist=clinic.specialists[0])
    day = diary_day(location=clinic.location, on=MONDAY, now=DESK_NOW)
    (view,) = day.appointments
    assert view.id == appt.pk
    assert [p.kind for p in view.phases][:2] == ["specialist", "room"]
    assert view.phases[-1].kind == "clean_down"
    assert FLAG_FIRST_VISIT in [f.code for f in view.flags]
    column = next(c for c in day.columns if c.id == clinic.specialists[0].pk)
    (placed,) = column.items
    # The specialist's column shows no clean-down: the room and the pen are cleaned, not them.
    assert "clean_down" not in [b.kind for b in placed.blocks]
    rooms = diary_day(location=clinic.location, on=MONDAY, now=DESK_NOW, mode=MODE_ROOMS)
    kinds = {c.kind for c in rooms.columns}
    assert kinds == {"room", "device"}
    room_items = [i for c in rooms.columns if c.kind == "room" for i in c.items]
    assert room_items[0].blocks[-1].kind == "clean_down"


def test_a_specialist_opens_on_their_own_column(client, clinic, on_monday):
    me, other = clinic.specialists
    staff_login(client, me.user)
    page = client.get("/desk/").content.decode()
    assert f'<span class="diary-head-name">{me.name}</span>' in page
    assert f'<span class="diary-head-name">{other.name}</span>' not in page
    everyone = client.get("/desk/?who=all").content.decode()
    assert f'<span class="diary-head-name">{other.name}</span>' in everyone


def test_any_day_opens_at_its_own_address_and_a_bad_one_is_not_found(client, clinic, on_monday):
    staff_login(client, clinic.reception)
    assert "Tuesday 8 January 2030" in client.get("/desk/2030-01-08/").content.decode()
    assert client.get("/desk/2030-02-31/").status_code == 404
    r = client.get(f"/desk/?on=2030-01-09&location={clinic.location.pk}")
    assert r.status_code == 302 and r.url.startswith("/desk/2030-01-09/")


def test_polling_answers_no_content_until_something_changes(client, clinic, on_monday):
    staff_login(client, clinic.reception)
    day = diary_day(location=clinic.location, on=MONDAY, now=DESK_NOW)
    url = f"/desk/2030-01-07/grid/?location={clinic.location.pk}&since={day.version}"
    assert client.get(url).status_code == 204
    book(clinic, clinic.clients[1], 11)
    r = client.get(url)
    assert r.status_code == 200
    assert clinic.clients[1].first_name in r.content.decode()


def test_the_week_lists_each_specialist_s_days(client, clinic, on_monday):
    book(clinic, clinic.clients[0], 10, specialist=clinic.specialists[0])
    staff_login(client, clinic.reception)
    page = client.get("/desk/week/2030-01-09/").content.decode()
    assert "Week of 7 January 2030" in page
    assert clinic.clients[0].first_name in page


def test_the_day_costs_the_same_queries_whatever_the_number_of_appointments(clinic, on_monday):
    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            diary_day(location=clinic.location, on=MONDAY, now=DESK_NOW)
        return len(ctx.captured_queries)

    book(clinic, clinic.clients[0], 9)
    count()  # the treatment's phases are read once, then kept until the set-up changes
    few = count()
    for i, hh in enumerate((11, 13, 15)):
        book(clinic, clinic.clients[1 + i], hh)
    assert count() == few
