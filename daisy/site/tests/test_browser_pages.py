"""Every public page in a real browser (issue 4, item 8): axe-core finds no serious or critical
problem, the strict CSP holds, and nothing overflows a 360 px phone. Screenshots:
var/screenshots/site-<page>.png."""

from __future__ import annotations

import pytest

from tests.support.browser import assert_accessible, shot
from tests.support.testing import make_clinic

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("site_content"),
]

PAGES = {
    "home": "/",
    "treatments": "/treatments/",
    "microneedling": "/treatments/microneedling/",
    "specialists": "/specialists/",
    "locations": "/locations/",
    "prices": "/prices/",
    "faq": "/faq/",
    "contact": "/contact/",
}


def test_every_public_page_is_accessible_on_a_small_phone(browser_page, live_url):
    clinic = make_clinic()
    clinic.specialists[0].bio = "Ten years of micro-needling and skin care."
    clinic.specialists[0].save()
    page = browser_page
    page.set_viewport_size({"width": 360, "height": 740})
    for name, path in PAGES.items():
        page.goto(f"{live_url}{path}")
        assert page.get_by_role("main").is_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, name
        shot(page, f"site-{name}")
        assert_accessible(page)
