"""Issue 12 in a real browser on a 390x844 phone and a 1280x900 desktop, items 1 and 6: a
16-year-old who books micro-needling is told at the details step, in words, that it is for
people aged 18 or over on the day (and nothing is booked); an LED light client is asked the
questions that matter for light (a recent tan, medicines that make skin sensitive to light,
tattoos in the area) and not the needling ones. axe-core on each page; screenshots:
var/screenshots/client-age-*.png and client-questions-led-*.png."""

from __future__ import annotations

import pytest
import time_machine

from daisy.clinic.models import DeviceKind
from daisy.scheduling.models import Appointment
from tests.support.browser import PHONE, assert_accessible, close_page, new_page, shot
from tests.support.testing import booking_now, make_clinic, make_device

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("site_content"),
]

VIEWPORTS = {"phone": PHONE, "desktop": {"width": 1280, "height": 900}}


@pytest.fixture
def clinic():
    with time_machine.travel(booking_now(), tick=True):
        clinic = make_clinic()
        make_device(clinic.location, name="LED panel", device_kind=DeviceKind.LED_PANEL)
        yield clinic


def _to_details(page, live_url: str, treatment: str) -> None:
    page.goto(f"{live_url}/book/?treatment={treatment}")
    if "/book/areas/" in page.url:
        page.locator("input[name=areas]").first.check()
        page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/book/clinic/")
    page.get_by_role("button", name="Show available times").click()
    page.wait_for_url("**/book/time/**")
    page.locator("#picker .times button").first.click()
    page.wait_for_url("**/book/details/")


def _details(page, *, born: str, email: str) -> None:
    page.get_by_label("First name").fill("Robin")
    page.get_by_label("Last name").fill("Marsh")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Mobile phone").fill("07700 900456")
    page.get_by_label("Date of birth").fill(born)
    page.get_by_role("button", name="Continue").click()


@pytest.mark.parametrize("device", VIEWPORTS)
def test_a_sixteen_year_old_is_told_micro_needling_is_for_adults(browser, live_url, clinic, device):
    page = new_page(browser, viewport=VIEWPORTS[device])
    try:
        _to_details(page, live_url, "microneedling")
        _details(page, born="2013-06-01", email=f"robin.{device}@example.com")  # 16 in 2030
        message = page.get_by_text("only for people aged 18 or over on the day of the appointment")
        message.first.wait_for()
        assert "/book/details/" in page.url
        assert_accessible(page)
        shot(page, f"client-age-{device}")
    finally:
        close_page(page)
    assert not Appointment.objects.exists()


@pytest.mark.parametrize("device", VIEWPORTS)
def test_an_led_client_is_asked_the_questions_for_light(browser, live_url, clinic, device):
    page = new_page(browser, viewport=VIEWPORTS[device])
    try:
        _to_details(page, live_url, "led-therapy")
        _details(page, born="1990-05-17", email=f"robin.{device}@example.com")
        page.wait_for_url("**/book/health-check/")
        for words in [
            "has the area been tanned by the sun or a sunbed?",
            "makes your skin sensitive to light",
            "Do you have a tattoo or permanent make-up in the area?",
        ]:
            assert page.get_by_text(words).first.is_visible(), words
        # Needling questions are not the light client's business.
        assert page.get_by_text("numbing cream").count() == 0
        assert_accessible(page)
        shot(page, f"client-questions-led-{device}")
    finally:
        close_page(page)
