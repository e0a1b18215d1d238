"""Issue 12 items 2 and 3 in a real browser, on a phone (390x844) and a desktop (1280x900).

Pre-care: a new client picks a time a week ahead; the review page lists the preparation steps
that time is too soon for, with the first time that leaves room for all, and says until when
the booking can be changed as a date. Confirming without ticking them is refused with that
message; ticking each books, and the answers are kept. Screenshots: client-precare-*.png.

Moves: a signed-in client moves a session; times are offered with their own specialist first,
"any specialist" on request; the confirm step names who they will see and says that the new
time is inside the no-change window before they confirm. Screenshots: client-move-*.png.

axe-core finds no serious or critical problem on any of these pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from daisy.accounts.models import Role
from daisy.aftercare.models import PrecareConfirmation
from daisy.booking.services import appointment_book
from daisy.scheduling.models import Appointment
from tests.support.browser import PHONE, assert_accessible, close_page, new_page, shot
from tests.support.testing import (
    MICRONEEDLING_ONLINE,
    MONDAY,
    at,
    booking_now,
    make_clinic,
    make_user,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("site_content"),
]

DESKTOP = {"width": 1280, "height": 900}
VIEWPORTS = [pytest.param(PHONE, id="phone"), pytest.param(DESKTOP, id="desktop")]
QUESTIONS = MICRONEEDLING_ONLINE  # the shipped screening table's online questions
PASSWORD = "lavender-fields-42"


def _page(browser, viewport):
    phone = viewport == PHONE
    return new_page(browser, viewport=viewport, has_touch=phone, is_mobile=phone)


def _check(page, name: str) -> None:
    shot(page, name)
    assert_accessible(page)


def _post(page, url: str, fields: dict[str, str]) -> None:
    """Submit the page's own kind of form (with its CSRF token) to `url`: the time chosen as
    the time picker's buttons do, whatever the picker looks like."""
    page.evaluate(
        """([url, fields]) => {
            const form = document.createElement('form');
            form.method = 'post';
            form.action = url;
            const token = document.querySelector('input[name=csrfmiddlewaretoken]');
            const all = {...fields, csrfmiddlewaretoken: token ? token.value : ''};
            for (const [name, value] of Object.entries(all)) {
                const input = document.createElement('input');
                input.type = 'hidden'; input.name = name; input.value = value;
                form.appendChild(input);
            }
            document.body.appendChild(form);
            form.submit();
        }""",
        [url, fields],
    )


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_a_time_too_soon_to_prepare_for_is_asked_step_by_step(browser, live_url, viewport):
    label = "phone" if viewport == PHONE else "desktop"
    with time_machine.travel(booking_now(), tick=True):  # a week before the session
        make_clinic(pens=1)
        page = _page(browser, viewport)
        try:
            page.goto(f"{live_url}/book/?treatment=microneedling")
            page.wait_for_url("**/book/areas/")
            page.get_by_label("Cheeks").check()
            page.get_by_role("button", name="Continue").click()
            page.wait_for_url("**/book/clinic/")
            page.get_by_role("button", name="Show available times").click()
            page.wait_for_url("**/book/time/**")
            _post(page, "/book/time/", {"start": at(MONDAY, 10).isoformat(), "week": "2030-01-07"})
            page.wait_for_url("**/book/details/")
            page.get_by_label("First name").fill("Ada")
            page.get_by_label("Last name").fill("Lovelace")
            page.get_by_label("Email").fill(f"ada-{label}@example.com")
            page.get_by_label("Mobile phone").fill("07700 900123")
            page.get_by_label("Date of birth").fill("1990-05-17")
            page.get_by_role("button", name="Continue").click()
            page.wait_for_url("**/book/health-check/")
            for key in QUESTIONS:
                page.locator(f"input[name={key}][value=no]").check()
            page.get_by_role("button", name="Continue").click()
            page.wait_for_url("**/book/review/")

            steps = page.locator("input[name=precare]")
            assert steps.count() == 2  # two weeks without tanning; two without waxing
            assert page.get_by_text("Not enough time to prepare").is_visible()
            assert page.get_by_text("choose a time from Mon 14 Jan 2030, 08:00").is_visible()
            assert page.get_by_text(
                "You can move or cancel this appointment online until Saturday 5 January"
            ).first.is_visible()
            _check(page, f"client-precare-{label}-review")

            page.get_by_role("button", name="Confirm booking").click()
            page.get_by_text("too soon to prepare for Micro-needling").first.wait_for()
            assert not Appointment.objects.exists()
            _check(page, f"client-precare-{label}-refused")

            for box in page.locator("input[name=precare]").all():
                box.check()
            page.get_by_role("button", name="Confirm booking").click()
            page.wait_for_url("**/book/done/")
            _check(page, f"client-precare-{label}-done")
        finally:
            close_page(page)
    appt = Appointment.objects.get()
    assert PrecareConfirmation.objects.filter(appointment=appt).count() == 2
    assert appt.client.email == f"ada-{label}@example.com"


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_a_move_names_the_specialist_and_the_no_change_window_first(
    browser, live_url, viewport, settings
):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    label = "phone" if viewport == PHONE else "desktop"
    friday = at(MONDAY - timedelta(days=3), 9)  # Friday 4 January 09:00
    with time_machine.travel(friday - timedelta(days=5), tick=False):
        clinic = make_clinic(pens=1)
        own = clinic.specialists[0]
        email = f"mover-{label}@example.com"
        user = make_user(role=Role.CLIENT, email=email, email_verified_at=timezone.now())
        user.set_password(PASSWORD)
        user.save()
        client = clinic.clients[0]
        client.user = user
        client.save()
        appt = appointment_book(
            client=client,
            treatment=clinic.microneedling,
            starts_at=at(MONDAY, 10),
            booked_by=clinic.reception,
            now=timezone.now(),
            specialist=own,
        ).appointment
    with time_machine.travel(friday, tick=True):
        page = _page(browser, viewport)
        try:
            page.goto(
                f"{live_url}/account/sign-in/?next=/portal/appointments/{appt.pk}/reschedule/"
            )
            page.get_by_label("Email address").fill(email)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.get_by_role("heading", name="Choose another time").wait_for()
            assert page.get_by_text(f"Showing times with {own.name}, your specialist.").is_visible()
            _check(page, f"client-move-{label}-times")

            page.get_by_role("link", name="Show times with any specialist").click()
            page.get_by_text("Showing times with any specialist.").wait_for()
            saturday_noon = at(MONDAY - timedelta(days=2), 12).isoformat()
            page.locator(f"button[name=start][value='{saturday_noon}']").click()
            page.get_by_role("heading", name="Move your appointment?").wait_for()
            warning = page.get_by_text("This new time is less than 48 hours away")
            assert warning.is_visible()
            assert page.get_by_text("cannot be moved online again").is_visible()
            # Who the client will see is named before they confirm.
            assert page.locator("[data-specialist]").is_visible()
            _check(page, f"client-move-{label}-confirm")

            page.get_by_role("button", name="Yes, move it").click()
            page.get_by_text("Your appointment has been moved.").wait_for()
            assert page.get_by_text("it can no longer be moved online").is_visible()
            _check(page, f"client-move-{label}-moved")
        finally:
            close_page(page)
    appt.refresh_from_db()
    assert appt.starts_at == at(MONDAY - timedelta(days=2), 12)
