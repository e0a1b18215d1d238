"""Issue 11's first finding, end to end in a real browser: a specialist has deferred Willow Hall
(toxin in the area); reception signs in and books her by phone through /book/ with her own
name, email and phone. The booking is stopped with the reason, and no second Willow Hall exists.
Screenshots: var/screenshots/phone-booking-*.png."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from daisy.clients.accounts import client_login_grant
from daisy.clients.models import Client, Contraindication, Tier
from daisy.scheduling.models import Appointment
from tests.support.browser import assert_accessible, shot, staff_sign_in
from tests.support.testing import MICRONEEDLING_ONLINE, MONDAY, booking_now, make_clinic

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("site_content"),
]

QUESTIONS = MICRONEEDLING_ONLINE


@pytest.fixture
def clinic():
    with time_machine.travel(booking_now(), tick=True):
        yield make_clinic(pens=1)


def test_reception_cannot_book_a_deferred_client_by_phone_and_makes_no_duplicate(
    browser_page, live_url, clinic
):
    page = browser_page
    willow = clinic.clients[0]
    willow.first_name, willow.last_name = "Willow", "Hall"
    willow.email, willow.phone = "willow.hall@example.com", "+447700900017"
    willow.save()
    client_login_grant(client=willow, password="a-long-password-1", now=booking_now())
    Contraindication.objects.create(
        client=willow,
        condition="Botulinum toxin in the area",
        tier=Tier.DEFER,
        until_on=MONDAY + timedelta(days=30),
        recorded_by=clinic.specialists[0].user,
    )
    staff_sign_in(page, live_url, clinic.reception, next_url="/book/")
    page.goto(f"{live_url}/book/?treatment=microneedling")
    page.get_by_label("Cheeks").check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Show available times").click()
    page.wait_for_url("**/book/time/")
    page.get_by_role("link", name="Next week").click()
    page.get_by_role("heading", name="Monday 7 January 2030").wait_for()
    page.get_by_role("button", name="Mon 7 Jan 2030, 10:00 London time").click()
    page.wait_for_url("**/book/details/")
    page.get_by_label("First name").fill("Willow")
    page.get_by_label("Last name").fill("Hall")
    page.get_by_label("Email").fill("Willow.Hall@example.com")
    page.get_by_label("Mobile phone").fill("07700 900017")
    page.get_by_label("Date of birth").fill("1988-04-02")
    shot(page, "phone-booking-01-details")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/book/health-check/")
    for key in QUESTIONS:
        page.locator(f"input[name={key}][value=no]").check()
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/book/review/")
    page.get_by_role("button", name="Confirm booking").click()
    stop = page.get_by_text("Willow Hall has an open screening finding")
    stop.wait_for()
    shot(page, "phone-booking-02-stopped")
    assert_accessible(page)
    assert "Botulinum toxin in the area" in stop.inner_text()
    assert not Appointment.objects.exists()
    assert Client.objects.filter(email__iexact="willow.hall@example.com").count() == 1
