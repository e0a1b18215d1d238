"""Clinical photos (issue 14, item 7; DOMAIN.md 6.5, 6.6): what is kept is a JPEG we drew,
upright, without EXIF or GPS, with a thumbnail, under DAISY_PHOTO_DIR and nowhere public;
hostile, broken, wrong-kind and oversized uploads are refused with a message; every viewing is
audited; sessions are numbered and compared per view, and the ghost is always an earlier
session's photo."""

from __future__ import annotations

from datetime import timedelta
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from PIL import Image

from daisy.accounts.models import Role
from daisy.audit.models import AuditEntry
from daisy.booking.services import appointment_book
from daisy.lib.errors import PermissionDenied, ValidationFailed
from daisy.records.consent_selectors import consent_current
from daisy.records.consent_services import consent_withdraw
from daisy.records.export import records_export_for_client
from daisy.records.models import Photo
from daisy.records.photos import (
    VIEW_KEYS,
    photo_add,
    photo_baselines,
    photo_comparison,
    photo_open,
    photo_sessions,
    photos_erase_for_client,
)
from daisy.records.retention import has_clinical_record
from tests.support.photos import (
    GPS_IFD,
    as_upload,
    bomb_png,
    gif,
    phone_jpeg,
    photo_consent,
    truncated_jpeg,
)
from tests.support.testing import MONDAY, at, booking_now, make_clinic, make_user

NOW = at(MONDAY, 10)


@pytest.fixture(autouse=True)
def photo_dir(settings: Any, tmp_path: Path) -> Path:
    settings.DAISY_PHOTO_DIR = tmp_path / "photos"
    return settings.DAISY_PHOTO_DIR


@pytest.fixture
def clinic(db: Any) -> Any:
    clinic = make_clinic(specialists=1, rooms=1, pens=1, clients=2)
    photo_consent(clinic.clients[0], by=clinic.specialists[0].user, now=NOW - timedelta(hours=1))
    return clinic


def _session(clinic: Any, client: Any, weeks: int) -> Any:
    return appointment_book(
        client=client,
        treatment=clinic.microneedling,
        starts_at=at(MONDAY + timedelta(weeks=weeks), 10),
        booked_by=clinic.reception,
        now=booking_now(),
        location=clinic.location,
    ).appointment


def _add(clinic: Any, appt: Any, view: str = "front", data: bytes | None = None, **kw: Any):
    return photo_add(
        appointment=appt,
        view=view,
        upload=as_upload(data if data is not None else phone_jpeg()),
        source="camera",
        by=kw.get("by", clinic.specialists[0].user),
        now=kw.get("now", NOW),
    )


def test_exif_and_gps_are_gone_and_the_photo_is_upright(clinic: Any, photo_dir: Path) -> None:
    original = Image.open(BytesIO(phone_jpeg(orientation=6)))
    assert original.getexif().get(GPS_IFD) is not None  # the test photo really carries GPS
    appt = _session(clinic, clinic.clients[0], 0)

    photo = _add(clinic, appt, data=phone_jpeg(size=(600, 800), orientation=6))

    stored = Image.open(photo_dir / photo.file_name)
    assert stored.format == "JPEG"
    assert dict(stored.getexif()) == {}
    assert "exif" not in stored.info
    assert stored.size == (800, 600)  # orientation 6 turned into pixels
    raw = (photo_dir / photo.file_name).read_bytes()
    assert b"PhoneMaker" not in raw and b"GPS" not in raw
    assert photo.camera == "PhoneMaker Model 12"  # kept as a fact about the photo, not in it
    assert (photo.width, photo.height) == (800, 600)


def test_a_thumbnail_is_made_and_files_are_private(clinic: Any, photo_dir: Path) -> None:
    appt = _session(clinic, clinic.clients[0], 0)
    photo = _add(clinic, appt, data=phone_jpeg(size=(3000, 4000)))
    thumb = Image.open(photo_dir / photo.thumb_name)
    assert thumb.format == "JPEG" and max(thumb.size) == 360
    assert max(Image.open(photo_dir / photo.file_name).size) == 3000
    assert (photo_dir / photo.file_name).stat().st_mode & 0o077 == 0
    # Nowhere a web server or the static files reach.
    for public in (settings.MEDIA_ROOT, settings.STATIC_ROOT):
        assert not (photo_dir / photo.file_name).resolve().is_relative_to(Path(public).resolve())


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (bomb_png(), "too many pixels"),
        (truncated_jpeg(), "not a photo we can read"),
        (gif(), "not a photo we can read"),
        (b"<html><script>alert(1)</script></html>", "not a photo we can read"),
        (b"", "not a photo we can read"),
    ],
    ids=["decompression-bomb", "truncated", "gif", "html", "empty"],
)
def test_hostile_or_broken_images_are_refused_with_a_message(
    clinic: Any, photo_dir: Path, data: bytes, words: str
) -> None:
    appt = _session(clinic, clinic.clients[0], 0)
    with pytest.raises(ValidationFailed) as refused:
        _add(clinic, appt, data=data)
    assert words in refused.value.message
    assert not Photo.objects.exists()
    assert not any(photo_dir.rglob("*.jpg")) if photo_dir.exists() else True


def test_a_30_mb_upload_is_refused_with_its_size_and_the_limit(clinic: Any) -> None:
    appt = _session(clinic, clinic.clients[0], 0)
    big = phone_jpeg() + b"\0" * (30 * 1024 * 1024)
    with pytest.raises(ValidationFailed) as refused:
        _add(clinic, appt, data=big)
    assert "30.1 MB" in refused.value.message and "20 MB" in refused.value.message
    assert not Photo.objects.exists()


def test_only_clinicians_take_photos(clinic: Any) -> None:
    appt = _session(clinic, clinic.clients[0], 0)
    for user in (clinic.reception, make_user(role=Role.CLIENT)):
        with pytest.raises(PermissionDenied):
            _add(clinic, appt, by=user)
    assert _add(clinic, appt, by=clinic.manager).taken_by == clinic.manager


def test_adding_and_viewing_are_audited(clinic: Any) -> None:
    appt = _session(clinic, clinic.clients[0], 0)
    photo = _add(clinic, appt)
    added = AuditEntry.objects.get(action="photo.add")
    assert added.client_ref == str(clinic.clients[0].pk) and added.data["view"] == "front"

    with photo_open(photo=photo, viewer=clinic.manager, thumb=True, via="desk", now=NOW) as handle:
        assert handle.read(2) == b"\xff\xd8"
    seen = AuditEntry.objects.get(action="photo.view")
    assert seen.actor == clinic.manager and seen.data["size"] == "thumb"
    assert seen.client_ref == str(clinic.clients[0].pk)


def test_a_cancelled_appointment_takes_no_photos(clinic: Any) -> None:
    appt = _session(clinic, clinic.clients[0], 0)
    appt.status = "cancelled"
    with pytest.raises(ValidationFailed, match="cancelled"):
        _add(clinic, appt)


def test_sessions_baselines_and_comparison_per_view(clinic: Any) -> None:
    client = clinic.clients[0]
    first, second, third = (_session(clinic, client, w) for w in (0, 4, 8))
    base_front = _add(clinic, first, "front")
    base_left = _add(clinic, first, "left_45")
    _add(clinic, second, "front", now=NOW + timedelta(weeks=4))
    retake = _add(clinic, second, "front", now=NOW + timedelta(weeks=4, minutes=1))
    last_front = _add(clinic, third, "front", now=NOW + timedelta(weeks=8))
    close = _add(clinic, third, "close_forehead", now=NOW + timedelta(weeks=8))

    sessions = photo_sessions(client)
    assert [s.number for s in sessions] == [1, 2, 3]
    assert sessions[1].photos["front"] == retake  # the latest of a view is shown

    # The ghost on session 3's page is session 1's photo of each view, never session 3's own.
    ghosts = photo_baselines(sessions, before=third)
    assert ghosts == {"front": base_front, "left_45": base_left}
    assert photo_baselines(sessions, before=first) == {}

    rows = {r.view: r for r in photo_comparison(sessions)}
    assert (rows["front"].first, rows["front"].compared) == (base_front, last_front)
    assert rows["front"].compared_session == 3
    assert rows["left_45"].compared is None  # one session only: nothing to compare yet
    assert rows["close_forehead"].first == close
    chosen = {r.view: r for r in photo_comparison(sessions, compare_with=2)}
    assert chosen["front"].compared == retake
    assert list(rows) == [v for v in VIEW_KEYS if v in rows]  # the standard order


def test_no_photo_consent_no_photo(clinic: Any, photo_dir: Path) -> None:
    other = clinic.clients[1]  # never signed the photo consent
    appt = _session(clinic, other, 0)
    with pytest.raises(ValidationFailed) as refused:
        _add(clinic, appt)
    assert refused.value.code == "no_photo_consent"
    assert "Take the photo consent first" in refused.value.message
    assert not Photo.objects.exists() and not AuditEntry.objects.filter(action="photo.add")
    assert not photo_dir.exists() or not any(photo_dir.rglob("*.jpg"))

    photo_consent(other, by=clinic.specialists[0].user, now=NOW)
    assert _add(clinic, appt).client == other


def test_a_withdrawn_photo_consent_stops_new_photos(clinic: Any) -> None:
    person = clinic.clients[0]
    appt = _session(clinic, person, 0)
    _add(clinic, appt)
    consent = consent_current(person, kind="photos_record")
    consent_withdraw(
        consent=consent, by=clinic.manager, reason="Does not want photos", now=NOW, via="desk"
    )
    with pytest.raises(ValidationFailed, match="withdrew their consent to photos"):
        _add(clinic, appt, view="left_45")
    assert Photo.objects.count() == 1  # what was taken with consent stays in the record


def test_erasure_after_retention_removes_rows_then_files(
    clinic: Any, photo_dir: Path, django_capture_on_commit_callbacks: Any
) -> None:
    person = clinic.clients[0]
    photo = _add(clinic, _session(clinic, person, 0))
    assert has_clinical_record(person)  # photos are part of the clinical record
    with django_capture_on_commit_callbacks(execute=True):
        assert photos_erase_for_client(client=person) == 1
    assert not Photo.objects.exists()
    assert not (photo_dir / photo.file_name).exists()
    assert not (photo_dir / photo.thumb_name).exists()


def test_the_data_download_lists_the_clients_photos(clinic: Any) -> None:
    person = clinic.clients[0]
    photo = _add(clinic, _session(clinic, person, 0))
    (entry,) = records_export_for_client(person)["photos"]
    assert entry["id"] == str(photo.pk) and entry["view"] == "Front"
    assert entry["sha256"] == photo.sha256 and entry["purpose"] == "clinical"
    assert records_export_for_client(clinic.clients[1])["photos"] == []


def _marketing_consent(clinic: Any, client: Any) -> Any:
    from daisy.records.consent_selectors import consent_template_for
    from daisy.records.consent_services import Signing, consent_sign

    template = consent_template_for(kind="photos_marketing")
    (consent,) = consent_sign(
        client=client,
        signing=[Signing(template, template.version)],
        method="typed",
        signed_name=client.full_name,
        via="desk",
        taken_by=clinic.specialists[0].user,
        now=NOW - timedelta(hours=1),
    )
    return consent


def _marketing_copy(photo: Any, photo_dir: Path) -> Any:
    """A copy of a clinical photo tagged for marketing and teaching, with its own files (how
    a copy is made is not part of the app yet: only its deletion on withdrawal is)."""
    copy = Photo.objects.create(
        client=photo.client,
        appointment=photo.appointment,
        location=photo.location,
        view=photo.view,
        source=photo.source,
        taken_at=photo.taken_at,
        taken_by=photo.taken_by,
        width=photo.width,
        height=photo.height,
        size_bytes=photo.size_bytes,
        sha256=photo.sha256,
        purpose="marketing",
    )
    for source, target in ((photo.file_name, copy.file_name), (photo.thumb_name, copy.thumb_name)):
        (photo_dir / target).parent.mkdir(parents=True, exist_ok=True)
        (photo_dir / target).write_bytes((photo_dir / source).read_bytes())
    return copy


def test_withdrawing_the_marketing_consent_deletes_the_marketing_copies_only(
    clinic: Any, photo_dir: Path, django_capture_on_commit_callbacks: Any
) -> None:
    person, other = clinic.clients
    photo_consent(other, by=clinic.specialists[0].user, now=NOW - timedelta(hours=1))
    consent = _marketing_consent(clinic, person)
    _marketing_consent(clinic, other)
    clinical = _add(clinic, _session(clinic, person, 0))
    copy = _marketing_copy(clinical, photo_dir)
    theirs = _marketing_copy(_add(clinic, _session(clinic, other, 1)), photo_dir)

    with django_capture_on_commit_callbacks(execute=True):
        consent_withdraw(
            consent=consent,
            by=clinic.specialists[0].user,
            reason="Changed my mind",
            now=NOW,
            via="desk",
        )
    assert not Photo.objects.filter(pk=copy.pk).exists()
    assert not (photo_dir / copy.file_name).exists() and not (photo_dir / copy.thumb_name).exists()
    # The clinical photo stays in the record; another client's marketing copy is untouched.
    assert (
        Photo.objects.filter(pk=clinical.pk).exists() and (photo_dir / clinical.file_name).exists()
    )
    assert Photo.objects.filter(pk=theirs.pk).exists() and (photo_dir / theirs.file_name).exists()
    entry = AuditEntry.objects.get(action="consent.withdraw")
    assert entry.data["marketing_photos_deleted"] == 1


def test_withdrawing_the_clinical_photo_consent_keeps_marketing_copies(
    clinic: Any, photo_dir: Path
) -> None:
    person = clinic.clients[0]
    _marketing_consent(clinic, person)
    copy = _marketing_copy(_add(clinic, _session(clinic, person, 0)), photo_dir)
    consent_withdraw(
        consent=consent_current(person, kind="photos_record"),
        by=clinic.specialists[0].user,
        reason="No more photos",
        now=NOW,
        via="desk",
    )
    assert Photo.objects.filter(pk=copy.pk).exists()
