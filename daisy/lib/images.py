"""Photos that staff upload: for the public site (the clinic, the team) and for the clinical
record (daisy/records/photos.py), through the one `image_process` below.

Every upload is opened with Pillow, checked, and saved again as a fresh JPEG: what is stored is
pixels we drew, never the bytes we were sent. That drops EXIF and GPS data (a phone photo carries
where and when it was taken), any script or second file hidden in the original, and oversized
originals. Files are named by a hash of their contents, so a name reveals nothing about the
original and a new photo always has a new address (browsers may cache one for ever).

Anything saved under `public/` in the media folder is served to anyone (daisy/site/views.py);
nothing else in the media folder is. Clinical photos are health data: they are kept outside it,
under DAISY_PHOTO_DIR, and only served through an access-checked, audited view.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from io import BytesIO
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
# A 12 MP phone photo is 12 million pixels. Far more is either a panorama nobody needs on a web
# page or a "decompression bomb": a small file that unpacks into gigabytes of memory.
MAX_PIXELS = 50_000_000
MAX_EDGE = 2000  # the longest side we keep, in pixels: sharp on a large screen, a few hundred KB
ACCEPTED_FORMATS = {"JPEG", "MPO", "PNG", "WEBP"}  # MPO: the JPEG variant some phones write
JPEG_QUALITY = 85
PUBLIC_PREFIX = "public/"

TOO_MANY_PIXELS = _(
    "This photo has far too many pixels to open safely. Please save a smaller copy "
    "(for example 2,000 pixels wide) and upload that."
)
NOT_AN_IMAGE = _(
    "This file is not a photo we can read. Please choose a JPEG, PNG or WebP image "
    "(photos from a phone or camera are usually JPEG)."
)


def photo_reencode(upload: Any) -> ContentFile[bytes]:
    """The upload as a clean JPEG, or ValidationError saying plainly what is wrong."""
    data = image_process(upload, max_bytes=MAX_UPLOAD_BYTES, max_edge=MAX_EDGE).jpeg
    return ContentFile(data, name=f"{hashlib.sha256(data).hexdigest()[:32]}.jpg")


@dataclass(frozen=True)
class Processed:
    """An upload made safe: `jpeg` holds pixels we drew, upright, without EXIF or GPS."""

    jpeg: bytes
    width: int
    height: int
    thumbnail: bytes = b""
    # The camera's make and model, read before the EXIF is dropped (DOMAIN.md 6.5: keep the
    # camera with a clinical photo); never the position, time or serial number.
    camera: str = ""


def image_process(
    upload: Any, *, max_bytes: int, max_edge: int, thumb_edge: int = 0, what: str = ""
) -> Processed:
    """Verify, re-encode and (with `thumb_edge`) make a thumbnail of an uploaded image: the one
    way Daisy turns bytes it was sent into a picture it keeps (the public site's photos and
    clinical photos alike). Anything else raises ValidationError with a message a person can
    act on: too big a file, too many pixels (a "decompression bomb" among them), not an image
    of a kind we take, or a damaged or cut-off file."""
    size = getattr(upload, "size", None)
    if size is not None and size > max_bytes:
        raise ValidationError(
            _(
                "This photo is %(size)s; the largest we accept is %(max)s. Please choose a "
                "smaller photo, or save a smaller copy of it first."
            ),
            code="too_big",
            params={"size": _megabytes(size), "max": _megabytes(max_bytes)},
        )
    try:
        upload.seek(0)
        with Image.open(upload) as probe:
            fmt = probe.format
            width, height = probe.size
            probe.verify()  # reads the whole file: a truncated or forged image fails here
    except Image.DecompressionBombError:
        raise ValidationError(TOO_MANY_PIXELS, code="too_many_pixels") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ValidationError(NOT_AN_IMAGE, code="not_an_image") from None
    if fmt not in ACCEPTED_FORMATS:
        raise ValidationError(NOT_AN_IMAGE, code="not_an_image")
    if width * height > MAX_PIXELS:
        raise ValidationError(
            _(
                "This photo is %(width)s × %(height)s pixels, too large to use. Please save a "
                "smaller copy (for example 2,000 pixels wide) and upload that."
            ),
            code="too_many_pixels",
            params={"width": width, "height": height},
        )
    try:
        upload.seek(0)
        with Image.open(upload) as img:
            camera = _camera(img) if what == "clinical" else ""
            # Phones store "rotate me" in EXIF; turn the pixels before the EXIF is dropped.
            upright = ImageOps.exif_transpose(img)
            upright.thumbnail((max_edge, max_edge), Image.Resampling.LANCZOS)
            icc = img.info.get("icc_profile")
            rgb = _flatten(upright)
            data = _jpeg(rgb, icc)
            thumb = b""
            if thumb_edge:
                small = rgb.copy()
                small.thumbnail((thumb_edge, thumb_edge), Image.Resampling.LANCZOS)
                thumb = _jpeg(small, icc)
    except Image.DecompressionBombError:
        raise ValidationError(TOO_MANY_PIXELS, code="too_many_pixels") from None
    except (OSError, ValueError, SyntaxError):
        # OSError is also "image file is truncated": a photo cut off in transfer.
        raise ValidationError(NOT_AN_IMAGE, code="not_an_image") from None
    return Processed(jpeg=data, width=rgb.width, height=rgb.height, thumbnail=thumb, camera=camera)


def _jpeg(img: Image.Image, icc: Any) -> bytes:
    out = BytesIO()
    # No exif= argument: the new file carries no EXIF, GPS or maker notes. The colour profile
    # stays, so colours look as the photographer saw them.
    img.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True, icc_profile=icc)
    return out.getvalue()


def _camera(img: Image.Image) -> str:
    try:
        exif = img.getexif()
    except Exception:  # a broken EXIF block costs the camera name, never the photo
        return ""
    parts = [str(exif.get(tag) or "").strip("\x00 ") for tag in (0x010F, 0x0110)]  # make, model
    return " ".join(p for p in parts if p)[:120]


def _megabytes(n: int) -> str:
    """10 MB, 10.1 MB: rounded up, so a file just over the limit never reads as the limit."""
    tenths = math.ceil(n * 10 / (1024 * 1024))
    return f"{tenths // 10} MB" if tenths % 10 == 0 else f"{tenths / 10:.1f} MB"


def _flatten(img: Image.Image) -> Image.Image:
    """RGB on white: a transparent PNG would otherwise turn black as a JPEG."""
    if img.mode in ("RGBA", "LA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return img.convert("RGB")


class PhotoFormField(forms.FileField):
    """A file input whose cleaned value is the re-encoded photo (see photo_reencode)."""

    widget = forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"})

    def to_python(self, data: Any) -> Any:
        upload = super().to_python(data)
        if upload is None:
            return None
        return photo_reencode(upload)


class PhotoField(models.FileField):
    """A model field for a public photo: every form (the admin included) re-encodes uploads."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 200)
        super().__init__(*args, **kwargs)

    def formfield(self, **kwargs: Any) -> Any:
        return super().formfield(**{"form_class": PhotoFormField, **kwargs})


class PhotoFilesAdminMixin:
    """For a ModelAdmin whose model has PhotoFields (named in `photo_fields`): a photo that is
    replaced, cleared or deleted leaves the disk too. Otherwise its address would go on showing
    it to anyone who kept the link, after staff took it down (a team member who left, say)."""

    photo_fields: tuple[str, ...] = ()

    def save_model(self, request: Any, obj: Any, form: Any, change: bool) -> None:
        old = {}
        if change:
            old = {f: form.initial.get(f) for f in self.photo_fields if f in form.changed_data}
        super().save_model(request, obj, form, change)  # type: ignore[misc]
        for field, previous in old.items():
            name = getattr(previous, "name", previous)
            if name and name != getattr(obj, field).name:
                _discard_on_commit(getattr(obj, field).storage, name)

    def delete_model(self, request: Any, obj: Any) -> None:
        files = [getattr(obj, f) for f in self.photo_fields]
        super().delete_model(request, obj)  # type: ignore[misc]
        for f in files:
            if f:
                _discard_on_commit(f.storage, f.name)

    def delete_queryset(self, request: Any, queryset: Any) -> None:
        files = [getattr(obj, f) for obj in queryset for f in self.photo_fields]
        super().delete_queryset(request, queryset)  # type: ignore[misc]
        for f in files:
            if f:
                _discard_on_commit(f.storage, f.name)


def _discard_on_commit(storage: Any, name: str) -> None:
    # After the commit: a rolled-back change must not lose the photo it still points at.
    transaction.on_commit(lambda: storage.delete(name))
