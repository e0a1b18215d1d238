"""The desk in a real browser at 1,440x900 (issue 13, acceptance): a waiting client is offered a
freed time and accepts it; a closure lists the bookings it breaks before it is saved, and
reception then cancels the broken booking from the affected list with the keyboard alone.
Screenshots: var/screenshots/desk-*; axe-core: no serious or critical problems on desk pages."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from playwright.sync_api import expect

from daisy.booking.services import appointment_book, appointment_cancel
from daisy.notifications.models import Message
from daisy.scheduling.models import Appointment, Status
from tests.support.browser import assert_accessible, close_page, new_page, shot, staff_sign_in
from tests.support.testing import at, authenticator_code, make_client, make_clinic

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESK = {"width": 1440, "height": 900}


def _day() -> date:
    # The live server reads the real clock: a working day (not Sunday) ten days ahead.
    day = date.today() + timedelta(days=10)
    return day + timedelta(days=1) if day.weekday() == 6 else day


def _sign_in(page: Any, live_url: str, username: str, path: str) -> None:
    page.goto(live_url + "/desk/sign-in/?next=" + path)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("pw-test-123")
    user = get_user_model().objects.get(username=username)
    page.get_by_label("Code from your authenticator app").fill(authenticator_code(user))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(re.escape(path)))


def test_a_waiting_client_is_offered_a_freed_time_and_takes_it(browser: Any, live_url: str) -> None:
    day = _day()
    clinic = make_clinic(specialists=1)
    wren = make_client(first_name="Wren", last_name="Hollis", phone="+447700900017")
    booked = appointment_book(
        client=clinic.clients[0],
        treatment=clinic.microneedling,
        starts_at=at(day, 10),
        booked_by=clinic.reception,
        now=timezone.now(),
        location=clinic.location,
    ).appointment
    desk = new_page(browser, viewport=DESK)
    try:
        _sign_in(desk, live_url, clinic.reception.username, "/desk/clients/")
        desk.get_by_label("Name, email or phone").fill("07700 900017")
        desk.get_by_label("Name, email or phone").press("Enter")
        desk.get_by_role("link", name="Wren Hollis").click()
        expect(desk.get_by_role("heading", name="Wren Hollis")).to_be_visible()
        assert_accessible(desk)
        shot(desk, "desk-client-file")
        desk.get_by_role("link", name="Put on the waitlist").click()
        desk.get_by_label("Treatment").select_option(label="Micro-needling")
        assert_accessible(desk)
        shot(desk, "desk-waitlist-add")
        desk.get_by_role("button", name="Put on the waitlist").click()
        desk.get_by_text("Wren Hollis is on the waitlist").wait_for()

        # The 10:00 client cancels: the time is offered to Wren by message.
        appointment_cancel(appointment=booked, by=clinic.reception, now=timezone.now())
        desk.reload()
        assert desk.get_by_role("button", name="Book it for them").is_visible()
        assert_accessible(desk)
        shot(desk, "desk-waitlist-offered")

        message = Message.objects.get(client=wren, channel="email", about__startswith="waitlist")
        link = message.context["link"]
        offer_path = link[link.index("/waitlist/offers/") :]
        phone = new_page(browser, viewport=DESK)
        try:
            phone.goto(live_url + offer_path)
            assert phone.get_by_role("heading", name="Wren, a time has come free").is_visible()
            # The health questions (each a group with Yes and No), then the preparation steps
            # the client already follows: a freed time is usually too soon to prepare in full.
            for group in phone.get_by_role("group").all():
                no = group.get_by_label("No", exact=True)
                if no.count():
                    no.check()
            for box in phone.locator("input[name=precare]").all():
                box.check()
            shot(phone, "desk-waitlist-offer-link")
            phone.get_by_role("button", name="Accept this time").click()
            phone.get_by_role("heading", name="It is yours: you are booked").wait_for()
            assert_accessible(phone)
            shot(phone, "desk-waitlist-offer-accepted")
        finally:
            close_page(phone)

        desk.goto(live_url + f"/desk/clients/{wren.pk}/")
        assert desk.get_by_text("Booked from the waitlist").first.is_visible()
        shot(desk, "desk-client-file-booked")
    finally:
        close_page(desk)
    taken = Appointment.objects.get(client=wren)
    assert taken.status == Status.BOOKED and taken.starts_at == at(day, 10)


def test_a_closure_lists_what_it_breaks_and_reception_clears_the_list(
    browser: Any, live_url: str
) -> None:
    day = _day()
    clinic = make_clinic(specialists=1)
    broken = appointment_book(
        client=clinic.clients[0],
        treatment=clinic.microneedling,
        starts_at=at(day, 11),
        booked_by=clinic.reception,
        now=timezone.now(),
        location=clinic.location,
    ).appointment
    admin = new_page(browser, viewport=DESK)
    try:
        staff_sign_in(admin, live_url, clinic.manager, next_url="/admin/clinic/closure/add/")
        admin.locator("#id_on").fill(day.isoformat())
        admin.locator("#id_name").fill("Burst pipe")
        admin.get_by_role("button", name="Save", exact=True).click()
        expect(admin.get_by_role("heading", name="These bookings no longer fit")).to_be_visible()
        assert admin.get_by_text(clinic.clients[0].full_name).is_visible()
        shot(admin, "desk-closure-affected")
        admin.get_by_role("button", name="Save and list these bookings on the desk").click()
        admin.get_by_text(re.compile("no longer fits")).first.wait_for()
        shot(admin, "desk-closure-saved")
    finally:
        close_page(admin)

    desk = new_page(browser, viewport=DESK)
    try:
        _sign_in(desk, live_url, clinic.reception.username, "/desk/worklist/")
        row = desk.locator(f"#affected-{broken.pk}")
        assert "Burst pipe" in row.inner_text()
        assert_accessible(desk)
        shot(desk, "desk-worklist")
        # Keyboard alone: focus the reason, change it, Tab to "Cancel and tell the client", Enter.
        reason = row.get_by_label("Reason the client reads")
        reason.focus()
        desk.keyboard.press("Control+A")
        desk.keyboard.type("The clinic is closed that day. Sorry: please book again.")
        desk.keyboard.press("Tab")
        desk.keyboard.press("Enter")
        desk.get_by_text("booking is cancelled and they have been told").wait_for()
        assert desk.get_by_text("Nothing to do").is_visible()
        assert_accessible(desk)
        shot(desk, "desk-worklist-done")
    finally:
        close_page(desk)
    broken.refresh_from_db()
    assert broken.status == Status.CANCELLED
