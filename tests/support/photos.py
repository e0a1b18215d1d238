"""Test images for clinical photos: a phone JPEG carrying GPS and camera EXIF (and, if asked, a
rotation flag), and hostile or broken files the upload must refuse."""

from __future__ import annotations

import struct
import zlib
from io import BytesIO
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

GPS_IFD = 0x8825
ORIENTATION = 0x0112
MAKE = 0x010F
MODEL = 0x0110


def phone_jpeg(
    *, size: tuple[int, int] = (600, 800), colour=(200, 120, 90), orientation: int | None = None
) -> bytes:
    """A photo as a phone writes it: camera make and model, a GPS position, maybe a rotation."""
    img = Image.new("RGB", size, colour)
    img.paste((20, 60, 200), (0, 0, size[0] // 2, size[1] // 3))  # a blue block: shows rotation
    exif = Image.Exif()
    exif[MAKE] = "PhoneMaker"
    exif[MODEL] = "Model 12"
    exif[GPS_IFD] = {1: "N", 2: (51.0, 32.0, 10.0), 3: "W", 4: (0.0, 6.0, 5.0)}
    if orientation:
        exif[ORIENTATION] = orientation
    out = BytesIO()
    img.save(out, "JPEG", exif=exif, quality=90)
    return out.getvalue()


def bomb_png(side: int = 30_000) -> bytes:
    """A decompression bomb: a PNG of a few hundred kilobytes that claims side x side pixels
    (900 million by default). Written by hand: Pillow itself would need the memory."""
    raw_row = b"\x00" + b"\x00" * side  # filter byte + one grey byte per pixel
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(raw_row) for _ in range(64)) + compressor.flush()

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )


def truncated_jpeg() -> bytes:
    whole = phone_jpeg(size=(800, 600))
    return whole[: len(whole) // 2]


def gif() -> bytes:
    out = BytesIO()
    Image.new("RGB", (40, 40), (0, 0, 0)).save(out, "GIF")
    return out.getvalue()


def as_upload(data: bytes, name: str = "IMG_0001.jpg", content_type: str = "image/jpeg") -> Any:
    return SimpleUploadedFile(name, data, content_type=content_type)


def photo_consent(client: Any, *, by: Any, now: Any, appointment: Any = None) -> Any:
    """The client's signed consent to photos for the clinical record (typed name, at the desk),
    as the consent part records it; the shipped templates are installed if a flushed database
    lost them."""
    from daisy.records.consent_selectors import consent_template_for
    from daisy.records.consent_services import Signing, consent_sign, consent_templates_install

    template = consent_template_for(kind="photos_record")
    if template is None:
        consent_templates_install(now=now)
        template = consent_template_for(kind="photos_record")
    (consent,) = consent_sign(
        client=client,
        signing=[Signing(template, template.version)],
        method="typed",
        signed_name=client.full_name,
        via="desk",
        taken_by=by,
        appointment=appointment,
        now=now,
    )
    return consent
