"""A site that earns trust (issue 12 item 7), with Django's test client: distinct specialist
profiles with their register, a privacy notice and terms written for a health service and
linked wherever health data is asked for, meta and social tags, prices by area and package, and
photos staff upload in the back-office (re-encoded, served, with our illustrations until then)."""

from __future__ import annotations

import importlib
import re
import uuid
from datetime import timedelta
from html import unescape
from io import BytesIO

import pytest
import time_machine
from django.apps import apps
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory
from PIL import Image

from daisy.accounts.models import Role, User
from daisy.clinic.demo_profiles import PROFILES
from daisy.clinic.models import Specialist
from daisy.site.models import ClinicPhoto, PriceOption, SitePage, TreatmentPage
from tests.support.testing import MONDAY, at, booking_now, make_clinic, make_specialist, staff_login

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
    "/privacy/",
    "/terms/",
]


@pytest.fixture
def clinic():
    c = make_clinic(specialists=3)
    for specialist, username in zip(c.specialists, PROFILES, strict=True):
        for field, value in PROFILES[username].items():
            setattr(specialist, field, value)
        specialist.name = PROFILES[username]["slug"].replace("-", " ").title()
        specialist.save()
    return c


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def manager(client):
    user = User.objects.create_superuser(
        username="boss", email="boss@example.com", password="pw-test-123", role=Role.MANAGER
    )
    staff_login(client, user)
    return client


def jpeg_with_gps() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x8825] = {1: "N", 2: (51.0, 32.0, 10.0)}
    out = BytesIO()
    Image.new("RGB", (120, 150), (180, 140, 120)).save(out, "JPEG", exif=exif)
    return out.getvalue()


def text(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


# --- specialists ----------------------------------------------------------------------------


def test_each_specialist_has_a_page_with_their_own_qualifications_and_register(client, clinic):
    pages = {}
    for specialist in clinic.specialists:
        response = client.get(f"/specialists/{specialist.slug}/")
        assert response.status_code == 200
        pages[specialist.slug] = text(response.content.decode())
    for specialist in clinic.specialists:
        mine = pages[specialist.slug]
        assert f"Registered with the {specialist.registration_body}" in mine
        assert "Check the register" in mine
        for line in specialist.qualification_list + specialist.speciality_list:
            assert line in mine
        for other in clinic.specialists:
            if other.pk != specialist.pk:
                # No two profiles share a qualification line or a biography.
                assert not set(other.qualification_list) & set(specialist.qualification_list)
                assert other.bio_first_paragraph not in mine
    assert "NMC" in pages["sofia-marin"] and "JCCP" in pages["hannah-cole"]


def test_the_team_page_introduces_everyone_and_links_to_their_profiles(client, clinic):
    html = client.get("/specialists/").content.decode()
    for specialist in clinic.specialists:
        assert f'href="/specialists/{specialist.slug}/"' in html
        assert specialist.bio_first_paragraph in text(html)
        assert specialist.speciality_list[0] in html
    # Without a photo, every card shows the site's own portrait illustration.
    assert html.count("daisy/img/portrait.svg") == 3


def test_unknown_or_retired_specialists_have_no_page(client, clinic):
    assert client.get("/specialists/nobody/").status_code == 404
    retired = clinic.specialists[0]
    retired.is_active = False
    retired.save()
    assert client.get(f"/specialists/{retired.slug}/").status_code == 404


def test_an_older_demo_gets_its_profiles_and_every_specialist_a_page(client):
    """Migration 0005 on a demo seeded before profiles existed."""
    c = make_clinic(specialists=1)
    old = make_specialist(
        c.location,
        id=uuid.uuid5(uuid.NAMESPACE_URL, "https://daisy.example/demo/specialist2"),
        name="Hannah Cole",
        bio="Hannah has specialised in collagen-induction treatments and skin health.",
    )
    migration = importlib.import_module("daisy.clinic.migrations.0005_specialist_profile_data")
    migration.forwards(apps, None)
    hannah = Specialist.objects.get(pk=old.pk)
    assert hannah.slug == "hannah-cole" and "Bristol" in hannah.bio
    assert hannah.registration_body.startswith("Joint Council")
    other = Specialist.objects.get(pk=c.specialists[0].pk)
    assert other.slug and client.get(f"/specialists/{other.slug}/").status_code == 200


# --- privacy notice and terms -----------------------------------------------------------------


def test_the_privacy_notice_says_what_a_health_service_must(client, clinic):
    html = client.get("/privacy/").content.decode()
    words = text(html)
    for needed in [
        "Health information",  # what we collect
        "Photographs of the treated area",
        "Article 9(2)(h)",  # the lawful basis for health data
        "Article 6(1)(b)",
        "8 years after your last treatment",  # retention
        "for a copy of the information we hold",  # rights
        "to correct anything",
        "Information Commissioner",  # where to complain
        "Contact us",
        "no advertising or tracking cookies",
    ]:
        assert needed in words, needed
    assert '<h2 id="your-rights">Your rights</h2>' in html
    assert "DOMAIN.md" not in html


def test_the_terms_cover_booking_cancelling_results_and_complaints(client, clinic):
    words = text(client.get("/terms/").content.decode())
    for needed in ["Moving and cancelling", "48 hours", "cannot promise", "Complaints", "England"]:
        assert needed in words


def test_staff_edit_the_privacy_notice_in_the_back_office(client, manager, clinic):
    page = SitePage.objects.get(slug="privacy")
    response = manager.get(f"/admin/site/sitepage/{page.pk}/change/")
    assert response.status_code == 200
    SitePage.objects.filter(slug="privacy").update(body="## Who we are\nA small clinic.")
    html = client.get("/privacy/").content.decode()
    assert '<h2 id="who-we-are">Who we are</h2>' in html and "A small clinic." in html


@pytest.mark.parametrize("url", PUBLIC_PAGES)
def test_every_public_page_links_to_privacy_and_terms_in_its_footer(client, clinic, url):
    html = client.get(url).content.decode()
    footer = html[html.index('<footer class="site-footer">') :]
    assert 'href="/privacy/"' in footer and 'href="/terms/"' in footer


def test_privacy_is_linked_on_every_booking_step_that_asks_for_personal_or_health_data(
    client, clinic
):
    from daisy.site.tests.test_booking import DETAILS, hold, start_microneedling

    with time_machine.travel(booking_now(), tick=False):
        start_microneedling(client, clinic)
        hold(client)
        details = client.get("/book/details/").content.decode()
        client.post("/book/details/", DETAILS)
        check = client.get("/book/health-check/").content.decode()
    for html in (details, check):
        # The step's own form (the held time's "Keep this time for longer" form comes first).
        start = html.rindex("<form")
        form = html[start : html.index("</form>", start)]
        assert 'href="/privacy/"' in form and "How we look after your information" in form


def test_the_check_in_form_after_a_session_links_to_the_privacy_notice(client, settings):
    from daisy.booking.services import appointment_book
    from daisy.site.tests.test_checkin_page import path_of

    settings.DAISY_MESSAGE_ENQUEUE_TASK = False
    c = make_clinic()
    with time_machine.travel(at(MONDAY, 10) - timedelta(days=7), tick=False):
        appt = appointment_book(
            client=c.clients[0],
            treatment=c.microneedling,
            starts_at=at(MONDAY, 10),
            booked_by=c.reception,
            now=booking_now(),
        ).appointment
    with time_machine.travel(at(MONDAY, 10) + timedelta(hours=26), tick=False):
        html = client.get(path_of(appt)).content.decode()
    form = html[html.index('<form method="post"') : html.index("</form>")]
    assert 'href="/privacy/"' in form


# --- meta description and social tags ------------------------------------------------------


@pytest.mark.parametrize("url", PUBLIC_PAGES)
def test_public_pages_describe_themselves_to_search_and_social_sites(client, clinic, url):
    html = client.get(url).content.decode()
    description = re.search(r'<meta name="description" content="([^"]+)">', html)
    assert description and len(description.group(1)) > 40
    og = dict(re.findall(r'<meta property="og:([a-z:]+)" content="([^"]*)">', html))
    assert og["title"] and og["description"] == description.group(1)
    assert og["url"] == f"http://testserver{url}"
    assert og["image"] == "http://testserver/static/daisy/img/social-card.png"
    assert '<meta name="twitter:card" content="summary_large_image">' in html
    assert '<link rel="icon" href="/static/daisy/img/favicon.svg" type="image/svg+xml">' in html


def test_a_treatment_page_is_described_by_its_own_summary(client, clinic):
    html = client.get("/treatments/microneedling/").content.decode()
    assert '<meta property="og:title" content="Micro-needling">' in html
    assert f'<meta name="description" content="{clinic.microneedling.summary[:60]}' in html
    home = client.get("/").content.decode()
    assert re.search(r'name="description" content="([^"]+)"', home).group(1) != re.search(
        r'name="description" content="([^"]+)"', html
    ).group(1)


def test_a_long_description_is_shortened_without_breaking_a_character_apart(client, clinic):
    sofia = clinic.specialists[0]
    sofia.bio = "It's " * 60
    sofia.save()
    html = client.get(f"/specialists/{sofia.slug}/").content.decode()
    description = re.search(r'<meta name="description" content="([^"]+)">', html).group(1)
    shown = unescape(description)
    assert shown.endswith("…") and len(shown) <= 200 and "&" not in shown


def test_the_logo_favicon_and_social_card_are_served(client, clinic):
    for path, kind in [
        ("/static/daisy/img/logo.svg", "image/svg+xml"),
        ("/static/daisy/img/favicon.svg", "image/svg+xml"),
        ("/static/daisy/img/social-card.png", "image/png"),
        ("/static/daisy/img/hero.svg", "image/svg+xml"),
    ]:
        response = client.get(path)
        assert response.status_code == 200 and response["Content-Type"].startswith(kind), path


# --- prices by area and package --------------------------------------------------------------


def test_prices_differ_by_area_and_packages_show_the_price_per_session(client, clinic):
    words = text(client.get("/prices/").content.decode())
    assert "Full face £240.00" in words
    assert "Face and neck £300.00" in words
    assert "Full face: course of 3" in words and "£650.00 3 sessions, £216.67 each" in words
    assert "Underarms £75.00" in words and "Full legs £260.00" in words
    assert "Skin consultation with a specialist" in words and "Free" in words


def test_a_treatment_page_shows_its_starting_price_and_its_price_list(client, clinic):
    html = client.get("/treatments/microneedling/").content.decode()
    words = text(html)
    assert "Price from £130.00 per session" in words
    assert '<h2 id="prices">Prices</h2>' in html and "Décolletage £180.00" in words
    cards = text(client.get("/treatments/").content.decode())
    assert "from £130.00" in cards and "from £55.00" in cards


def test_staff_change_a_price_in_the_back_office(client, manager, clinic):
    page = TreatmentPage.objects.get(treatment_slug="led-therapy")
    assert manager.get(f"/admin/site/treatmentpage/{page.pk}/change/").status_code == 200
    PriceOption.objects.filter(page=page, label="Face").update(price="49.00")
    assert "Face £49.00" in text(client.get("/prices/").content.decode())


def test_a_treatment_without_a_price_list_shows_its_one_price(client, clinic):
    PriceOption.objects.filter(page__treatment_slug="chemical-peel").delete()
    words = text(client.get("/prices/").content.decode())
    assert "One session £120.00" in words
    assert "Price £120.00 per session" in text(
        client.get("/treatments/chemical-peel/").content.decode()
    )


# --- photos from the back-office -------------------------------------------------------------


def test_a_clinic_photo_uploaded_in_the_back_office_is_cleaned_and_shown(
    client, manager, clinic, media
):
    # Until a photo is uploaded, the site shows its own illustrations.
    assert "daisy/img/hero.svg" in client.get("/").content.decode()
    assert "daisy/img/clinic.svg" in client.get("/locations/").content.decode()
    response = manager.post(
        "/admin/site/clinicphoto/add/",
        {
            "image": SimpleUploadedFile("IMG_0001.jpg", jpeg_with_gps(), "image/jpeg"),
            "alt_text": "Our treatment room with a padded couch",
            "caption": "Treatment room 1",
            "order": "10",
            "is_published": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    photo = ClinicPhoto.objects.get()
    assert photo.image.name.startswith("public/clinic/") and "IMG_0001" not in photo.image.name
    stored = Image.open(photo.image.path)
    assert stored.format == "JPEG" and dict(stored.getexif()) == {}
    home = client.get("/").content.decode()
    assert f'src="{photo.image.url}" alt="Our treatment room with a padded couch"' in home
    assert "daisy/img/hero.svg" not in home
    assert "Treatment room 1" in client.get("/locations/").content.decode()
    served = client.get(photo.image.url)
    assert served.status_code == 200 and served["Content-Type"] == "image/jpeg"
    assert "immutable" in served["Cache-Control"]
    assert b"PhoneMaker" not in b"".join(served.streaming_content)


def test_a_photo_taken_down_in_the_back_office_is_no_longer_served(
    client, manager, clinic, media, django_capture_on_commit_callbacks
):
    def post(url, colour, **extra):
        out = BytesIO()
        Image.new("RGB", (90, 60), colour).save(out, "JPEG")
        fields = {"alt_text": "Reception", "order": "10", "is_published": "on", **extra}
        image = SimpleUploadedFile("p.jpg", out.getvalue(), "image/jpeg")
        with django_capture_on_commit_callbacks(execute=True):
            return manager.post(url, {"image": image, **fields})

    assert post("/admin/site/clinicphoto/add/", (200, 100, 50)).status_code == 302
    photo = ClinicPhoto.objects.get()
    first_url = photo.image.url
    assert client.get(first_url).status_code == 200
    # Replaced: the new photo is served, the old one is gone.
    assert post(f"/admin/site/clinicphoto/{photo.pk}/change/", (20, 90, 200)).status_code == 302
    photo.refresh_from_db()
    assert photo.image.url != first_url
    assert client.get(first_url).status_code == 404
    assert client.get(photo.image.url).status_code == 200
    # Deleted: gone from the site and from the disk.
    with django_capture_on_commit_callbacks(execute=True):
        manager.post(f"/admin/site/clinicphoto/{photo.pk}/delete/", {"post": "yes"})
    assert not ClinicPhoto.objects.exists()
    assert client.get(photo.image.url).status_code == 404
    assert not [p for p in media.rglob("*") if p.is_file()]


def test_the_back_office_refuses_a_file_that_is_not_a_photo(manager, clinic, media):
    response = manager.post(
        "/admin/site/clinicphoto/add/",
        {
            "image": SimpleUploadedFile("room.jpg", b"<html>not a photo</html>", "image/jpeg"),
            "alt_text": "A room",
            "order": "10",
        },
    )
    assert response.status_code == 200
    assert "This file is not a photo we can read." in response.content.decode()
    assert not ClinicPhoto.objects.exists() and not list(media.rglob("*.*"))


def test_a_specialist_photo_from_the_back_office_replaces_the_illustration(client, clinic, media):
    specialist = clinic.specialists[0]
    model_admin = admin.site._registry[Specialist]
    request = RequestFactory().get("/")
    request.user = User.objects.create_superuser(
        username="boss2", email="b2@example.com", password="pw-test-123", role=Role.MANAGER
    )
    form_class = model_admin.get_form(request, specialist)
    data = {
        f: getattr(specialist, f)
        for f in ["name", "title", "bio", "slug", "qualifications", "registration_body"]
    }
    data.update(
        user=specialist.user_id,
        locations=[clinic.location.pk],
        skills=[s.pk for s in specialist.skills.all()],
        is_active="on",
    )
    bad = form_class(
        data,
        {"photo": SimpleUploadedFile("me.png", b"GIF89a not really", "image/png")},
        instance=specialist,
    )
    assert not bad.is_valid() and "not a photo we can read" in str(bad.errors["photo"])
    good = form_class(
        data,
        {"photo": SimpleUploadedFile("me.jpg", jpeg_with_gps(), "image/jpeg")},
        instance=specialist,
    )
    assert good.is_valid(), good.errors
    good.save()
    specialist.refresh_from_db()
    page = client.get(f"/specialists/{specialist.slug}/").content.decode()
    assert f'src="{specialist.photo.url}"' in page
    assert specialist.photo.url.startswith("/media/public/team/")
    assert client.get(specialist.photo.url)["Content-Type"] == "image/jpeg"


@pytest.mark.parametrize(
    "path",
    [
        "/media/public/clinic/../../daisy.sqlite3",
        "/media/public/clinic/notes.txt",
        "/media/public/records/0123456789abcdef0123456789abcdef.jpg",
        "/media/public/team/0123456789abcdef0123456789abcdef.jpg",  # well-formed, not there
        "/media/clinical/0123456789abcdef0123456789abcdef.jpg",
    ],
)
def test_only_public_photos_that_exist_are_served(client, media, path):
    (media / "clinical").mkdir()
    (media / "clinical" / "0123456789abcdef0123456789abcdef.jpg").write_bytes(b"private")
    assert client.get(path).status_code == 404
