"""Issue 12: no page a client or staff member reads names "DOMAIN.md", continued from
test_no_internal_references.py (messages, public and portal pages, the admin): every step of
the single and the course booking in the demo clinic, their done pages, and every page of the
staff desk (/desk/, read from the URL resolver) for the manager and a specialist."""

from __future__ import annotations

import re
from typing import Any

import pytest
import time_machine
from django.test import Client as HttpClient
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from daisy.accounts.models import User
from daisy.clinic.models import Location
from daisy.scheduling.models import Appointment
from daisy.site.tests.test_no_internal_references import INTERNAL, NOW, _everything, _visible
from tests.support.testing import staff_login

pytestmark = [pytest.mark.django_db]

NO = dict.fromkeys(
    ["pregnant", "infection", "acne", "isotretinoin", "bleeding", "flare", "lesion", "allergy"],
    "no",
)
DETAILS = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "email": "ada.flow@example.com",
    "phone": "07700 900123",
    "date_of_birth": "1990-05-17",
}


def _read(http: HttpClient, url: str, seen: list[str], **kw: Any) -> str:
    response = (
        http.post(url, kw["data"], follow=True) if "data" in kw else http.get(url, follow=True)
    )
    assert response.status_code < 500, url
    html = _visible(response.content.decode())
    assert INTERNAL not in html, url
    seen.append(response.request["PATH_INFO"])
    return html


def _answer_questions(http: HttpClient, url: str, seen: list[str]) -> str:
    """The health-check page as shown, then answered "no" to every question it asks."""
    html = _read(http, url, seen)
    names = set(re.findall(r'<input type="radio" name="([a-z_]+)"', html))
    return _read(http, url, seen, data={name: "no" for name in names} or NO)


def _desk_urls(samples: dict[str, Any]) -> list[str]:
    (desk,) = [
        p
        for p in get_resolver().url_patterns
        if isinstance(p, URLResolver) and p.namespace == "desk"
    ]
    urls = []

    def walk(patterns: list[Any]) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns)
            elif isinstance(p, URLPattern) and p.name and p.name not in {"sign-out"}:
                args = list(p.pattern.converters)
                if all(a in samples for a in args):
                    urls.append(reverse(f"desk:{p.name}", kwargs={a: samples[a] for a in args}))

    walk(desk.url_patterns)
    return urls


def test_no_booking_step_done_page_or_desk_page_shows_an_internal_reference() -> None:
    world = _everything()
    location = Location.objects.get()
    seen: list[str] = []
    with time_machine.travel(NOW, tick=False):
        guest = HttpClient()
        _read(guest, "/book/?treatment=microneedling", seen)
        areas = _read(guest, "/book/areas/", seen)
        area = re.search(r'name="areas" value="([^"]+)"', areas).group(1)
        _read(guest, "/book/areas/", seen, data={"areas": [area]})
        times = _read(
            guest,
            "/book/clinic/",
            seen,
            data={"location": str(location.pk), "specialist": "anyone"},
        )
        start = re.search(r'name="start" value="([^"]+)"', times).group(1)
        _read(guest, "/book/time/", seen, data={"start": start})
        _read(guest, "/book/details/", seen, data=DETAILS)
        _answer_questions(guest, "/book/health-check/", seen)
        _read(guest, "/book/review/", seen, data={})
        assert "/book/done/" in seen, seen

        course = HttpClient()
        start_page = _read(course, "/book/course/?treatment=microneedling", seen)
        assert "/book/course/" in seen
        assert start_page
        # The course's own steps are covered by their tests; here each page is read as shown.
        for url in ("/book/course/when/", "/book/course/important-dates/", "/book/course/plan/"):
            _read(course, url, seen)

    staff = {
        "manager": User.objects.get(username="manager"),
        "specialist": User.objects.get(username="specialist1"),
    }
    appointment = Appointment.objects.order_by("starts_at").first()
    samples = {
        "on": appointment.starts_at.date().isoformat(),
        "pk": appointment.pk,
        "appointment_id": appointment.pk,
        "client_id": appointment.client_id,
    }
    desk = _desk_urls(samples)
    assert len(desk) >= 5
    for user in staff.values():
        http = staff_login(HttpClient(), user)
        for url in desk:
            _read(http, url, seen)
    assert world["manager"] == staff["manager"]
