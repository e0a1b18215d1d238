"""The public pages: staff-edited words from the seed migration, clinic facts from the clinic
and treatment apps, and a Book path from every treatment page."""

from __future__ import annotations

import pytest

from daisy.site.models import FaqEntry, SitePage, TreatmentPage
from tests.support.testing import make_clinic

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("site_content")]

PUBLIC_PAGES = [
    "/",
    "/treatments/",
    "/treatments/microneedling/",
    "/specialists/",
    "/locations/",
    "/prices/",
    "/faq/",
    "/contact/",
]


@pytest.fixture
def clinic():
    c = make_clinic()
    c.specialists[0].title = "Senior skin specialist"
    c.specialists[0].bio = "Ten years of micro-needling."
    c.specialists[0].save()
    return c


@pytest.mark.parametrize("url", PUBLIC_PAGES)
def test_every_public_page_renders_with_the_strict_csp(client, clinic, url):
    response = client.get(url)
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    html = response.content.decode()
    assert 'style="' not in html
    assert '<main id="main"' in html and 'href="/book/"' in html


def test_microneedling_page_answers_what_a_client_asks(client, clinic):
    html = client.get("/treatments/microneedling/").content.decode()
    for heading in [
        "What it helps with",
        "How a session goes",
        "How many sessions, and how far apart",
        "How to prepare",
        "Aftercare",
        "Who should not have it",
    ]:
        assert heading in html
    assert "3 to 5 sessions, about 4 weeks apart" in html
    assert "pregnant or breastfeeding" in html
    assert "£240.00" in html and "About 70 minutes" in html
    assert 'href="/book/?treatment=microneedling"' in html


def test_every_bookable_treatment_page_has_a_book_button(client, clinic):
    for slug, treatment in clinic.treatments.items():
        html = client.get(f"/treatments/{slug}/").content.decode()
        assert (f'href="/book/?treatment={slug}"' in html) == treatment.is_online_bookable


def test_staff_edits_show_on_the_site(client, clinic):
    page = TreatmentPage.objects.get(treatment_slug="microneedling")
    page.aftercare = "- Keep it simple.\n- <b>No</b> saunas."
    page.save()
    html = client.get("/treatments/microneedling/").content.decode()
    assert "<li>Keep it simple.</li>" in html
    # Staff write words, not markup.
    assert "&lt;b&gt;No&lt;/b&gt; saunas." in html
    FaqEntry.objects.create(question="Is parking free?", answer="Yes, behind the clinic.")
    assert "Is parking free?" in client.get("/faq/").content.decode()
    SitePage.objects.filter(slug="home").update(title="Welcome to Daisy")
    assert "Welcome to Daisy" in client.get("/").content.decode()


def test_unpublished_faq_and_missing_page_words_do_not_break_the_site(client, clinic):
    FaqEntry.objects.update(is_published=False)
    SitePage.objects.filter(slug="contact").delete()
    assert "No questions are published yet." in client.get("/faq/").content.decode()
    assert client.get("/contact/").status_code == 200


def test_locations_show_opening_hours_in_the_named_zone(client, clinic):
    html = client.get("/locations/").content.decode()
    assert clinic.location.name in html
    assert "Opening hours (London time)" in html
    assert "09:00–19:00" in html and "Closed" in html  # Sunday


def test_specialists_and_prices(client, clinic):
    html = client.get("/specialists/").content.decode()
    assert "Senior skin specialist" in html and "Ten years of micro-needling." in html
    prices = client.get("/prices/").content.decode()
    assert "£240.00" in prices and "Free" in prices


def test_unknown_treatment_is_a_404(client, clinic):
    assert client.get("/treatments/no-such-thing/").status_code == 404
