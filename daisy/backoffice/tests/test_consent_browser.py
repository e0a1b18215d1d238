"""Consent signed in a real browser on an 820x1180 tablet (issue 14 item 4).

1. At the desk: the specialist opens the appointment, hands the tablet over, and the client
   signs with a finger: touch pointer events drawn on the canvas (and a second stroke with the
   mouse). The stored PNG has ink on it, the specialist is the consent-taker, and the panel then
   says the consent is signed.
2. In the portal, keyboard only: the client tabs to the box, ticks it with Space, types their
   full name, picks "Type my full name" with the arrow keys and signs with Enter.

axe-core finds no serious or critical problem on each page; screenshots are
var/screenshots/record-consent-*.png."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from PIL import Image
from playwright.sync_api import expect

from daisy.accounts.models import Role
from daisy.booking.services import appointment_book
from daisy.records.models import Consent
from tests.support.browser import assert_accessible, close_page, new_page, shot
from tests.support.testing import LONDON, authenticator_code, make_client, make_clinic, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
expect.set_options(timeout=15_000)

TABLET = {"width": 820, "height": 1180}
PASSWORD = "lavender-fields-42"


def _future_morning(days: int, hour: int) -> Any:
    day = (timezone.now().astimezone(LONDON) + timedelta(days=days)).date()
    while day.weekday() == 6:  # the test clinic is closed on Sundays
        day += timedelta(days=1)
    return timezone.datetime.combine(day, timezone.datetime.min.time().replace(hour=hour), LONDON)


def _book(clinic: Any, client: Any, hour: int) -> Any:
    return appointment_book(
        client=client,
        treatment=clinic.microneedling,
        starts_at=_future_morning(3, hour),
        booked_by=clinic.reception,
        now=timezone.now(),
        location=clinic.location,
        specialist=clinic.specialists[0],
    ).appointment


def _step(page: Any, name: str) -> None:
    assert_accessible(page)
    shot(page, f"record-consent-{name}")


def _sign_in_staff(page: Any, live_url: str, user: Any, path: str) -> None:
    page.goto(live_url + "/desk/sign-in/?next=" + path)
    page.get_by_label("Username").fill(user.get_username())
    page.get_by_label("Password").fill("pw-test-123")
    page.get_by_label("Code from your authenticator app").fill(authenticator_code(user))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(re.escape(path) + r"(\?|$)"))


def _touch_stroke(canvas: Any, points: list[tuple[float, float]], pointer_id: int) -> None:
    """One stroke with a finger: pointerdown, pointermove..., pointerup of pointerType touch,
    at points given as fractions of the canvas."""
    box = canvas.bounding_box()

    def init(kind: str, fx: float, fy: float) -> dict[str, Any]:
        return {
            "pointerId": pointer_id,
            "pointerType": "touch",
            "isPrimary": True,
            "clientX": box["x"] + fx * box["width"],
            "clientY": box["y"] + fy * box["height"],
            "button": 0,
            "buttons": 0 if kind == "pointerup" else 1,
            "pressure": 0 if kind == "pointerup" else 0.5,
            "bubbles": True,
            "cancelable": True,
        }

    first, *rest = points
    canvas.dispatch_event("pointerdown", init("pointerdown", *first))
    for point in rest:
        canvas.dispatch_event("pointermove", init("pointermove", *point))
    canvas.dispatch_event("pointerup", init("pointerup", *rest[-1]))


def _ink(png: bytes) -> tuple[int, int, int, int] | None:
    """The box of the drawn pixels (None: nothing drawn)."""
    with Image.open(io.BytesIO(png)) as image:
        return image.getchannel("A").getbbox()


def test_signed_with_a_finger_on_the_desks_tablet(browser: Any, live_url: str) -> None:
    clinic = make_clinic(clients=0)
    client = make_client(first_name="Zoë", last_name="Łukasiewicz")
    appt = _book(clinic, client, 10)
    specialist = clinic.specialists[0].user
    page = new_page(browser, viewport=TABLET, has_touch=True)
    try:
        path = f"/desk/appointments/{appt.pk}/"
        _sign_in_staff(page, live_url, specialist, path)
        expect(page.get_by_role("heading", name="Consent not signed")).to_be_visible()
        _step(page, "01-panel-not-signed")

        page.get_by_role("link", name="Hand the tablet to the client to sign").click()
        expect(page.get_by_role("heading", name="Zoë, please read and sign")).to_be_visible()
        expect(page.locator(".desk-nav")).to_have_count(0)  # nothing of the desk to wander into
        _step(page, "02-tablet")

        page.get_by_label("I have read this consent, I understand it, and I agree to it.").check()
        page.get_by_label("Yes, the clinic may take photos for my clinical record.").check()
        page.get_by_label("Your full name").fill("Zoë Łukasiewicz")
        expect(page.get_by_label("Draw my signature")).to_be_checked()
        canvas = page.locator("canvas.signature-canvas")
        canvas.scroll_into_view_if_needed()
        _touch_stroke(
            canvas,
            [(0.08, 0.7), (0.16, 0.3), (0.24, 0.72), (0.34, 0.28), (0.46, 0.7), (0.6, 0.4)],
            pointer_id=11,
        )
        # A second stroke with the mouse: the same pointer events, pointerType mouse.
        box = canvas.bounding_box()
        page.mouse.move(box["x"] + 0.62 * box["width"], box["y"] + 0.5 * box["height"])
        page.mouse.down()
        for k in range(1, 8):
            x = box["x"] + (0.62 + 0.04 * k) * box["width"]
            y = box["y"] + (0.5 + (0.15 if k % 2 else -0.15)) * box["height"]
            page.mouse.move(x, y, steps=3)
        page.mouse.up()
        expect(page.get_by_text("Signature drawn.")).to_be_visible()
        value = page.locator("[data-signature-input]").input_value()
        assert value.startswith("data:image/png;base64,")
        _step(page, "03-drawn")

        page.get_by_role("button", name="Sign", exact=True).click()
        expect(page.get_by_role("heading", name="Thank you, Zoë")).to_be_visible()
        _step(page, "04-thanks")

        page.get_by_role("link", name="Staff: back to the appointment").click()
        expect(page.get_by_role("heading", name="Consent signed")).to_be_visible()
        _step(page, "05-panel-signed")
    finally:
        close_page(page)

    treatment = Consent.objects.get(client=client, kind="treatment")
    assert treatment.method == "drawn" and treatment.taken_by == specialist
    assert treatment.via == "desk" and treatment.signed_name == "Zoë Łukasiewicz"
    ink = _ink(bytes(treatment.signature_png))
    assert ink is not None and ink[2] - ink[0] > 400  # the strokes span most of the box
    assert Consent.objects.filter(client=client, kind="photos_record").exists()
    assert not Consent.objects.filter(client=client, kind="photos_marketing").exists()


def _focus(page: Any, element_id: str, *, limit: int = 60) -> None:
    """Press Tab until the element with this id has the focus (keyboard only, no clicks)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement && document.activeElement.id") == (
            element_id
        ):
            return
    pytest.fail(f"Tab never reached #{element_id}")


def _tab_to_link(page: Any, text: str, *, limit: int = 60) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate("() => (document.activeElement?.innerText || '').trim()")
        if focused == text:
            return
    pytest.fail(f"Tab never reached “{text}”")


def test_signed_keyboard_only_with_a_typed_name_in_the_portal(browser: Any, live_url: str) -> None:
    clinic = make_clinic(clients=0)
    user = make_user(role=Role.CLIENT, email="sign@example.com", email_verified_at=timezone.now())
    user.set_password(PASSWORD)
    user.save()
    client = make_client(first_name="Ngozi", last_name="Ødegård", email="sign@example.com")
    client.user = user
    client.save()
    appt = _book(clinic, client, 14)
    page = new_page(browser, viewport=TABLET)
    try:
        page.goto(f"{live_url}/account/sign-in/?next=/portal/consents/")
        page.get_by_label("Email address").fill("sign@example.com")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_label("Password").press("Enter")
        expect(page.get_by_role("heading", name="My consents")).to_be_visible()
        expect(page.get_by_role("heading", name="Still to sign")).to_be_visible()
        _step(page, "06-portal-to-sign")

        _tab_to_link(page, "Read and sign")
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name="Your consent for Micro-needling")).to_be_visible()
        _focus(page, "id_agree_treatment")
        page.keyboard.press("Space")
        _focus(page, "id_signed_name")
        page.keyboard.type("Ngozi Ødegård")
        page.keyboard.press("Tab")  # into the radio group, on the choice made (drawing)
        page.keyboard.press("ArrowDown")  # "Type my full name as my signature"
        expect(page.get_by_label("Type my full name as my signature")).to_be_checked()
        expect(page.locator("canvas.signature-canvas")).to_be_hidden()
        _step(page, "07-portal-typed")
        _tab_to_link(page, "Sign")
        page.keyboard.press("Enter")
        expect(page.get_by_text("Thank you: signed")).to_be_visible()
        expect(page.get_by_role("heading", name="Still to sign")).to_have_count(0)
        _step(page, "08-portal-signed")
    finally:
        close_page(page)

    consent = Consent.objects.get(client=client, kind="treatment")
    assert consent.method == "typed" and consent.via == "portal"
    assert consent.signed_name == "Ngozi Ødegård" and not bytes(consent.signature_png)
    assert consent.appointment_id == appt.pk and consent.taken_by is None
