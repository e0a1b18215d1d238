"""The returning client in a real browser (issue 4, items 7 and 8): signs in, reschedules, then
cancels; axe-core finds no serious or critical problem on any account or portal page. Screenshots
of each step: var/screenshots/portal-*.png."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from daisy.accounts.models import Role
from daisy.booking.services import appointment_book
from daisy.scheduling.models import Appointment, Status
from tests.support.browser import PHONE, assert_accessible, close_page, new_page, shot
from tests.support.testing import at, consent_signed, make_clinic, make_user, rescreen_clear

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EMAIL = "returning@example.com"
PASSWORD = "lavender-fields-42"


@pytest.fixture
def returning_client():  # type: ignore[no-untyped-def]
    clinic = make_clinic()
    user = make_user(role=Role.CLIENT, email=EMAIL, email_verified_at=timezone.now())
    user.set_password(PASSWORD)
    user.save()
    client = clinic.clients[0]
    client.user = user
    client.save()
    now = timezone.now()
    # A weekday well outside the 48-hour window, so it can be moved online.
    day = (now + timedelta(days=10)).date()
    while day.weekday() > 4:
        day += timedelta(days=1)
    appt = appointment_book(
        client=client,
        treatment=clinic.microneedling,
        starts_at=at(day, 10),
        booked_by=clinic.reception,
        now=now,
    ).appointment
    return appt


def _check(page, name: str) -> None:  # type: ignore[no-untyped-def]
    shot(page, f"portal-{name}")
    assert_accessible(page)


def test_returning_client_signs_in_reschedules_then_cancels(  # type: ignore[no-untyped-def]
    browser_page, live_url, returning_client
) -> None:
    page = browser_page
    page.goto(f"{live_url}/portal/")
    assert "/account/sign-in/" in page.url  # the portal asks who you are first
    _check(page, "sign-in")
    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Upcoming appointments").wait_for()
    assert page.url.rstrip("/").endswith("/portal")
    assert "London time" in page.content()
    _check(page, "home")

    page.get_by_role("link", name="Micro-needling").first.click()
    page.get_by_role("button", name="Choose another time").or_(
        page.get_by_role("link", name="Choose another time")
    ).wait_for()
    _check(page, "appointment")

    page.get_by_role("link", name="Choose another time").click()
    page.get_by_role("link", name="Next week").click()
    times = page.locator(".week-days button[name=start]")
    times.first.wait_for()
    _check(page, "reschedule")
    new_start = times.first.get_attribute("value")
    times.first.click()
    page.get_by_role("heading", name="Move your appointment?").wait_for()
    _check(page, "reschedule-confirm")
    page.get_by_role("button", name="Yes, move it").click()
    page.get_by_text("Your appointment has been moved.").wait_for()
    _check(page, "rescheduled")
    returning_client.refresh_from_db()
    assert returning_client.starts_at.isoformat() == new_start

    page.get_by_role("link", name="Cancel appointment").click()
    page.get_by_label("Reason (optional)").fill("Going away")
    _check(page, "cancel")
    page.get_by_role("button", name="Yes, cancel it").click()
    page.get_by_text("Your appointment is cancelled.").wait_for()
    _check(page, "cancelled")
    appt = Appointment.objects.get(pk=returning_client.pk)
    assert appt.status == Status.CANCELLED and not appt.is_late_cancellation


def test_every_portal_and_account_page_is_accessible(  # type: ignore[no-untyped-def]
    browser_page, live_url, returning_client
) -> None:
    page = browser_page
    page.set_viewport_size(PHONE)
    for path, name in [
        ("/account/register/", "account-register"),
        ("/account/sign-in/link/", "account-sign-in-link"),
        ("/account/password-reset/", "account-password-reset"),
        ("/account/check-your-inbox/sign-in-link/", "account-check-inbox"),
    ]:
        page.goto(live_url + path)
        _check(page, name)
    # A form with errors: messages tied to their fields.
    page.goto(live_url + "/account/register/")
    page.get_by_role("button", name="Create account").click()
    page.locator(".field-error").first.wait_for()
    _check(page, "account-register-errors")

    page.goto(live_url + "/account/sign-in/")
    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Upcoming appointments").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    for path, name in [
        ("/portal/", "home-mobile"),
        (f"/portal/appointments/{returning_client.pk}/", "appointment-mobile"),
        (f"/portal/appointments/{returning_client.pk}/reschedule/", "reschedule-mobile"),
        (f"/portal/appointments/{returning_client.pk}/cancel/", "cancel-mobile"),
        ("/portal/profile/", "profile"),
        ("/portal/preferences/", "preferences"),
        ("/portal/courses/", "courses"),
        ("/portal/my-data/", "data"),
        ("/account/sign-out/", "sign-out"),
    ]:
        page.goto(live_url + path)
        _check(page, name)
    page.get_by_role("button", name="Sign out everywhere").click()
    page.get_by_text("signed out on every device").wait_for()


def test_a_client_abroad_sees_clinic_time_and_their_own(  # type: ignore[no-untyped-def]
    browser, live_url, returning_client
) -> None:
    page = new_page(browser, timezone_id="America/New_York")
    try:
        page.goto(live_url + "/account/sign-in/")
        page.get_by_label("Email address").fill(EMAIL)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("heading", name="Upcoming appointments").wait_for()
        page.goto(f"{live_url}/portal/appointments/{returning_client.pk}/reschedule/")
        note = page.locator("[data-zone-note]")
        note.wait_for()
        assert "London time" in note.inner_text() and "New York" in note.inner_text()
        first = page.locator(".week-days button[name=start]").first
        assert "New York" in first.inner_text()
        shot(page, "portal-reschedule-abroad")
    finally:
        close_page(page)


def test_course_chart_and_aftercare_pages_are_accessible(  # type: ignore[no-untyped-def]
    browser_page, live_url, returning_client
) -> None:
    from daisy.booking.courses import SessionTime, course_book
    from daisy.booking.services import appointment_set_status
    from daisy.courses.services import (
        AreaInput,
        course_presets_install,
        plan_accept,
        plan_area_grade,
        plan_create,
    )

    client = returning_client.client
    treatment = returning_client.treatment
    reception = returning_client.booked_by
    specialist = returning_client.specialist.user
    now = timezone.now()
    # A session that took place on a recent weekday, for "Your aftercare".
    day = (now - timedelta(days=1)).date()
    while day.weekday() > 4:
        day -= timedelta(days=1)
    past = appointment_book(
        client=client,
        treatment=treatment,
        starts_at=at(day, 12),
        # Less than 28 days before her next session: a specialist books it with a reason.
        booked_by=specialist,
        gap_reason="An extra session agreed at her review",
        now=now - timedelta(days=14),
    ).appointment
    rescreen_clear(past)
    consent_signed(past)
    appointment_set_status(appointment=past, status=Status.COMPLETED, by=reception, now=now)
    course_presets_install()
    plan = plan_create(client=client, treatment=treatment, by=specialist, now=now,
                       areas=[AreaInput("cheeks", "acne_scars", 3)])  # fmt: skip
    plan = plan_accept(plan=plan, by=reception, now=now)
    first = returning_client.starts_at.date() + timedelta(days=28)
    booked = course_book(
        client=client,
        treatment=treatment,
        booked_by=reception,
        now=now,
        plan=plan,
        session_times=[SessionTime(at(first + timedelta(days=28 * k), 11)) for k in range(4)],
    )
    rescreen_clear(booked.appointments[0])
    consent_signed(booked.appointments[0])
    appointment_set_status(appointment=booked.appointments[0], status=Status.COMPLETED,
                           by=reception, now=now)  # fmt: skip
    plan_area_grade(area=plan.areas.get(), grade=2, by=specialist, now=now)

    page = browser_page
    page.goto(live_url + "/account/sign-in/")
    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Upcoming appointments").wait_for()
    page.goto(f"{live_url}/portal/courses/{plan.pk}/")
    chart = page.get_by_role("img", name="cheeks: Acne scars, grade over time")
    chart.wait_for()
    assert "Session 2 of 4" in page.content()
    _check(page, "course")
    page.goto(f"{live_url}/portal/aftercare/")
    page.get_by_role("heading", name="The whole timeline").wait_for()
    _check(page, "aftercare")
