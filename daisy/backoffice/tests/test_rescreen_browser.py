"""Issue 14 at arrival, in a real browser on an 820x1180 tablet: the specialist opens the
client's appointment, sees that the session cannot start yet (no health questions answered for
it), hands the tablet over; the client sees their last answers and confirms each (one tap per
question, nothing answered for them), hands it back, and the session starts. axe-core finds no
serious or critical problem; screenshots var/screenshots/record-rescreen-*."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
import time_machine
from playwright.sync_api import expect

from daisy.booking.services import appointment_book
from daisy.records.models import ScreeningResponse
from daisy.records.services import screening_evaluate, screening_record
from daisy.scheduling.models import Appointment, Status
from tests.support.browser import assert_accessible, close_page, new_page, shot
from tests.support.testing import (
    MONDAY,
    PRESCREEN_CLEAR,
    at,
    authenticator_code,
    booking_now,
    consent_signed,
    make_client,
    make_clinic,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
expect.set_options(timeout=15_000)

TABLET = {"width": 820, "height": 1180}
DESK_NOW = at(MONDAY, 9, 30)


def _step(page: Any, name: str) -> None:
    assert_accessible(page)
    shot(page, name)


def test_the_client_confirms_their_answers_on_the_tablet_and_the_session_starts(
    browser: Any, live_url: str
) -> None:
    with time_machine.travel(DESK_NOW, tick=True):
        clinic = make_clinic(specialists=1, clients=0)
        specialist = clinic.specialists[0]
        client = make_client(first_name="Nadia", last_name="Okafor")
        appt = appointment_book(
            client=client,
            treatment=clinic.microneedling,
            starts_at=at(MONDAY, 10),
            booked_by=clinic.reception,
            now=booking_now(),
            location=clinic.location,
            specialist=specialist,
        ).appointment
        consent_signed(appt)  # signed in her account: this test is about the health questions
        # What she answered when she booked: retinoids, stopped early December.
        evaluated = screening_evaluate(
            treatment=clinic.microneedling,
            answers={**PRESCREEN_CLEAR, "retinoids": True, "retinoids_on": "2029-12-01"},
            today=date(2029, 12, 31),
        )
        screening_record(
            client=client, evaluated=evaluated, by=None, via="online", now=booking_now()
        )

        page = new_page(browser, viewport=TABLET)
        try:
            path = f"/desk/appointments/{appt.pk}/"
            page.goto(live_url + "/desk/sign-in/?next=" + path)
            page.get_by_label("Username").fill(specialist.user.get_username())
            page.get_by_label("Password").fill("pw-test-123")
            page.get_by_label("Code from your authenticator app").fill(
                authenticator_code(specialist.user)
            )
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(re.compile(re.escape(path) + r"(\?|$)"))
            gate = page.locator("#before-needling")
            expect(gate).to_contain_text("Not ready to start")
            expect(gate).to_contain_text("has not answered the health questions")
            _step(page, "record-rescreen-01-not-ready")

            gate.get_by_role("link", name="Health questions: hand the tablet to the client").click()
            expect(page.get_by_role("heading", level=1)).to_contain_text(
                "Nadia, anything changed since your last answers?"
            )
            expect(page.locator(".desk-nav")).to_have_count(0)
            questions = page.locator("form.rescreen fieldset")
            count = questions.count()
            assert count >= 20
            expect(page.locator("form.rescreen input[type=radio]:checked")).to_have_count(0)
            retinoids = page.locator("#field-retinoids")
            expect(retinoids).to_contain_text("Last time you said yes (1 December 2029).")
            expect(page.locator("#id_retinoids_on")).to_have_value("2029-12-01")
            _step(page, "record-rescreen-02-questions")

            # Sending with one question unanswered is refused, with the question marked.
            for i in range(count - 1):
                questions.nth(i).locator("input[type=radio]").first.check()
            page.get_by_role("button", name="Done: give the tablet back").click()
            expect(page.get_by_role("alert")).to_contain_text("Please answer every question")
            expect(page.locator(".field-error").first).to_be_visible()
            _step(page, "record-rescreen-03-one-missing")
            assert not ScreeningResponse.objects.filter(is_rescreen=True).exists()

            # Nothing changed: the first answer of each ("No, still not", "Yes, still").
            questions = page.locator("form.rescreen fieldset")
            for i in range(questions.count()):
                questions.nth(i).locator("input[type=radio]").first.check()
            page.get_by_role("button", name="Done: give the tablet back").click()
            expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
            _step(page, "record-rescreen-04-hand-back")

            page.get_by_role("link", name="Back to the appointment (staff)").click()
            gate = page.locator("#before-needling")
            expect(gate).to_contain_text("Ready to start")
            _step(page, "record-rescreen-05-ready")
            page.get_by_role("button", name="In treatment", exact=True).click()
            expect(page.locator("#panel")).to_contain_text("In treatment")
            _step(page, "record-rescreen-06-in-treatment")
        finally:
            close_page(page)

    answered = ScreeningResponse.objects.get(is_rescreen=True)
    assert answered.via == "desk" and answered.appointment_id == appt.pk
    assert answered.answers["retinoids"] == {"yes": True, "on": "2029-12-01"}
    assert Appointment.objects.get(pk=appt.pk).status == Status.IN_TREATMENT
