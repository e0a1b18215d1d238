"""A site that earns trust, in a real browser on a 390x844 phone and a 1280x900 desktop (issue 12
item 7): a one-row header with a Menu button that opens from the keyboard and without
JavaScript, one "Sign out" when signed in, headings clear of the header, no bullets in rows of
links, a step indicator that never wraps, specialist profiles, and a photo a manager uploads in
the back-office. axe-core finds nothing serious or critical. Screenshots:
var/screenshots/client-*.png."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.test import Client as DjangoClient
from django.utils import timezone
from PIL import Image, ImageDraw

from daisy.accounts.models import Role
from daisy.clinic.demo_profiles import PROFILES
from tests.support.browser import (
    PHONE,
    assert_accessible,
    close_page,
    new_page,
    shot,
    staff_sign_in,
)
from tests.support.testing import make_clinic, make_user

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("site_content"),
]

DESKTOP = {"width": 1280, "height": 900}
# A header taller than this on a phone pushes the page's own content down: the old header was
# four rows (about 210 px) on a 390 px phone.
MAX_HEADER_PX = 72

PAGES = {
    "home": "/",
    "treatments": "/treatments/",
    "microneedling": "/treatments/microneedling/",
    "specialists": "/specialists/",
    "specialist-sofia": "/specialists/sofia-marin/",
    "locations": "/locations/",
    "prices": "/prices/",
    "faq": "/faq/",
    "contact": "/contact/",
    "privacy": "/privacy/",
    "terms": "/terms/",
}


@pytest.fixture
def clinic():
    c = make_clinic(specialists=3)
    for specialist, username in zip(c.specialists, PROFILES, strict=True):
        profile = PROFILES[username]
        for field, value in profile.items():
            setattr(specialist, field, value)
        specialist.name = profile["slug"].replace("-", " ").title()
        specialist.save()
    return c


def _layout(page) -> dict:  # type: ignore[no-untyped-def]
    """What a person sees of the page's frame, measured in the browser."""
    return page.evaluate(
        """() => {
        const header = document.querySelector('header.site-header').getBoundingClientRect();
        const h1 = document.querySelector('main h1');
        const visible = (el) => !!el && el.getClientRects().length > 0
            && getComputedStyle(el).visibility !== 'hidden';
        const bullets = [...document.querySelectorAll('ul.cluster > li, ol.cluster > li')]
            .filter((li) => getComputedStyle(li).listStyleType !== 'none')
            .map((li) => li.textContent.trim());
        return {
            header: header.height,
            gap: h1 ? h1.getBoundingClientRect().top - header.bottom : null,
            overflow: document.documentElement.scrollWidth - window.innerWidth,
            navVisible: visible(document.querySelector('.site-nav')),
            menuVisible: visible(document.querySelector('.nav-menu-button')),
            bullets,
        };
    }"""
    )


def _check_frame(page, *, phone: bool) -> None:  # type: ignore[no-untyped-def]
    layout = _layout(page)
    layout["linksVisible"] = page.locator(".nav-menu-panel a").first.is_visible()
    assert layout["header"] <= MAX_HEADER_PX, (page.url, layout)
    assert layout["overflow"] <= 0, (page.url, layout)
    assert layout["gap"] is not None and layout["gap"] >= 16, (page.url, layout)
    assert not layout["bullets"], (page.url, layout["bullets"])
    if phone:
        assert layout["menuVisible"] and not layout["navVisible"] and not layout["linksVisible"]
    else:
        assert layout["navVisible"] and not layout["menuVisible"]


@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_every_public_page_has_a_calm_one_row_header_and_passes_axe(
    browser, live_url, clinic, device
):
    page = new_page(browser, viewport=PHONE if device == "phone" else DESKTOP)
    try:
        for name, path in PAGES.items():
            page.goto(f"{live_url}{path}")
            # The logo and favicon are our own files, and they load.
            assert page.evaluate("() => document.querySelector('.brand-mark').naturalWidth > 0"), (
                name
            )
            assert page.locator('link[rel=icon][href$="favicon.svg"]').count() == 1
            _check_frame(page, phone=device == "phone")
            shot(page, f"client-{name}-{device}")
            assert_accessible(page)
    finally:
        close_page(page)


def test_the_phone_menu_opens_from_the_keyboard_without_javascript(browser, live_url, clinic):
    page = new_page(browser, viewport=PHONE, java_script_enabled=False)
    try:
        page.goto(f"{live_url}/prices/")
        assert not page.get_by_role("link", name="Specialists").is_visible()
        for _ in range(10):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.matches('summary.nav-menu-button')"):
                break
        else:
            raise AssertionError("Tab never reached the Menu button")
        page.keyboard.press("Enter")
        assert page.get_by_role("link", name="Specialists").is_visible()
        assert page.get_by_role("link", name="Sign in").is_visible()
        shot(page, "client-menu-open-phone")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent.trim()") == "Treatments"
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")
        page.wait_for_url("**/specialists/")
        # A new page starts with the menu closed again.
        assert not page.get_by_role("link", name="Locations").is_visible()
    finally:
        close_page(page)


def test_the_open_phone_menu_passes_axe_and_closes_as_people_expect(browser_page, live_url, clinic):
    page = browser_page
    page.set_viewport_size(PHONE)
    page.goto(f"{live_url}/")
    contact = page.get_by_role("link", name="Contact", exact=True)
    page.get_by_text("Menu", exact=True).click()
    contact.wait_for()
    assert_accessible(page)
    page.get_by_text("Menu", exact=True).click()  # the button closes it again
    assert not contact.is_visible()
    # With JavaScript, Escape closes it and gives the focus back to the Menu button...
    page.get_by_text("Menu", exact=True).click()
    contact.focus()
    page.keyboard.press("Escape")
    assert not contact.is_visible()
    assert page.evaluate("document.activeElement.matches('summary.nav-menu-button')")
    # ...and so does a tap outside the menu.
    page.get_by_text("Menu", exact=True).click()
    page.mouse.click(195, 800)  # below the open menu's panel
    assert not contact.is_visible()


def _signed_in(browser, live_url, viewport):  # type: ignore[no-untyped-def]
    make_clinic()
    user = make_user(role=Role.CLIENT, email="amelia@example.com", email_verified_at=timezone.now())
    from daisy.clients.models import Client

    Client.objects.create(
        first_name="Amelia",
        last_name="Smith",
        email="amelia@example.com",
        phone="+447700900123",
        date_of_birth="1990-05-17",
        user=user,
    )
    django_client = DjangoClient()
    django_client.force_login(user)
    page = new_page(browser, viewport=viewport)
    page.context.add_cookies(
        [
            {
                "name": "sessionid",
                "value": django_client.cookies["sessionid"].value,
                "url": live_url,
            }
        ]
    )
    return page


def test_signed_in_the_desktop_header_is_one_row_with_one_sign_out(browser, live_url):
    page = _signed_in(browser, live_url, DESKTOP)
    try:
        page.goto(f"{live_url}/portal/")
        page.get_by_role("heading", name="Hello, Amelia").wait_for()
        _check_frame(page, phone=False)
        sign_outs = page.get_by_role("button", name="Sign out", exact=True)
        assert sign_outs.count() == 1 and sign_outs.is_visible()
        assert page.get_by_role("link", name="Sign out", exact=True).count() == 0
        tops = page.evaluate(
            """() => ['.brand', '.nav-list', '.nav-account', '.nav-sign-out', '.book-button']
                .map((s) => Math.round(document.querySelector('.site-header ' + s)
                    .getBoundingClientRect().top / 20))"""
        )
        assert len(set(tops)) == 1, tops  # everything on the same row
        shot(page, "client-portal-desktop")
        assert_accessible(page)
    finally:
        close_page(page)


def test_signed_in_on_a_phone_the_account_is_in_the_menu(browser, live_url):
    page = _signed_in(browser, live_url, PHONE)
    try:
        page.goto(f"{live_url}/portal/")
        page.get_by_role("heading", name="Hello, Amelia").wait_for()
        _check_frame(page, phone=True)
        sign_out = page.get_by_role("button", name="Sign out", exact=True)
        assert sign_out.count() == 0  # behind the closed menu
        page.get_by_text("Menu", exact=True).click()
        assert sign_out.count() == 1 and sign_out.is_visible()
        assert page.get_by_role("link", name="My account").is_visible()
        shot(page, "client-portal-menu-phone")
        assert_accessible(page)
    finally:
        close_page(page)


@pytest.mark.parametrize("path", ["/book/", "/book/course/"])
def test_the_booking_steps_fit_one_row_on_a_phone(browser_page, live_url, clinic, path):
    page = browser_page
    page.set_viewport_size(PHONE)
    page.goto(f"{live_url}{path}")
    steps = page.evaluate(
        """() => {
        const items = [...document.querySelectorAll('.steps li')];
        const current = document.querySelector('.steps li[aria-current=step] span');
        return {
            count: items.length,
            rows: new Set(items.map((li) => Math.round(li.getBoundingClientRect().top))).size,
            height: document.querySelector('.steps').getBoundingClientRect().height,
            current: current.getBoundingClientRect().width > 1 ? current.textContent : '',
        };
    }"""
    )
    assert steps["count"] >= 5 and steps["rows"] == 1, steps
    assert steps["height"] <= 48 and steps["current"], steps
    _check_frame(page, phone=True)
    shot(page, f"client-steps-{'course' if 'course' in path else 'single'}-phone")
    assert_accessible(page)


def _photo(path: Path) -> Path:
    """A portrait-shaped photo with GPS and camera details, as a phone would save it."""
    img = Image.new("RGB", (600, 750), (227, 239, 235))
    draw = ImageDraw.Draw(img)
    draw.ellipse((180, 160, 420, 440), fill=(236, 196, 170))
    draw.rectangle((120, 500, 480, 750), fill=(47, 107, 94))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x8825] = {1: "N", 2: (51.0, 32.0, 10.0)}
    out = BytesIO()
    img.save(out, "JPEG", exif=exif)
    path.write_bytes(out.getvalue())
    return path


def test_a_manager_uploads_a_team_photo_in_the_back_office(
    browser_page, live_url, clinic, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    boss = get_user_model().objects.create_superuser(
        username="boss", email="boss@example.com", password="pw-test-123", role=Role.MANAGER
    )
    sofia = clinic.specialists[0]
    page = browser_page
    staff_sign_in(page, live_url, boss)
    page.goto(f"{live_url}/admin/clinic/specialist/{sofia.pk}/change/")
    page.set_input_files("#id_photo", str(_photo(tmp_path / "IMG_2041.jpg")))
    page.click("input[name=_save]")
    page.wait_for_url("**/admin/clinic/specialist/")
    sofia.refresh_from_db()
    assert sofia.photo.name.startswith("public/team/") and "IMG_2041" not in sofia.photo.name
    assert Image.open(sofia.photo.path).getexif().get(0x010F) is None
    page.goto(f"{live_url}/specialists/sofia-marin/")
    portrait = page.locator(".profile-photo img")
    assert portrait.get_attribute("src") == sofia.photo.url
    assert page.evaluate("() => document.querySelector('.profile-photo img').naturalWidth") > 0
    shot(page, "client-specialist-photo-desktop")
    assert_accessible(page)
