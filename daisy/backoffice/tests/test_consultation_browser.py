"""A consultation in a real browser on an 820x1180 tablet (issue 14, item 2).

A specialist opens the client's file, starts a consultation, records the skin type (chosen from
its plain description), a concern on the right cheek and the client's goals, goes through the
medical history (the questions asked only in person first) and signs with the keyboard; the
signed page is read-only and an amendment is added with a reason. Nothing is wider than the
screen; axe-core finds no serious or critical problem on each page; screenshots are
var/screenshots/record-consultation-*.png."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from daisy.records.models import Consultation, ConsultationAmendment, ScreeningResponse
from tests.support.browser import assert_accessible, close_page, new_page, shot
from tests.support.testing import authenticator_code, make_client, make_clinic

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
expect.set_options(timeout=15_000)

TABLET = {"width": 820, "height": 1180}


def _step(page: Any, name: str) -> None:
    assert_accessible(page)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= TABLET["width"], f"{name}: the page is {width}px wide"
    shot(page, f"record-consultation-{name}")


def test_a_specialist_holds_and_signs_a_consultation_on_a_tablet(
    browser: Any, live_url: str
) -> None:
    clinic = make_clinic()
    person = make_client(first_name="Nadia", last_name="Okafor")
    specialist = clinic.specialists[0].user
    page = new_page(browser, viewport=TABLET, has_touch=True)
    try:
        path = f"/desk/clients/{person.pk}/"
        page.goto(live_url + "/desk/sign-in/?next=" + path)
        page.get_by_label("Username").fill(specialist.get_username())
        page.get_by_label("Password").fill("pw-test-123")
        page.get_by_label("Code from your authenticator app").fill(authenticator_code(specialist))
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(re.compile(re.escape(path) + r"(\?|$)"))

        page.get_by_role("link", name="Consultations").click()
        expect(page.get_by_role("heading", name="Start a consultation")).to_be_visible()
        _step(page, "start")
        page.get_by_role("button", name="Start the consultation").click()
        expect(page.get_by_role("heading", name="Skin type, concerns and goals")).to_be_visible()
        _step(page, "new")

        page.get_by_role("radio", name=re.compile("Moderate brown skin")).check()
        page.get_by_label("Concern: Right cheek").select_option("acne_scars")
        page.get_by_label("Note: Right cheek").fill("rolling scars")
        page.get_by_label("The client's goals, in their words").fill("Smoother cheeks")
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_text("Saved.")).to_be_visible()
        consultation = Consultation.objects.get(client=person)
        assert consultation.skin_type == 4

        history = page.locator("form[action$='/history/']")
        expect(history.get_by_role("heading", name="Asked only here, in person")).to_be_visible()
        _step(page, "history")
        for radio in history.locator("input[type=radio][value=no]").all():
            radio.check()
        history.get_by_role("button", name="Record the medical history").click()
        expect(page.get_by_text(re.compile("Medical history recorded"))).to_be_visible()
        response = ScreeningResponse.objects.get(client=person)
        assert response.via == "consultation" and response.answers["dark_skin"] == {"yes": True}

        sign = page.get_by_role("button", name="Sign the consultation")
        sign.focus()
        page.keyboard.press("Enter")
        expect(page.get_by_text(re.compile("Signed by"))).to_be_visible()
        _step(page, "signed")
        consultation.refresh_from_db()
        assert consultation.signed_by_id == specialist.pk
        expect(page.get_by_role("button", name="Save")).to_have_count(0)

        page.get_by_role("link", name="Amend (with a reason)").click()
        page.get_by_label("The client's goals, in their words").fill("Smoother cheeks by June")
        page.get_by_label("Why it is amended").fill("The client added a date")
        _step(page, "amend")
        page.get_by_role("button", name="Add the amendment").click()
        expect(page.get_by_text("The client added a date")).to_be_visible()
        _step(page, "amended")
        (amendment,) = ConsultationAmendment.objects.filter(consultation=consultation)
        assert amendment.field == "goals" and amendment.after == "Smoother cheeks by June"
    finally:
        close_page(page)
