"""Charting on a tablet in a real browser (issue 14 item 5 and its acceptance).

A specialist on an 820x1180 tablet charts a repeat client's session from the appointment panel:
the chart opens filled from the client's last session (zones, depths, device, numbing cream and
its lot, skin type, the booked numbing times), so the session is charted with the new
cartridge's lot and expiry, two ticks, one tap on the face map and Sign. The taps and typed
fields are counted (the interaction budget is asserted as counts, not as a timing). Then a new
client's chart: zones tapped on the face map (one by keyboard), a depth above the pen's label
refused beside the zone, corrected and signed; and the lot's recall page. After each step
axe-core finds no serious or critical problem, and a screenshot is saved as
var/screenshots/record-chart-*."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from playwright.sync_api import expect

from daisy.booking.services import appointment_book, appointment_set_status
from daisy.records.charting import AreaIn, ChartIn, ProductIn, chart_save
from daisy.records.models import Chart
from daisy.scheduling.models import Status
from tests.support.browser import assert_accessible, close_page, new_page, shot
from tests.support.testing import (
    MONDAY,
    at,
    authenticator_code,
    booking_now,
    make_client,
    make_clinic,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
expect.set_options(timeout=15_000)

TABLET = {"width": 820, "height": 1180}
DESK_NOW = at(MONDAY, 9, 30)
# What a tablet interaction costs a specialist, for the budget of issue 14 ("a repeat session
# charted in under 90 seconds"): a tap about 3 s (find, reach, tap), a typed field about 10 s
# (a lot number or a date read off the pack). Counts are asserted; these only turn them into
# the budget's unit.
TAP_SECONDS = 3
TYPED_SECONDS = 10


class Counter:
    def __init__(self) -> None:
        self.taps = 0
        self.typed = 0

    def tap(self, locator: Any) -> None:
        self.taps += 1
        locator.click()

    def type(self, locator: Any, text: str) -> None:
        self.typed += 1
        locator.fill(text)

    @property
    def seconds(self) -> int:
        return self.taps * TAP_SECONDS + self.typed * TYPED_SECONDS


def _arrived(clinic: Any, client: Any, day: date, hh: int) -> Any:
    appt = appointment_book(
        client=client,
        treatment=clinic.microneedling,
        starts_at=at(day, hh),
        booked_by=clinic.reception,
        now=booking_now(day),
        location=clinic.location,
        specialist=clinic.specialists[0],
    ).appointment
    return appointment_set_status(
        appointment=appt, status=Status.CHECKED_IN, by=clinic.reception, now=at(day, hh)
    )


def _sign_in(page: Any, live_url: str, user: Any, path: str) -> None:
    page.goto(live_url + "/desk/sign-in/?next=" + path)
    page.get_by_label("Username").fill(user.get_username())
    page.get_by_label("Password").fill("pw-test-123")
    page.get_by_label("Code from your authenticator app").fill(authenticator_code(user))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(re.escape(path) + r"(\?|$)"))


def _step(page: Any, name: str) -> None:
    assert_accessible(page)
    shot(page, name)


def test_a_specialist_charts_sessions_on_a_tablet(browser: Any, live_url: str) -> None:
    with time_machine.travel(DESK_NOW, tick=True):
        clinic = make_clinic(specialists=1, clients=0)
        pen = clinic.devices[0]
        pen.max_depth_mm = Decimal("2.00")
        pen.save()
        specialist = clinic.specialists[0].user
        tess = make_client(first_name="Tess", last_name="Arden")
        earlier = MONDAY - timedelta(days=28)
        last = _arrived(clinic, tess, earlier, 10)
        chart_save(
            appointment=last,
            data=ChartIn(
                areas=[
                    AreaIn("forehead", Decimal("0.50"), 3, "erythema", "crosshatch"),
                    AreaIn("cheek_right", Decimal("1.50"), 3, "pinpoint_bleeding", "crosshatch"),
                    AreaIn("cheek_left", Decimal("1.50"), 3, "pinpoint_bleeding", "crosshatch"),
                ],
                products=[
                    ProductIn(
                        "cartridge", "SkinPen 14-pin cartridge", "CART-0412", date(2031, 5, 1)
                    ),
                    ProductIn("numbing", "Lidocaine 4% cream", "LID-2291", date(2031, 2, 1), "5 g"),
                ],
                device=pen,
                operator=clinic.specialists[0],
                cartridge_opened_at_chair=True,
                skin_type=3,
                numbing_amount_g=Decimal("5.0"),
                numbing_area="Full face",
                aftercare_given=True,
            ),
            by=specialist,
            now=at(earlier, 11),
            sign=True,
        )
        today = _arrived(clinic, tess, MONDAY, 10)
        nia = make_client(first_name="Nia", last_name="Cole")
        first_visit = _arrived(clinic, nia, MONDAY, 14)

        page = new_page(browser, viewport=TABLET, has_touch=True)
        try:
            _sign_in(page, live_url, specialist, f"/desk/appointments/{today.pk}/")
            _step(page, "record-chart-01-panel")

            # The repeat client: everything from last time, a new sealed cartridge.
            count = Counter()
            count.tap(page.get_by_role("link", name="Write the chart"))
            expect(page.get_by_role("heading", name="Treatment chart: Tess Arden")).to_be_visible()
            page.wait_for_load_state()  # the face map's script is bound (deferred)
            expect(page.get_by_label("Lot number").first).to_have_value("")
            expect(page.locator("#id_numbing_lot")).to_have_value("LID-2291")
            expect(page.locator("#id_z_cheek_left_depth")).to_have_value("1.50")
            _step(page, "record-chart-02-repeat-defaults")
            count.type(page.locator("#id_cartridge_lot"), "CART-0977")
            count.type(page.locator("#id_cartridge_expires_on"), "2031-06-30")
            count.tap(page.get_by_label("Sealed single-use cartridge opened at the chair"))
            # One change today: the chin as well, tapped on the face map.
            count.tap(page.locator('.face-map .zone[data-zone="chin"]'))
            expect(page.locator('.face-map .zone[data-zone="chin"]')).to_have_attribute(
                "aria-pressed", "true"
            )
            count.tap(page.get_by_label("Aftercare sheet given"))
            count.tap(page.get_by_role("button", name="Sign the chart"))
            expect(page.get_by_text("Chart signed.")).to_be_visible()
            expect(page.get_by_text("Signed by")).to_be_visible()
            _step(page, "record-chart-03-repeat-signed")
            print(
                f"repeat session: {count.taps} taps, {count.typed} typed fields "
                f"(~{count.seconds} s at {TAP_SECONDS} s/tap, {TYPED_SECONDS} s/field)"
            )
            assert count.taps <= 6 and count.typed <= 2
            assert count.seconds < 90
            chart = Chart.objects.get(appointment=today)
            assert chart.is_signed
            zones = {a.zone: a.depth_mm for a in chart.areas.all()}
            assert zones["cheek_left"] == Decimal("1.50") and "chin" in zones
            assert {p.lot.number for p in chart.products.all()} == {"CART-0977", "LID-2291"}

            # The panel says it is charted.
            page.get_by_role("link", name="Back to the appointment").click()
            expect(page.locator(".panel-chart")).to_contain_text("Charted")

            # A first visit: zones on the face map (one by keyboard), a depth the pen's label
            # does not cover is refused beside the zone.
            page.goto(f"{live_url}/desk/appointments/{first_visit.pk}/chart/")
            expect(page.get_by_role("heading", name="Treatment chart: Nia Cole")).to_be_visible()
            page.locator('.face-map .zone[data-zone="forehead"]').click()
            cheek = page.locator('.face-map .zone[data-zone="cheek_left"]')
            cheek.focus()
            page.keyboard.press("Enter")
            expect(cheek).to_have_attribute("aria-pressed", "true")
            page.locator("#id_z_cheek_left_depth").fill("2.5")
            page.locator("#id_cartridge_name").fill("SkinPen 14-pin cartridge")
            page.locator("#id_cartridge_lot").fill("CART-0978")
            page.locator("#id_cartridge_expires_on").fill("2031-06-30")
            page.get_by_label("Sealed single-use cartridge opened at the chair").check()
            page.locator("#id_skin_type").select_option("3")
            page.get_by_role("button", name="Sign the chart").click()
            expect(page.get_by_role("alert")).to_contain_text("labelled maximum of 2.00 mm")
            _step(page, "record-chart-04-depth-refused")
            page.locator("#id_z_cheek_left_depth").fill("1.0")
            page.get_by_role("button", name="Sign the chart").click()
            expect(page.get_by_text("Chart signed.")).to_be_visible()
            _step(page, "record-chart-05-first-visit-signed")

            # The numbing cream's lot: everyone treated with it, ready to recall.
            page.get_by_role("link", name="Lots").click()
            page.get_by_label("Lot number or product").fill("LID-2291")
            page.get_by_role("button", name="Search").click()
            page.get_by_role("link", name="LID-2291").click()
            expect(page.get_by_text("1 client treated with this lot")).to_be_visible()
            expect(page.locator(".recall-table")).to_contain_text("Tess Arden")
            _step(page, "record-chart-06-lot-recall")
        finally:
            close_page(page)
