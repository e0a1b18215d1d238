"""Photos staff upload for the public site: what is kept is a fresh JPEG without EXIF or GPS,
upright, and at most 2,000 pixels on its longest side; anything that is not a photo, or is too
big, is refused with a message a person can act on."""

from __future__ import annotations

from io import BytesIO

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from daisy.lib.images import MAX_UPLOAD_BYTES, photo_reencode

GPS_IFD = 0x8825
ORIENTATION = 0x0112
MAKE = 0x010F


def phone_photo(*, size=(300, 200), orientation: int | None = None, fmt="JPEG") -> bytes:
    """A photo as a phone writes it: camera make, GPS position, and a rotation flag."""
    img = Image.new("RGB", size, (200, 120, 90))
    img.paste((20, 60, 200), (0, 0, size[0] // 2, size[1]))  # left half blue: shows rotation
    exif = Image.Exif()
    exif[MAKE] = "PhoneMaker"
    exif[GPS_IFD] = {1: "N", 2: (51.0, 32.0, 10.0), 3: "W", 4: (0.0, 6.0, 5.0)}
    if orientation:
        exif[ORIENTATION] = orientation
    out = BytesIO()
    img.save(out, fmt, exif=exif)
    return out.getvalue()


def upload(data: bytes, name: str = "IMG_2041.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="image/jpeg")


def reopen(stored) -> Image.Image:
    stored.seek(0)
    img = Image.open(BytesIO(stored.read()))
    img.load()
    return img


def test_gps_and_camera_details_are_removed():
    original = Image.open(BytesIO(phone_photo()))
    assert original.getexif().get(MAKE) == "PhoneMaker"  # the test photo really carries them
    kept = reopen(photo_reencode(upload(phone_photo())))
    assert kept.format == "JPEG"
    assert dict(kept.getexif()) == {}
    assert "exif" not in kept.info


def test_a_sideways_phone_photo_is_stored_upright():
    # Orientation 6: the camera was turned; viewers rotate 90 degrees clockwise.
    kept = reopen(photo_reencode(upload(phone_photo(size=(300, 200), orientation=6))))
    assert kept.size == (200, 300)
    # After the turn the blue left half is on top.
    r, g, b = kept.getpixel((100, 40))
    assert b > r


def test_large_photos_are_scaled_down_and_named_by_their_contents():
    big = phone_photo(size=(4000, 3000))
    first = photo_reencode(upload(big, "holiday-at-home.jpg"))
    assert max(reopen(first).size) == 2000
    assert first.name.endswith(".jpg") and "holiday" not in first.name
    assert photo_reencode(upload(big, "another-name.jpg")).name == first.name


def test_png_and_webp_become_jpeg_and_transparency_becomes_white():
    img = Image.new("RGBA", (40, 40), (0, 0, 0, 0))
    out = BytesIO()
    img.save(out, "PNG")
    kept = reopen(photo_reencode(upload(out.getvalue(), "logo.png")))
    assert kept.format == "JPEG" and kept.getpixel((5, 5)) == (255, 255, 255)
    webp = BytesIO()
    Image.new("RGB", (40, 30), (10, 150, 90)).save(webp, "WEBP")
    assert reopen(photo_reencode(upload(webp.getvalue(), "room.webp"))).size == (40, 30)


@pytest.mark.parametrize(
    "data",
    [
        b"<script>alert(1)</script>",
        b"%PDF-1.7 not a photo at all",
        phone_photo()[:400],  # a photo cut short
    ],
)
def test_a_file_that_is_not_a_photo_is_refused_plainly(data):
    with pytest.raises(ValidationError) as exc:
        photo_reencode(upload(data, "photo.jpg"))
    assert "not a photo we can read" in str(exc.value.messages[0])
    assert "JPEG, PNG or WebP" in exc.value.messages[0]


def test_an_oversize_file_is_refused_with_its_size_and_the_limit():
    too_big = upload(phone_photo())
    too_big.size = MAX_UPLOAD_BYTES + 1
    with pytest.raises(ValidationError) as exc:
        photo_reencode(too_big)
    message = exc.value.messages[0]
    assert message.startswith("This photo is 10.1 MB; the largest we accept is 10 MB.")


def test_an_image_with_too_many_pixels_is_refused_before_it_is_unpacked():
    out = BytesIO()
    Image.new("1", (8000, 7000)).save(out, "PNG")  # 56 million pixels, a small file
    with pytest.raises(ValidationError) as exc:
        photo_reencode(upload(out.getvalue(), "panorama.png"))
    assert "8000 × 7000 pixels" in exc.value.messages[0]
