"""Issue 14's acceptance, end to end on one 820x1180 tablet: a specialist takes a new client from
arrival to a completed session. The panel says the session cannot start; the client answers the
health questions on the tablet and signs the consent with a finger; the specialist takes the
five baseline photos, starts the session, charts it on the face map, signs the chart and marks
the session completed. axe-core finds no serious or critical problem at any step; screenshots
var/screenshots/record-new-client-*. (The repeat client's chart, counted in taps, is
test_chart_browser.py.)"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import time_machine
from playwright.sync_api import expect

from daisy.booking.services import appointment_book, appointment_set_status
from daisy.records.models import Chart, Consent, Photo, ScreeningResponse
from daisy.records.services import screening_evaluate, screening_record
from daisy.scheduling.models import Appointment, Status
from tests.support.browser import assert_accessible, close_page, new_page, shot
from tests.support.photos import phone_jpeg
from tests.support.testing import (
    MONDAY,
    PRESCREEN_CLEAR,
    at,
    authenticator_code,
    booking_now,
    make_client,
    make_clinic,
)

from .test_consent_browser import _touch_stroke

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
expect.set_options(timeout=15_000)

TABLET = {"width": 820, "height": 1180}
VIEWS = (
    ("front", "Front"),
    ("left_45", "Left 45°"),
    ("left_90", "Left 90° (profile)"),
    ("right_45", "Right 45°"),
    ("right_90", "Right 90° (profile)"),
)


def _step(page: Any, name: str) -> None:
    assert_accessible(page)
    shot(page, f"record-new-client-{name}")


def test_a_new_client_from_arrival_to_a_completed_charted_session(
    browser: Any, live_url: str, settings: Any, tmp_path: Path
) -> None:
    settings.DAISY_PHOTO_DIR = tmp_path / "photos"
    with time_machine.travel(at(MONDAY, 9, 30), tick=True):
        clinic = make_clinic(specialists=1, clients=0)
        specialist = clinic.specialists[0].user
        ada = make_client(first_name="Ada", last_name="Brooks")
        appt = appointment_book(
            client=ada,
            treatment=clinic.microneedling,
            starts_at=at(MONDAY, 10),
            booked_by=clinic.reception,
            now=booking_now(),
            location=clinic.location,
            specialist=clinic.specialists[0],
        ).appointment
        # She answered the online health questions when she booked: nothing to stop her.
        screening_record(
            client=ada,
            evaluated=screening_evaluate(
                treatment=clinic.microneedling, answers=PRESCREEN_CLEAR, today=MONDAY
            ),
            by=None,
            via="online",
            now=booking_now(),
        )
        appointment_set_status(
            appointment=appt, status=Status.CHECKED_IN, by=clinic.reception, now=at(MONDAY, 9, 30)
        )

        page = new_page(browser, viewport=TABLET, has_touch=True)
        try:
            path = f"/desk/appointments/{appt.pk}/"
            page.goto(live_url + "/desk/sign-in/?next=" + path)
            page.get_by_label("Username").fill(specialist.get_username())
            page.get_by_label("Password").fill("pw-test-123")
            page.get_by_label("Code from your authenticator app").fill(
                authenticator_code(specialist)
            )
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(re.compile(re.escape(path) + r"(\?|$)"))
            gate = page.locator("#before-needling")
            expect(gate).to_contain_text("Not ready to start")
            expect(page.get_by_role("heading", name="Consent not signed")).to_be_visible()
            _step(page, "01-arrived-not-ready")

            # 1. The health questions, answered by Ada on the tablet: nothing has changed.
            gate.get_by_role("link", name="Health questions: hand the tablet to the client").click()
            expect(page.get_by_role("heading", level=1)).to_contain_text("Ada")
            questions = page.locator("form.rescreen fieldset")
            for i in range(questions.count()):
                questions.nth(i).locator("input[type=radio]").first.check()
            _step(page, "02-health-questions")
            page.get_by_role("button", name="Done: give the tablet back").click()
            expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
            page.get_by_role("link", name="Back to the appointment (staff)").click()
            expect(page.locator("#before-needling")).not_to_contain_text(
                "has not answered the health questions"
            )

            # 2. The consent, signed with her finger, with photos for her clinical record.
            page.get_by_role("link", name="Hand the tablet to the client to sign").click()
            expect(page.get_by_role("heading", name="Ada, please read and sign")).to_be_visible()
            agree = "I have read this consent, I understand it, and I agree to it."
            page.get_by_label(agree).check()
            page.get_by_label("Yes, the clinic may take photos for my clinical record.").check()
            page.get_by_label("Your full name").fill("Ada Brooks")
            canvas = page.locator("canvas.signature-canvas")
            canvas.scroll_into_view_if_needed()
            _touch_stroke(
                canvas,
                [(0.1, 0.7), (0.2, 0.3), (0.3, 0.7), (0.42, 0.3), (0.55, 0.7), (0.7, 0.4)],
                pointer_id=7,
            )
            expect(page.get_by_text("Signature drawn.")).to_be_visible()
            _step(page, "03-consent-drawn")
            page.get_by_role("button", name="Sign", exact=True).click()
            expect(page.get_by_role("heading", name="Thank you, Ada")).to_be_visible()
            page.get_by_role("link", name="Staff: back to the appointment").click()
            expect(page.get_by_role("heading", name="Consent signed")).to_be_visible()
            expect(page.locator("#before-needling")).to_contain_text("Ready to start")
            _step(page, "04-ready")

            # 3. The baseline photos: the front one from the camera, the others uploaded.
            page.get_by_role("link", name="Photos of this session").click()
            expect(page.get_by_role("heading", level=1)).to_contain_text("session 1")
            for n, (view, label) in enumerate(VIEWS):
                field = "cam" if view == "front" else "file"
                page.locator(f"#{field}-{view}").set_input_files(
                    {
                        "name": "IMG_2001.jpg",
                        "mimeType": "image/jpeg",
                        "buffer": phone_jpeg(colour=(190, 120, 90 + n)),
                    }
                )
                page.get_by_role("button", name=f"Save the {label} photo").click()
                expect(page.get_by_text(f"Saved: {label}")).to_be_visible()
            _step(page, "05-baseline-photos")

            # 4. Needling starts.
            page.goto(live_url + path)
            page.get_by_role("button", name="In treatment", exact=True).click()
            expect(page.locator("#panel")).to_contain_text("In treatment")
            _step(page, "06-in-treatment")

            # 5. The chart: two zones on the face map, the cartridge, signed.
            page.get_by_role("link", name="Write the chart").click()
            expect(page.get_by_role("heading", name="Treatment chart: Ada Brooks")).to_be_visible()
            # The heading shows before the page's deferred script has bound the face map: a tap
            # in that moment does nothing (CI saw it), so wait for the page to finish loading.
            page.wait_for_load_state()
            # Tapped on the face map (the keyboard path is test_chart_browser.py's).
            for zone in ("forehead", "cheek_left"):
                tapped = page.locator(f'.face-map .zone[data-zone="{zone}"]')
                tapped.click()
                expect(tapped).to_have_attribute("aria-pressed", "true")
            page.locator("#id_z_forehead_depth").fill("0.5")
            page.locator("#id_z_cheek_left_depth").fill("1.0")
            page.locator("#id_cartridge_name").fill("SkinPen 14-pin cartridge")
            page.locator("#id_cartridge_lot").fill("CART-2030")
            page.locator("#id_cartridge_expires_on").fill("2031-06-30")
            page.get_by_label("Sealed single-use cartridge opened at the chair").check()
            page.locator("#id_skin_type").select_option("2")
            page.get_by_label("Aftercare sheet given").check()
            _step(page, "07-chart")
            page.get_by_role("button", name="Sign the chart").click()
            expect(page.get_by_text("Chart signed.")).to_be_visible()

            # 6. Completed.
            page.get_by_role("link", name="Back to the appointment").click()
            expect(page.locator(".panel-chart")).to_contain_text("Charted")
            page.get_by_role("button", name="Completed", exact=True).click()
            expect(page.locator("#panel")).to_contain_text("Completed")
            _step(page, "08-completed")
        finally:
            close_page(page)

    appt = Appointment.objects.get(pk=appt.pk)
    assert appt.status == Status.COMPLETED
    rescreen = ScreeningResponse.objects.get(appointment=appt, is_rescreen=True)
    assert rescreen.via == "desk"
    consent = Consent.objects.get(client=ada, kind="treatment")
    assert consent.method == "drawn" and consent.taken_by == specialist
    assert Photo.objects.filter(appointment=appt).count() == len(VIEWS)
    chart = Chart.objects.get(appointment=appt)
    assert chart.is_signed
    assert {a.zone for a in chart.areas.all()} == {"forehead", "cheek_left"}
