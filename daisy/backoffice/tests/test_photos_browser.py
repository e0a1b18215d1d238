"""Clinical photos on a specialist's tablet, in a real browser (issue 14, item 7).

At 820x1180 a specialist takes a new client's five baseline photos (front, left and right 45°
and 90°; the front one through the camera input, the rest as files), then at session 2 sees
session 1's front photo as a ghost over the photo just taken, fades it with the keyboard, saves
it, and compares session 1 with session 2 with the slider moved by the arrow keys. axe-core
finds no serious or critical problem on any of these pages; screenshots are
var/screenshots/record-photos-*.png."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from daisy.booking.services import appointment_book
from daisy.records.models import Photo
from tests.support.browser import assert_accessible, close_page, new_page, shot
from tests.support.photos import phone_jpeg, photo_consent
from tests.support.testing import MONDAY, at, authenticator_code, booking_now, make_clinic

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
expect.set_options(timeout=15_000)

TABLET = {"width": 820, "height": 1180}
STANDARD = (
    ("front", "Front"),
    ("left_45", "Left 45°"),
    ("left_90", "Left 90° (profile)"),
    ("right_45", "Right 45°"),
    ("right_90", "Right 90° (profile)"),
)


def _jpeg(colour: tuple[int, int, int]) -> dict[str, Any]:
    return {"name": "IMG_1001.jpg", "mimeType": "image/jpeg", "buffer": phone_jpeg(colour=colour)}


def _save(page: Any, view: str, label: str, field: str, colour: tuple[int, int, int]) -> None:
    page.locator(f"#{field}-{view}").set_input_files(_jpeg(colour))
    page.get_by_role("button", name=f"Save the {label} photo").click()
    expect(page.get_by_text(f"Saved: {label}")).to_be_visible()


def test_baseline_then_ghost_then_comparison_on_a_tablet(
    browser: Any, live_server: Any, settings: Any, tmp_path: Path
) -> None:
    settings.DAISY_PHOTO_DIR = tmp_path / "photos"
    clinic = make_clinic(specialists=1, rooms=1, pens=1, clients=1)
    person = clinic.clients[0]
    sessions = [
        appointment_book(
            client=person,
            treatment=clinic.microneedling,
            starts_at=at(MONDAY + timedelta(weeks=weeks), 10),
            booked_by=clinic.reception,
            now=booking_now(),
            location=clinic.location,
        ).appointment
        for weeks in (0, 5)
    ]
    specialist = clinic.specialists[0].user
    photo_consent(person, by=specialist, now=booking_now())
    base = str(live_server.url).rstrip("/")
    first = f"/desk/appointments/{sessions[0].pk}/photos/"
    second = f"/desk/appointments/{sessions[1].pk}/photos/"

    page = new_page(browser, viewport=TABLET)
    try:
        page.goto(f"{base}/desk/sign-in/?next={first}")
        page.get_by_label("Username").fill(specialist.get_username())
        page.get_by_label("Password").fill("pw-test-123")
        page.get_by_label("Code from your authenticator app").fill(authenticator_code(specialist))
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(re.compile(re.escape(first) + r"(#.*)?$"))
        expect(page.get_by_role("heading", level=1)).to_contain_text("session 1")
        assert page.locator("[data-ghost]").count() == 0  # nothing earlier to line up with

        for n, (view, label) in enumerate(STANDARD):
            _save(page, view, label, "cam" if view == "front" else "file", (200, 120, 90 + n))
        assert Photo.objects.filter(appointment=sessions[0]).count() == 5
        assert Photo.objects.get(appointment=sessions[0], view="front").source == "camera"
        expect(page.locator("#view-right_90 [data-taken]")).to_be_visible()
        assert_accessible(page)
        shot(page, "record-photos-baseline")

        # Session 2: session 1's photo shows through the one just taken.
        page.goto(base + second)
        expect(page.get_by_role("heading", level=1)).to_contain_text("session 2")
        card = page.locator("#view-front")
        ghost = card.locator("#ghost-front")
        expect(ghost).to_be_visible()
        card.locator("#cam-front").set_input_files(_jpeg((90, 150, 200)))
        preview = card.locator("[data-preview]")
        expect(preview).to_be_visible()
        assert preview.get_attribute("src").startswith("data:image/jpeg")
        assert ghost.evaluate("g => getComputedStyle(g).opacity") == "0.4"
        strength = card.get_by_label(re.compile("Baseline ghost"))
        strength.focus()
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowRight")
        assert ghost.evaluate("g => getComputedStyle(g).opacity") == "0.5"
        card.scroll_into_view_if_needed()
        assert_accessible(page)
        shot(page, "record-photos-ghost")
        card.get_by_role("button", name="Save the Front photo").click()
        expect(page.get_by_text("Saved: Front, session 2.")).to_be_visible()

        # Session 1 against session 2, by the keyboard.
        page.goto(f"{base}/desk/clients/{person.pk}/photos/")
        row = page.locator("#compare-front")
        expect(row.get_by_role("img", name="Front, session 1")).to_be_visible()
        expect(row.get_by_role("img", name="Front, session 2")).to_be_visible()
        slider = row.get_by_role("slider")
        slider.focus()
        for _ in range(10):
            page.keyboard.press("ArrowLeft")
        assert slider.input_value() == "40"
        after = row.locator("[data-compare-after]")
        assert after.evaluate("a => a.style.clipPath") == "inset(0px 0px 0px 40%)"
        assert "on the left 40%" in (slider.get_attribute("aria-valuetext") or "")
        page.keyboard.press("End")
        assert slider.input_value() == "100"
        page.keyboard.press("Home")
        for _ in range(3):
            page.keyboard.press("ArrowRight")
        assert_accessible(page)
        shot(page, "record-photos-compare")
    finally:
        close_page(page)
