"""Clinical photos (DOMAIN.md 6.5): one row per photo taken at a session, by view.

The image bytes are not in the database and not in the media folder: they are JPEG files we
drew ourselves (daisy.lib.images.image_process) under settings.DAISY_PHOTO_DIR, named by the
photo's random id, read only by daisy/records/photos.py for someone allowed to see them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from daisy.clients.models import Client
from daisy.clinic.models import Location
from daisy.lib.models import PublicModel
from daisy.scheduling.models import Appointment


class PhotoSource(models.TextChoices):
    CAMERA = "camera", _("Taken with the tablet's camera")
    UPLOAD = "upload", _("Uploaded from a file")


class Photo(PublicModel):
    """A clinical photo of one client, at one session (appointment), of one view. A retake adds
    a row; the latest of a session's view is the one shown, the others stay in the record."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="photos")
    appointment = models.ForeignKey(Appointment, on_delete=models.PROTECT, related_name="photos")
    # Where it was taken: the location's setting decides whether the client sees it in the
    # portal (Location.portal_shows_photos).
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    # One of daisy.records.photos.VIEW_KEYS (the standard views, then a close-up per zone).
    view = models.CharField(max_length=32)
    source = models.CharField(max_length=8, choices=PhotoSource.choices)
    taken_at = models.DateTimeField()
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    size_bytes = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    camera = models.CharField(
        max_length=120, blank=True, help_text=_("The camera's make and model, as the photo said.")
    )
    # Purpose tag (DOMAIN.md 6.6: purpose tags on every image). Uploads here are for the
    # clinical record; marketing copies are separate and follow their own consent.
    purpose = models.CharField(max_length=16, default="clinical", editable=False)

    class Meta:
        ordering = ["taken_at", "pk"]
        indexes = [
            models.Index(fields=["client", "view", "taken_at"], name="photo_client_view"),
            models.Index(fields=["appointment", "view"], name="photo_appointment_view"),
        ]

    def __str__(self) -> str:
        return f"{self.view} · {self.taken_at:%Y-%m-%d}"

    # Named by the photo's own random id (never the client's name or id, so a merge of two
    # records moves no file), in 256 folders by its first two hex digits.
    @property
    def file_name(self) -> str:
        return f"{self.pk.hex[:2]}/{self.pk.hex}.jpg"

    @property
    def thumb_name(self) -> str:
        return f"{self.pk.hex[:2]}/{self.pk.hex}-thumb.jpg"
