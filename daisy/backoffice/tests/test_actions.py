"""Issue 13, items 2 and 7: the desk's actions on an appointment, each one service call,
audited with the staff member who acted, and refused when the desk's view is stale."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine

from daisy.audit.models import AuditEntry
from daisy.backoffice.tests.conftest import DESK_NOW, book
from daisy.booking.diary import appointment_version
from daisy.booking.services import appointment_book
from daisy.notifications.models import Message
from daisy.scheduling.models import Appointment, Status
from tests.support.testing import MONDAY, at, consent_signed, rescreen_clear, staff_login

pytestmark = [pytest.mark.django_db]


def _post(client, appt, action, **data):
    data.setdefault("version", appointment_version(appt))
    return client.post(f"/desk/appointments/{appt.pk}/{action}/", data, HTTP_HX_REQUEST="true")


def test_arrived_in_treatment_completed_each_audited_with_who_acted(client, clinic, on_monday):
    appt = book(clinic, clinic.clients[0], 10)
    rescreen_clear(appt)
    consent_signed(appt)
    staff_login(client, clinic.reception)
    r = _post(client, appt, "status", status="arrived")
    assert r.status_code == 200 and "Marked as arrived." in r.content.decode()
    assert r["HX-Trigger"] == "desk-changed"
    appt.refresh_from_db()
    assert appt.status == Status.CHECKED_IN
    _post(client, appt, "status", status="in_treatment")
    appt.refresh_from_db()
    assert appt.status == Status.IN_TREATMENT
    _post(client, appt, "status", status="completed")
    appt.refresh_from_db()
    assert appt.status == Status.COMPLETED
    actions = list(
        AuditEntry.objects.filter(object_id=str(appt.pk))
        .exclude(action="appointment.book")
        .order_by("at", "id")
        .values_list("action", "actor_id")
    )
    assert actions == [
        ("appointment.checked_in", clinic.reception.pk),
        ("appointment.in_treatment", clinic.reception.pk),
        ("appointment.completed", clinic.reception.pk),
    ]


def test_no_show_only_after_the_start(client, clinic, on_monday):
    appt = book(clinic, clinic.clients[0], 10)
    staff_login(client, clinic.reception)
    r = _post(client, appt, "status", status="no_show")
    assert r.status_code == 409
    assert "only be marked as a no-show after the start time" in r.content.decode()
    with time_machine.travel(at(MONDAY, 10, 20), tick=False):
        _post(client, appt, "status", status="no_show")
    appt.refresh_from_db()
    assert appt.status == Status.NO_SHOW


def test_an_action_on_a_stale_view_is_refused_and_shows_the_current_state(
    client, clinic, on_monday
):
    appt = book(clinic, clinic.clients[0], 10)
    seen = appointment_version(appt)
    staff_login(client, clinic.reception)
    # Another desk marks the client arrived first.
    with time_machine.travel(DESK_NOW + timedelta(seconds=5), tick=False):
        _post(client, appt, "status", status="arrived")
    r = _post(client, appt, "cancel", version=seen, reason="Client unwell", by_clinic="0")
    assert r.status_code == 409
    page = r.content.decode()
    assert "Someone changed this appointment while you were looking at it" in page
    assert "arrived" in page
    appt.refresh_from_db()
    assert appt.status == Status.CHECKED_IN


def test_cancel_with_a_reason_and_the_choice_not_to_tell_the_client(client, clinic, on_monday):
    told = book(clinic, clinic.clients[0], 10)
    quiet = book(clinic, clinic.clients[1], 12)
    staff_login(client, clinic.reception)
    r = _post(client, told, "cancel", reason="Client unwell", by_clinic="0", notify_client="on")
    assert "Cancelled; the client will get a message." in r.content.decode()
    _post(client, quiet, "cancel", reason="Asked in person", by_clinic="1")
    told.refresh_from_db()
    quiet.refresh_from_db()
    assert told.status == quiet.status == Status.CANCELLED
    assert told.cancel_reason == "Client unwell"
    assert not quiet.is_late_cancellation
    # One cancellation message (by email and by text) for the client who was told, none for
    # the other.
    sent_to = set(
        Message.objects.filter(template="appointment/cancelled").values_list("recipient", flat=True)
    )
    assert told.client.email in sent_to
    assert quiet.client.email not in sent_to
    entry = AuditEntry.objects.get(action="appointment.cancel", object_id=str(quiet.pk))
    assert entry.actor_id == clinic.reception.pk
    assert entry.data["client_told"] is False
    assert entry.data["reason"] == "Asked in person"


def test_a_cancel_without_a_reason_asks_for_one(client, clinic, on_monday):
    appt = book(clinic, clinic.clients[0], 10)
    staff_login(client, clinic.reception)
    r = _post(client, appt, "cancel", reason="", by_clinic="0")
    assert r.status_code == 422
    appt.refresh_from_db()
    assert appt.status == Status.BOOKED


def test_move_to_a_free_time_or_another_specialist_and_a_conflict_is_explained(
    client, clinic, on_monday
):
    first, second = clinic.specialists
    appt = book(clinic, clinic.clients[0], 10, specialist=first)
    other = book(clinic, clinic.clients[1], 13, specialist=second)
    staff_login(client, clinic.reception)
    panel = client.get(f"/desk/appointments/{appt.pk}/?move_on=2030-01-07").content.decode()
    assert "Free on Monday 7 January" in panel
    target = at(MONDAY, 13)
    r = _post(client, appt, "move", choice=f"{target.isoformat()}|{second.pk}")
    assert r.status_code == 409
    assert "Nearest free times" in r.content.decode()
    appt.refresh_from_db()
    assert appt.starts_at == at(MONDAY, 10)
    r = _post(client, appt, "move", choice=f"{at(MONDAY, 15).isoformat()}|{second.pk}")
    assert "Moved to Monday 07 January at 15:00." in r.content.decode()
    appt.refresh_from_db()
    assert appt.starts_at == at(MONDAY, 15) and appt.specialist_id == second.pk
    entry = AuditEntry.objects.get(action="appointment.reschedule", object_id=str(appt.pk))
    assert entry.actor_id == clinic.reception.pk
    assert other.pk


def test_a_note_on_an_appointment_is_kept_and_flagged(client, clinic, on_monday):
    appt = book(clinic, clinic.clients[0], 10)
    staff_login(client, clinic.reception)
    _post(client, appt, "note", notes="Prefers the window room")
    appt.refresh_from_db()
    assert appt.notes == "Prefers the window room"
    assert AuditEntry.objects.filter(action="appointment.note", actor=clinic.reception).exists()
    page = client.get("/desk/2030-01-07/?who=all").content.decode()
    assert "flag-note" in page


def test_rebook_the_next_session_from_the_panel(client, clinic, on_monday):
    appt = book(clinic, clinic.clients[0], 10, specialist=clinic.specialists[0])
    staff_login(client, clinic.reception)
    panel = client.get(f"/desk/appointments/{appt.pk}/").content.decode()
    assert "Book again" in panel
    # The first time offered is four weeks on with the same specialist.
    choice = panel.split('name="choice" value="')[-4].split('"')[0]
    r = client.post(f"/desk/appointments/{appt.pk}/rebook/", {"choice": choice})
    assert r.status_code == 302
    new = Appointment.objects.exclude(pk=appt.pk).get()
    assert new.client_id == appt.client_id
    assert new.specialist_id == clinic.specialists[0].pk
    assert new.starts_at.date() >= (MONDAY + timedelta(days=28))
    assert new.booked_by == clinic.reception


def test_a_client_cannot_act_at_the_desk(client, clinic, on_monday):
    from daisy.accounts.models import Role
    from tests.support.testing import make_user

    appt = book(clinic, clinic.clients[0], 10)
    client.force_login(make_user(role=Role.CLIENT))
    r = _post(client, appt, "status", status="arrived")
    assert r.status_code == 403
    appt.refresh_from_db()
    assert appt.status == Status.BOOKED


def test_the_panel_shows_times_in_the_clinics_zone_in_summer(client, clinic):
    # 10:00 London time in June is 09:00 UTC: the panel says 10:00 and names British Summer Time.
    june = MONDAY + timedelta(days=7 * 22)  # Monday 10 June 2030
    with time_machine.travel(at(june, 8) - timedelta(days=7), tick=False):
        appt = appointment_book(
            client=clinic.clients[0],
            treatment=clinic.microneedling,
            starts_at=at(june, 10),
            booked_by=clinic.reception,
            now=at(june, 8) - timedelta(days=7),
            location=clinic.location,
        ).appointment
        staff_login(client, clinic.reception)
        html = client.get(f"/desk/appointments/{appt.pk}/").content.decode()
    assert "10:00–" in html and "(BST)" in html
    assert "09:00–" not in html and "(UTC)" not in html


def test_the_booking_page_ignores_a_client_that_is_not_an_id(client, clinic, on_monday):
    staff_login(client, clinic.reception)
    assert client.get("/desk/book/?client=not-an-id").status_code == 200


def test_the_panel_has_no_two_fields_with_one_id(client, clinic, on_monday):
    appt = book(clinic, clinic.clients[0], 10)
    staff_login(client, clinic.reception)
    html = client.get(f"/desk/appointments/{appt.pk}/").content.decode()
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert sorted(i for i in set(ids) if ids.count(i) > 1) == []
