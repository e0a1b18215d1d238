"""Clinical photos (issue 14, item 7; DOMAIN.md 6.5, 6.6): the services that take and show
them, and the selectors that group them by session and view for alignment and comparison.

- Every upload goes through daisy.lib.images.image_process, the same verify-and-redraw the
  public site's photos use: what is kept is a JPEG we drew, upright, without EXIF or GPS, plus a
  thumbnail; anything else is refused with a message a person can act on.
- The files live under settings.DAISY_PHOTO_DIR, outside the media and static folders, so no
  web server or static route can reach them. They are read only by `photo_open`, which checks
  who is asking and writes an audit entry for every viewing (DOMAIN.md 6.6: access logging).
- No consent to photos for the clinical record (the consent part's `consent_current`), no
  photo: the desk is told to take the photo consent first.
- Who may see or take them is the role matrix's (docs/roles.md): specialists and the manager
  (`records.view_photo`, `records.add_photo`); reception neither (clinical detail is for the
  clinicians); a client only their own, and only where the clinic shows photos in the portal
  (Location.portal_shows_photos).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from daisy.audit.services import audit_record, person_name
from daisy.lib.errors import NotFound, PermissionDenied, ValidationFailed
from daisy.lib.images import image_process
from daisy.records.consent_selectors import consent_current, consent_withdrawn_latest
from daisy.records.models import Photo, PhotoSource
from daisy.records.zones import ZONES

# Purpose tags on every photo (DOMAIN.md 6.6). Photos taken at a session are for the clinical
# record; a marketing copy (tagged for marketing and teaching) may exist only while the client's
# separate marketing-photo consent does, and goes when it is withdrawn.
PURPOSE_CLINICAL = "clinical"
PURPOSE_MARKETING = "marketing"

# Longest side kept (pixels): a 12-megapixel phone photo keeps its detail for comparison.
MAX_EDGE = 3000
THUMB_EDGE = 360
# Photos are taken at a session that takes (or took) place, not on a cancelled or missed one.
TAKEN_AT_STATUSES = frozenset({"booked", "checked_in", "in_treatment", "completed"})
PHOTOS_RECORD = "photos_record"  # the consent kind (daisy.records.models.ConsentKind)
# For the interface apps' forms (they read no models).
SOURCE_CAMERA = PhotoSource.CAMERA.value
SOURCE_UPLOAD = PhotoSource.UPLOAD.value


@dataclass(frozen=True)
class PhotoView:
    key: str
    label: str | Promise
    is_standard: bool  # taken at every session (the face set); close-ups for the zones treated


# The views, the one list of them (DOMAIN.md 6.5: a fixed view set per zone; face: frontal, left
# and right 45° oblique, left and right 90° lateral), then a close-up of each zone of the face
# map (daisy/records/zones.py, the chart's one zone list) and of a body area. The desk's photo
# page asks for them in this order; comparison is always within one view, so session 1's left
# 45° is only ever set against a later left 45°. Left and right are the client's own, as on the
# face map.
PHOTO_VIEWS: tuple[PhotoView, ...] = (
    PhotoView("front", gettext_lazy("Front"), True),
    PhotoView("left_45", gettext_lazy("Left 45°"), True),
    PhotoView("left_90", gettext_lazy("Left 90° (profile)"), True),
    PhotoView("right_45", gettext_lazy("Right 45°"), True),
    PhotoView("right_90", gettext_lazy("Right 90° (profile)"), True),
    *(
        PhotoView(
            f"close_{zone.key}",
            format_lazy(gettext_lazy("Close-up: {zone}"), zone=zone.label),
            False,
        )
        for zone in ZONES
    ),
    PhotoView("close_body", gettext_lazy("Close-up: a body area (with a scale marker)"), False),
)
VIEW_KEYS: tuple[str, ...] = tuple(v.key for v in PHOTO_VIEWS)
VIEW_CHOICES: list[tuple[str, Any]] = [(v.key, v.label) for v in PHOTO_VIEWS]
STANDARD_VIEWS: tuple[str, ...] = tuple(v.key for v in PHOTO_VIEWS if v.is_standard)


VIEW_LABELS: dict[str, Any] = dict(VIEW_CHOICES)


def view_label(key: str) -> str:
    return str(VIEW_LABELS.get(key, key))


# --- who may -------------------------------------------------------------------------------


def photos_staff_may_view(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.has_perm("records.view_photo"))


def photos_staff_may_take(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.has_perm("records.add_photo"))


def photos_client_may_view(photo: Photo, client: Any) -> bool:
    """A client sees their own photo, where the clinic shows photos in the portal."""
    return (
        client is not None
        and photo.client_id == client.pk
        and bool(photo.location.portal_shows_photos)
    )


# --- files ---------------------------------------------------------------------------------


def _root() -> Path:
    return Path(settings.DAISY_PHOTO_DIR)


def _write(name: str, data: bytes) -> Path:
    """Write `data` to the photo folder, readable by the server's own user only. A temporary
    name and a rename: a reader never sees half a file."""
    path = _root() / name
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.replace(tmp, path)
    return path


# --- services ------------------------------------------------------------------------------


def photo_add(
    *,
    appointment: Any,
    view: str,
    upload: Any,
    source: str,
    by: Any,
    now: datetime,
) -> Photo:
    """Keep one clinical photo of `appointment`'s client, of one view; audited as `photo.add`.

    Refused (ValidationFailed, with a message for the person taking it): someone who may not
    take clinical photos, a view not in the standard set, a cancelled or missed appointment, and
    no current consent to photos for the clinical record, and any upload that is not a
    readable photo of an accepted size."""
    if not photos_staff_may_take(by):
        raise PermissionDenied(_("Clinical photos are taken by specialists and the manager."))
    if view not in VIEW_KEYS:
        raise ValidationFailed(_("Choose which view this photo is."), fields={"view": "invalid"})
    if source not in PhotoSource.values:
        source = PhotoSource.UPLOAD
    if appointment.status not in TAKEN_AT_STATUSES:
        raise ValidationFailed(
            _("This appointment is %(status)s: photos are taken at a session that takes place.")
            % {"status": appointment.get_status_display().lower()}
        )
    _consent_check(appointment.client)
    if upload is None:
        raise ValidationFailed(_("Take a photo or choose one first."), fields={"image": "missing"})
    try:
        done = image_process(
            upload,
            max_bytes=settings.DAISY_PHOTO_MAX_BYTES,
            max_edge=MAX_EDGE,
            thumb_edge=THUMB_EDGE,
            what="clinical",
        )
    except ValidationError as exc:
        raise ValidationFailed(" ".join(exc.messages), fields={"image": exc.code or ""}) from None

    photo = Photo(
        client_id=appointment.client_id,
        appointment=appointment,
        location_id=appointment.location_id,
        view=view,
        source=source,
        taken_at=now,
        taken_by=by if getattr(by, "pk", None) else None,
        width=done.width,
        height=done.height,
        size_bytes=len(done.jpeg),
        sha256=hashlib.sha256(done.jpeg).hexdigest(),
        camera=done.camera,
    )
    written = [_write(photo.file_name, done.jpeg), _write(photo.thumb_name, done.thumbnail)]
    try:
        with transaction.atomic():
            photo.save(force_insert=True)
            audit_record(
                actor=by,
                action="photo.add",
                obj=photo,
                at=now,
                name=f"{view_label(photo.view)} photo",
                data={
                    "client": str(photo.client_id),
                    "appointment": str(appointment.pk),
                    "view": view,
                    "source": source,
                    "sha256": photo.sha256,
                },
            )
    except BaseException:
        # The row was never kept: neither are its files.
        for path in written:
            with contextlib.suppress(OSError):
                path.unlink()
        raise
    return photo


def _consent_check(client: Any) -> None:
    """No consent to photos for the clinical record, no photo (DOMAIN.md 6.4, 6.6: a separate
    photo consent; issue 14 item 7: no consent, no upload)."""
    if consent_current(client, kind=PHOTOS_RECORD) is not None:
        return
    withdrawn = consent_withdrawn_latest(client, kind=PHOTOS_RECORD)
    if withdrawn is not None:
        message = _(
            "%(name)s withdrew their consent to photos for the clinical record on %(day)s. "
            "Take no photos unless they sign the photo consent again. Nothing was saved."
        ) % {"name": client.full_name, "day": f"{withdrawn.withdrawn_at:%-d %b %Y}"}
    else:
        message = _(
            "%(name)s has not given consent to photos for the clinical record (or the consent "
            "text has changed since they signed). Take the photo consent first, then the "
            "photos. Nothing was saved."
        ) % {"name": client.full_name}
    raise ValidationFailed(message, code="no_photo_consent", fields={"consent": "missing"})


def photo_consent_given(client: Any) -> bool:
    return consent_current(client, kind=PHOTOS_RECORD) is not None


def photo_open(*, photo: Photo, viewer: Any, thumb: bool, via: str, now: datetime) -> BinaryIO:
    """The photo's JPEG (or its thumbnail) for someone the caller has checked may see it,
    recorded in the audit trail as a viewing of the client's record (`photo.view`)."""
    name = photo.thumb_name if thumb else photo.file_name
    try:
        handle = (_root() / name).open("rb")
    except OSError:
        raise NotFound(_("That photo's file is missing; ask the manager to restore it.")) from None
    audit_record(
        actor=viewer,
        action="photo.view",
        obj=photo,
        at=now,
        name=f"{view_label(photo.view)} photo",
        data={"client": str(photo.client_id), "size": "thumb" if thumb else "full", "via": via},
    )
    return handle


def photos_reassign_client(*, source: Any, target: Any) -> int:
    """A merge of two records of one person: the photos move to the record kept (their files
    are named by the photo's own id, so none moves)."""
    return Photo.objects.filter(client=source).update(client=target)


def _photos_delete(photos: list[Photo]) -> int:
    """Rows now, files once the transaction has committed (a rolled-back one keeps both)."""
    names = [name for p in photos for name in (p.file_name, p.thumb_name)]
    removed = Photo.objects.filter(pk__in=[p.pk for p in photos]).delete()[0]

    def unlink() -> None:
        for name in names:
            with contextlib.suppress(OSError):
                (_root() / name).unlink()

    transaction.on_commit(unlink)
    return int(removed)


def photos_erase_for_client(*, client: Any) -> int:
    """The clinical record's retention period is over (daisy/records/retention.py; DOMAIN.md
    6.7: photos follow the clinical record): the client's photos go, rows now and files once
    the erasure has committed (a rolled-back erasure keeps both). Returns how many."""
    return _photos_delete(list(Photo.objects.filter(client=client)))


def photos_marketing_erase_for_client(*, client: Any) -> int:
    """The client withdrew their consent to photos for marketing and teaching (DOMAIN.md 6.4,
    6.6: marketing copies are deleted on withdrawal): every photo of theirs tagged for
    marketing goes, rows now and files after commit. Their clinical photos stay: they follow
    the clinical record's retention. Returns how many."""
    return _photos_delete(list(Photo.objects.filter(client=client, purpose=PURPOSE_MARKETING)))


# --- selectors -----------------------------------------------------------------------------


def photo_get(photo_id: Any) -> Photo:
    try:
        return Photo.objects.select_related("location").get(pk=photo_id)
    except (Photo.DoesNotExist, ValueError, ValidationError):
        raise NotFound(_("That photo does not exist.")) from None


@dataclass
class Session:
    """One appointment with photos, numbered from 1 in the order they took place."""

    number: int
    appointment: Any
    # The latest photo of each view taken at this session.
    photos: dict[str, Photo] = field(default_factory=dict)

    @property
    def starts_at(self) -> datetime:
        return self.appointment.starts_at  # type: ignore[no-any-return]


@dataclass
class ViewRow:
    """One view across a client's sessions: the first photo of it, and the one compared."""

    view: str
    label: str
    first: Photo | None
    first_session: int
    compared: Photo | None
    compared_session: int
    # Every session's photo of this view, oldest first (the progress strip).
    timeline: list[tuple[int, Photo]] = field(default_factory=list)


def photo_sessions(client: Any, *, photos: list[Photo] | None = None) -> list[Session]:
    """The client's sessions that have photos, oldest first, numbered from 1."""
    if photos is None:
        photos = list(
            Photo.objects.filter(client=client)
            .select_related("appointment", "location")
            .order_by("taken_at", "pk")
        )
    by_appointment: dict[Any, Session] = {}
    for photo in photos:
        photo.label = view_label(photo.view)  # type: ignore[attr-defined]
        session = by_appointment.setdefault(
            photo.appointment_id, Session(number=0, appointment=photo.appointment)
        )
        session.photos[photo.view] = photo  # in taken order: a retake replaces what is shown
    sessions = sorted(by_appointment.values(), key=lambda s: (s.starts_at, str(s.appointment.pk)))
    for number, session in enumerate(sessions, start=1):
        session.number = number
    return sessions


def photo_baselines(sessions: list[Session], *, before: Any = None) -> dict[str, Photo]:
    """The baseline of each view: its photo at the first session that has one. With `before`
    (an appointment), only sessions that started before it count, so session N's page shows
    the baseline as the ghost to line up with, never its own photo."""
    out: dict[str, Photo] = {}
    for session in sessions:
        if before is not None and (
            session.appointment.pk == before.pk or session.starts_at >= before.starts_at
        ):
            continue
        for view, photo in session.photos.items():
            out.setdefault(view, photo)
    return out


def photo_comparison(sessions: list[Session], *, compare_with: int | None = None) -> list[ViewRow]:
    """Per view (in the standard order), session 1's photo of it set against session N's:
    `compare_with` (a session number), or the latest session that has that view."""
    rows = []
    for view in PHOTO_VIEWS:
        timeline = [(s.number, s.photos[view.key]) for s in sessions if view.key in s.photos]
        if not timeline:
            continue
        first_n, first = timeline[0]
        later = [(n, p) for n, p in timeline if n > first_n]
        if compare_with is not None:
            later = [(n, p) for n, p in later if n == compare_with]
        compared_n, compared = later[-1] if later else (0, None)
        rows.append(
            ViewRow(
                view=view.key,
                label=str(view.label),
                first=first,
                first_session=first_n,
                compared=compared,
                compared_session=compared_n,
                timeline=timeline,
            )
        )
    return rows


def photo_views_for_session() -> list[tuple[str, str, bool]]:
    """(value, label, is_standard) of every view, in the order the desk asks for them."""
    return [(v.key, str(v.label), v.is_standard) for v in PHOTO_VIEWS]


def photos_for_portal(client: Any) -> list[Photo]:
    """The client's own photos that the clinic shows in the portal (taken at a location whose
    `portal_shows_photos` is on), oldest first."""
    return list(
        Photo.objects.filter(client=client, location__portal_shows_photos=True)
        .select_related("appointment", "location")
        .order_by("taken_at", "pk")
    )


def photos_export_for_client(client: Any) -> list[dict[str, Any]]:
    """What the client's data download says of each of their photos (the images themselves
    are shown to them in the portal where the clinic allows it, and on request)."""
    return [
        {
            "id": str(p.pk),
            "view": view_label(p.view),
            "appointment": str(p.appointment_id),
            "taken_at": p.taken_at.isoformat(),
            "taken_by": person_name(p.taken_by) or None,
            "camera": p.camera,
            "width": p.width,
            "height": p.height,
            "sha256": p.sha256,
            "purpose": p.purpose,
        }
        for p in Photo.objects.filter(client=client)
        .select_related("taken_by")
        .order_by("taken_at", "pk")
    ]


def photos_for_export(client: Any) -> list[Photo]:
    """Every photo of the client, oldest first, for their data download (the right of access
    covers them whether or not the clinic shows photos in the portal)."""
    return list(Photo.objects.filter(client=client).order_by("taken_at", "pk"))


def photos_count_for_client(client: Any) -> int:
    return Photo.objects.filter(client=client).count()
