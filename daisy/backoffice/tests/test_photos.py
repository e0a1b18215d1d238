"""Clinical photos at the desk (issue 14, item 7): a specialist takes a session's photos by view
from the appointment; a later session's page shows session 1's photo as the ghost; refusals
(a hostile, broken or 30 MB file) come back as a message on the page, never a 500; the photo
addresses answer only clinicians, never cache, and write an audit entry on every viewing; the
comparison page sets session 1 against session N with a slider that is a real range input."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from daisy.audit.models import AuditEntry
from daisy.booking.services import appointment_book
from daisy.records.models import Photo
from tests.support.photos import (
    as_upload,
    bomb_png,
    gif,
    phone_jpeg,
    photo_consent,
    truncated_jpeg,
)
from tests.support.testing import MONDAY, at, booking_now, staff_login

from .conftest import DESK_NOW, book


@pytest.fixture(autouse=True)
def photo_dir(settings: Any, tmp_path: Path) -> Path:
    settings.DAISY_PHOTO_DIR = tmp_path / "photos"
    return settings.DAISY_PHOTO_DIR


@pytest.fixture(autouse=True)
def consented(clinic: Any) -> None:
    """clients[0] has signed the photo consent for the clinical record; the others have not."""
    photo_consent(clinic.clients[0], by=clinic.specialists[0].user, now=DESK_NOW)


@pytest.fixture
def specialist(client: HttpClient, clinic: Any, on_monday: Any) -> HttpClient:
    # Signed in on the desk's Monday (time travel after signing in would end the session).
    return staff_login(client, clinic.specialists[0].user)


def _upload(http: HttpClient, appt: Any, view: str, data: bytes, field: str = "image") -> Any:
    return http.post(
        reverse("desk:appointment-photos", kwargs={"appointment_id": appt.pk}),
        {"view": view, field: as_upload(data)},
    )


def test_a_specialist_takes_baseline_photos_then_sees_the_ghost_at_the_next_session(
    specialist: HttpClient, clinic: Any, on_monday: Any
) -> None:
    person = clinic.clients[0]
    first = book(clinic, person, 10)
    # The next session, four weeks on (DOMAIN.md 1.2: needling sessions are 28 days apart).
    second = appointment_book(
        client=person,
        treatment=clinic.microneedling,
        starts_at=at(MONDAY + timedelta(days=28), 14),
        booked_by=clinic.reception,
        now=booking_now(),
        location=clinic.location,
    ).appointment

    for view in ("front", "left_45", "left_90", "right_45", "right_90"):
        answer = _upload(specialist, first, view, phone_jpeg())
        assert answer.status_code == 302, answer.content[:500]
        assert answer["Location"].startswith("/desk/appointments/"), answer["Location"]
    page = specialist.get(reverse("desk:appointment-photos", kwargs={"appointment_id": first.pk}))
    text = page.content.decode()
    assert page.status_code == 200, (page.status_code, page.get("Location"))
    assert "session 1" in text
    assert 'capture="environment"' in text and 'accept="image/*"' in text
    assert "data-ghost" not in text  # no earlier session: nothing to line up with

    page = specialist.get(reverse("desk:appointment-photos", kwargs={"appointment_id": second.pk}))
    text = page.content.decode()
    baseline = Photo.objects.get(appointment=first, view="front")
    assert "session 2" in text
    assert reverse("desk:photo-file", kwargs={"photo_id": baseline.pk}) in text
    assert 'id="ghost-front"' in text and 'type="range"' in text

    answer = _upload(specialist, second, "front", phone_jpeg(), field="image_file")
    assert answer.status_code == 302
    later = Photo.objects.get(appointment=second)
    assert later.source == "upload"
    compare = specialist.get(reverse("desk:client-photos", kwargs={"client_id": person.pk}))
    text = compare.content.decode()
    assert compare.status_code == 200
    assert reverse("desk:photo-file", kwargs={"photo_id": later.pk}) in text
    assert 'type="range"' in text and 'id="slider-front"' in text
    assert "Slide between session 1 (left) and session 2 (right)" in text
    views = AuditEntry.objects.filter(action="client.view", client_ref=str(person.pk))
    assert views.filter(data__via="desk, photos").exists()


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (bomb_png(), "too many pixels"),
        (truncated_jpeg(), "not a photo we can read"),
        (gif(), "not a photo we can read"),
        (phone_jpeg() + b"\0" * (30 * 1024 * 1024), "the largest we accept is 20 MB"),
    ],
    ids=["decompression-bomb", "truncated", "gif", "30-mb"],
)
def test_refused_uploads_come_back_as_a_message(
    specialist: HttpClient, clinic: Any, on_monday: Any, data: bytes, words: str
) -> None:
    appt = book(clinic, clinic.clients[0], 10)
    answer = _upload(specialist, appt, "front", data)
    assert answer.status_code == 422
    assert words in answer.content.decode()
    assert not Photo.objects.exists()


def test_without_photo_consent_the_desk_is_told_to_take_it(
    specialist: HttpClient, clinic: Any
) -> None:
    appt = book(clinic, clinic.clients[1], 10)
    answer = _upload(specialist, appt, "front", phone_jpeg())
    assert answer.status_code == 422
    assert "Take the photo consent first, then the photos." in answer.content.decode()
    assert not Photo.objects.exists()


def test_no_photo_chosen_is_a_message(specialist: HttpClient, clinic: Any, on_monday: Any) -> None:
    appt = book(clinic, clinic.clients[0], 10)
    answer = specialist.post(
        reverse("desk:appointment-photos", kwargs={"appointment_id": appt.pk}), {"view": "front"}
    )
    assert answer.status_code == 422
    assert "Take a photo or choose one first." in answer.content.decode()


def test_photo_addresses_never_cache_and_audit_every_viewing(
    specialist: HttpClient, clinic: Any, on_monday: Any
) -> None:
    appt = book(clinic, clinic.clients[0], 10)
    _upload(specialist, appt, "front", phone_jpeg())
    photo = Photo.objects.get()
    before = AuditEntry.objects.filter(action="photo.view").count()
    for name in ("desk:photo-file", "desk:photo-thumb"):
        answer = specialist.get(reverse(name, kwargs={"photo_id": photo.pk}))
        assert answer.status_code == 200
        assert answer["Content-Type"] == "image/jpeg"
        assert "no-store" in answer["Cache-Control"] and "private" in answer["Cache-Control"]
        assert b"".join(answer.streaming_content)[:2] == b"\xff\xd8"
    entries = AuditEntry.objects.filter(action="photo.view").order_by("pk")
    assert entries.count() == before + 2
    assert [e.data["size"] for e in entries][-2:] == ["full", "thumb"]
    assert all(e.actor == clinic.specialists[0].user for e in entries)


def test_reception_sees_how_many_photos_but_not_them(
    on_monday: Any, client: HttpClient, clinic: Any
) -> None:
    appt = book(clinic, clinic.clients[0], 10)
    _upload(staff_login(HttpClient(), clinic.specialists[0].user), appt, "front", phone_jpeg())
    photo = Photo.objects.get()
    staff_login(client, clinic.reception)
    page = client.get(reverse("desk:client", kwargs={"client_id": clinic.clients[0].pk}))
    text = page.content.decode()
    assert "1 clinical photo, shown to specialists and the manager." in text
    assert reverse("desk:photo-thumb", kwargs={"photo_id": photo.pk}) not in text
    panel = client.get(reverse("desk:appointment", kwargs={"appointment_id": appt.pk}))
    assert "Photos of this session" not in panel.content.decode()
    before = AuditEntry.objects.count()
    for name in ("desk:photo-file", "desk:photo-thumb"):
        assert client.get(reverse(name, kwargs={"photo_id": photo.pk})).status_code == 403
    assert AuditEntry.objects.count() == before


def test_the_client_file_shows_clinicians_the_latest_session(
    specialist: HttpClient, clinic: Any, on_monday: Any
) -> None:
    appt = book(clinic, clinic.clients[0], 10)
    _upload(specialist, appt, "front", phone_jpeg())
    _upload(specialist, appt, "left_45", phone_jpeg())
    page = specialist.get(reverse("desk:client", kwargs={"client_id": clinic.clients[0].pk}))
    text = page.content.decode()
    assert "2 photos from 1 session(s)." in text
    for photo in Photo.objects.all():
        assert reverse("desk:photo-thumb", kwargs={"photo_id": photo.pk}) in text
    panel = specialist.get(reverse("desk:appointment", kwargs={"appointment_id": appt.pk}))
    assert "Photos of this session" in panel.content.decode()


def test_an_unknown_photo_is_not_found(specialist: HttpClient, on_monday: Any) -> None:
    import uuid

    answer = specialist.get(reverse("desk:photo-file", kwargs={"photo_id": uuid.uuid4()}))
    assert answer.status_code == 404


def test_monday_fixture_is_the_desk_day() -> None:
    assert MONDAY.weekday() == 0
