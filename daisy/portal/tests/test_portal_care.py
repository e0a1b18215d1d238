"""The portal's care pages (issue 4, item 4): contact preferences with marketing consent kept
apart from service messages, "Your aftercare today", and "My course" with its progress and a
severity chart drawn on the server."""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import timedelta

import pytest
import time_machine
from django.test import Client as HttpClient
from django.utils import timezone

from daisy.accounts.models import Role
from daisy.audit.models import AuditEntry
from daisy.booking.courses import SessionTime, course_book
from daisy.booking.services import appointment_book, appointment_set_status
from daisy.courses.services import (
    AreaInput,
    course_presets_install,
    plan_accept,
    plan_area_grade,
    plan_create,
)
from daisy.scheduling.models import Status
from tests.support.testing import (
    MONDAY,
    at,
    booking_now,
    consent_signed,
    make_clinic,
    make_user,
    rescreen_clear,
)

pytestmark = pytest.mark.django_db

NOW = booking_now()


@pytest.fixture
def world():  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False):
        course_presets_install()
        clinic = make_clinic()
        out = {"clinic": clinic, "http": {}}
        for n in (0, 1):
            user = make_user(role=Role.CLIENT, email=f"c{n}@example.com",
                             email_verified_at=timezone.now())  # fmt: skip
            clinic.clients[n].user = user
            clinic.clients[n].save()
            http = HttpClient()
            http.force_login(user)
            out["http"][n] = http
        yield out


def test_preferences_keep_marketing_separate_and_need_a_phone_for_sms(world) -> None:  # type: ignore[no-untyped-def]
    client = world["clinic"].clients[0]
    client.phone = ""
    client.save()
    http = world["http"][0]
    page = http.get("/portal/preferences/")
    assert page.status_code == 200 and 'type="radio"' in page.text
    assert 'name="marketing_consent"' in page.text
    refused = http.post("/portal/preferences/", {"contact_channel": "sms"})
    assert refused.status_code == 200 and "mobile phone number" in refused.text
    client.refresh_from_db()
    assert client.contact_channel != "sms"
    ok = http.post("/portal/preferences/", {"contact_channel": "email", "marketing_consent": "on"})
    assert ok.status_code == 302
    client.refresh_from_db()
    assert (client.contact_channel, client.marketing_consent) == ("email", True)
    assert client.marketing_consent_changed_at is not None
    http.post("/portal/preferences/", {"contact_channel": "email"})
    client.refresh_from_db()
    assert client.marketing_consent is False and client.contact_channel == "email"
    assert AuditEntry.objects.filter(action="client.preferences").count() == 2


def test_aftercare_today_after_a_session(world) -> None:  # type: ignore[no-untyped-def]
    clinic = world["clinic"]
    appt = appointment_book(
        client=clinic.clients[0],
        treatment=clinic.microneedling,
        starts_at=at(MONDAY, 10),
        booked_by=clinic.reception,
        now=NOW,
    ).appointment
    rescreen_clear(appt)
    consent_signed(appt)
    with time_machine.travel(at(MONDAY, 15), tick=False):
        appointment_set_status(appointment=appt, status=Status.COMPLETED, by=clinic.reception,
                               now=at(MONDAY, 13))  # fmt: skip
        world["http"][0].force_login(clinic.clients[0].user)
        home = world["http"][0].get("/portal/")
        assert "Your aftercare today" in home.text and "Please avoid" in home.text
        page = world["http"][0].get("/portal/aftercare/")
        assert page.status_code == 200 and "The whole timeline" in page.text
        # Client B has had no session: no aftercare section, no aftercare page.
        world["http"][1].force_login(clinic.clients[1].user)
        assert "Your aftercare today" not in world["http"][1].get("/portal/").text
        assert world["http"][1].get("/portal/aftercare/").status_code == 404


def _course(world):  # type: ignore[no-untyped-def]
    clinic = world["clinic"]
    specialist = clinic.specialists[0].user
    plan = plan_create(client=clinic.clients[0], treatment=clinic.microneedling, by=specialist,
                       now=NOW, areas=[AreaInput("cheeks", "acne_scars", 3)])  # fmt: skip
    plan = plan_accept(plan=plan, by=clinic.reception, now=NOW)
    booked = course_book(
        client=clinic.clients[0],
        treatment=clinic.microneedling,
        booked_by=clinic.reception,
        now=NOW,
        plan=plan,
        session_times=[SessionTime(at(MONDAY + timedelta(days=28 * k), 10)) for k in range(4)],
    )
    rescreen_clear(booked.appointments[0])
    consent_signed(booked.appointments[0])
    appointment_set_status(appointment=booked.appointments[0], status=Status.COMPLETED,
                           by=clinic.reception, now=at(MONDAY, 12))  # fmt: skip
    plan_area_grade(area=plan.areas.get(), grade=2, by=specialist, now=at(MONDAY, 12))
    return plan


def test_my_course_shows_progress_dates_and_a_severity_chart(world) -> None:  # type: ignore[no-untyped-def]
    plan = _course(world)
    http = world["http"][0]
    assert f"/portal/courses/{plan.pk}/" in http.get("/portal/courses/").text
    page = http.get(f"/portal/courses/{plan.pk}/")
    assert page.status_code == 200
    assert "Session 2 of 4" in page.text and "Mon 4 Feb 2030, 10:00 London time" in page.text
    svg = re.search(r"<svg .*?</svg>", page.text, re.S)[0]  # type: ignore[index]
    assert 'role="img"' in svg and "<title" in svg and "grade 3" in svg and "grade 2" in svg
    assert "<script" not in svg and "style=" not in svg
    assert svg.count("<circle") == 2
    assert "Session 2 of 4" in http.get("/portal/").text
    download = http.post("/portal/my-data/download/")
    with zipfile.ZipFile(io.BytesIO(download.content)) as archive:  # the data download's archive
        data = json.loads(archive.read("my-data.json"))
    assert [g["grade"] for g in data["courses"][0]["areas"][0]["grades"]] == [3, 2]


def test_client_b_cannot_open_client_a_course(world) -> None:  # type: ignore[no-untyped-def]
    plan = _course(world)
    response = world["http"][1].get(f"/portal/courses/{plan.pk}/")
    assert response.status_code == 404 and "cheeks" not in response.text
    assert not AuditEntry.objects.filter(data__via=f"portal:course:{plan.pk}").exists()
    assert "Session 2 of 4" not in world["http"][1].get("/portal/courses/").text
