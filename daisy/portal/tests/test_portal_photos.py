"""The client's own photos in the portal (issue 14, item 7): shown only where the clinic allows
it (the location's setting), only the client's own (another client's photo is a 404, as an id
that does not exist), never cached, and every viewing audited; staff and visitors are refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from daisy.accounts.models import Role
from daisy.audit.models import AuditEntry
from daisy.booking.services import appointment_book
from daisy.records.photos import photo_add
from tests.support.photos import as_upload, phone_jpeg, photo_consent
from tests.support.testing import make_clinic, make_user, staff_login

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def photo_dir(settings: Any, tmp_path: Path) -> Path:
    settings.DAISY_PHOTO_DIR = tmp_path / "photos"
    return settings.DAISY_PHOTO_DIR


@pytest.fixture
def world() -> dict[str, Any]:
    clinic = make_clinic()
    clinic.location.portal_shows_photos = True
    clinic.location.save()
    now = timezone.now()
    people = []
    for n, client in enumerate(clinic.clients):
        user = make_user(role=Role.CLIENT, email=client.email, email_verified_at=now)
        client.user = user
        client.save()
        http = HttpClient()
        http.force_login(user)
        photo_consent(client, by=clinic.specialists[0].user, now=now)
        photos = []
        for weeks in (1, 5):
            starts = (now + timezone.timedelta(weeks=weeks)).replace(
                hour=10 + 4 * n, minute=0, second=0, microsecond=0
            )
            while starts.weekday() == 6:
                starts += timezone.timedelta(days=1)
            appt = appointment_book(
                client=client,
                treatment=clinic.microneedling,
                starts_at=starts,
                booked_by=clinic.reception,
                now=now,
                location=clinic.location,
            ).appointment
            photos.append(
                photo_add(
                    appointment=appt,
                    view="front",
                    upload=as_upload(phone_jpeg()),
                    source="camera",
                    by=clinic.specialists[0].user,
                    now=now + timezone.timedelta(weeks=weeks),
                )
            )
        people.append({"client": client, "user": user, "http": http, "photos": photos})
    return {"clinic": clinic, "a": people[0], "b": people[1]}


def test_the_client_sees_their_progress_with_a_slider(world: dict[str, Any]) -> None:
    a = world["a"]
    page = a["http"].get(reverse("portal:photos"))
    text = page.content.decode()
    assert page.status_code == 200
    for photo in a["photos"]:
        assert reverse("portal:photo-file", kwargs={"pk": photo.pk}) in text
    for photo in world["b"]["photos"]:
        assert str(photo.pk) not in text
    assert 'type="range"' in text and "Slide between session 1 (left) and session 2" in text
    assert AuditEntry.objects.filter(
        action="client.view", client_ref=str(a["client"].pk), data__via="portal:photos"
    ).exists()


def test_own_photos_only_never_cached_and_audited(world: dict[str, Any]) -> None:
    a, b = world["a"], world["b"]
    mine = a["photos"][0]
    for name in ("portal:photo-file", "portal:photo-thumb"):
        answer = a["http"].get(reverse(name, kwargs={"pk": mine.pk}))
        assert answer.status_code == 200
        assert answer["Content-Type"] == "image/jpeg"
        assert "no-store" in answer["Cache-Control"]
        seen = AuditEntry.objects.filter(action="photo.view", object_id=str(mine.pk)).last()
        assert seen.actor == a["user"] and seen.data["via"] == "portal"
        before = AuditEntry.objects.count()
        theirs = b["photos"][0]
        assert a["http"].get(reverse(name, kwargs={"pk": theirs.pk})).status_code == 404
        assert AuditEntry.objects.count() == before


def test_nothing_is_shown_where_the_clinic_does_not_allow_it(world: dict[str, Any]) -> None:
    clinic, a = world["clinic"], world["a"]
    clinic.location.portal_shows_photos = False
    clinic.location.save()
    page = a["http"].get(reverse("portal:photos"))
    assert page.status_code == 200
    assert "No photos to show here." in page.content.decode()
    photo = a["photos"][0]
    assert a["http"].get(reverse("portal:photo-file", kwargs={"pk": photo.pk})).status_code == 404


def test_staff_and_visitors_are_refused(world: dict[str, Any]) -> None:
    photo = world["a"]["photos"][0]
    url = reverse("portal:photo-file", kwargs={"pk": photo.pk})
    assert HttpClient().get(url).status_code == 302  # to sign in
    for user in (world["clinic"].reception, world["clinic"].specialists[0].user):
        assert staff_login(HttpClient(), user).get(url).status_code == 403
