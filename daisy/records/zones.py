"""The treatment zones of the face map: the one list of zones (issue 14 item 5). The chart,
its API, the face map's drawing and the plan's areas all read it from here.

Each zone carries the usual depth range of DOMAIN.md 3.2 (practice values, configurable only in
that they are defaults: they warn, they never refuse; the refusals are the device's labelled
maximum and the clinic's skin-type caps). Right and left are the client's own: as on any
clinical diagram, the client's right is drawn on the viewer's left."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Zone:
    key: str
    label: str | Promise
    start_mm: Decimal  # where a first session starts (DOMAIN.md 3.2, lower end)
    usual_max_mm: Decimal  # above this the chart warns (DOMAIN.md 3.2, upper end)
    shape: str  # SVG path on the face map (viewBox 0 0 200 270)
    label_at: tuple[int, int]  # where the zone's depth is written on the map


D = Decimal
# DOMAIN.md 3.2 rows: periorbital, forehead, nose and perioral 0.25-0.5 (nose to 0.75); cheeks
# 0.5-1.0 for rejuvenation and 1.0-2.0 for acne scars, as are temples and jaw; neck 0.25-1.0.
# The chin has no row of its own: it is read as the lower cheek.
ZONES: tuple[Zone, ...] = (
    Zone(
        "forehead",
        _("Forehead"),
        D("0.25"),
        D("0.50"),
        "M52 62 C56 26 144 26 148 62 L148 78 L52 78 Z",
        (100, 56),
    ),
    Zone(
        "temple_right",
        _("Right temple"),
        D("0.50"),
        D("2.00"),
        "M40 70 L52 68 L54 108 L42 108 C38 96 38 82 40 70 Z",
        (46, 90),
    ),
    Zone(
        "temple_left",
        _("Left temple"),
        D("0.50"),
        D("2.00"),
        "M160 70 L148 68 L146 108 L158 108 C162 96 162 82 160 70 Z",
        (154, 90),
    ),
    Zone(
        "periorbital_right",
        _("Under the right eye (outside the orbital rim)"),
        D("0.25"),
        D("0.50"),
        "M58 108 C66 118 84 118 92 108 L92 118 C84 126 66 126 58 118 Z",
        (75, 119),
    ),
    Zone(
        "periorbital_left",
        _("Under the left eye (outside the orbital rim)"),
        D("0.25"),
        D("0.50"),
        "M108 108 C116 118 134 118 142 108 L142 118 C134 126 116 126 108 118 Z",
        (125, 119),
    ),
    Zone(
        "nose",
        _("Nose"),
        D("0.25"),
        D("0.75"),
        "M92 96 L108 96 L114 150 C106 156 94 156 86 150 Z",
        (100, 130),
    ),
    Zone(
        "cheek_right",
        _("Right cheek"),
        D("0.50"),
        D("2.00"),
        "M44 112 L56 124 C68 130 80 130 88 128 L84 160 C70 170 56 170 48 160 C42 144 42 126 "
        "44 112 Z",
        (64, 148),
    ),
    Zone(
        "cheek_left",
        _("Left cheek"),
        D("0.50"),
        D("2.00"),
        "M156 112 L144 124 C132 130 120 130 112 128 L116 160 C130 170 144 170 152 160 C158 "
        "144 158 126 156 112 Z",
        (136, 148),
    ),
    Zone(
        "perioral",
        _("Around the mouth"),
        D("0.25"),
        D("0.50"),
        "M84 160 C92 156 108 156 116 160 L122 186 C110 196 90 196 78 186 Z",
        (100, 176),
    ),
    Zone(
        "jaw_right",
        _("Right jaw"),
        D("0.50"),
        D("2.00"),
        "M48 164 C56 174 70 176 80 172 L76 194 L72 212 C60 204 50 188 48 164 Z",
        (64, 190),
    ),
    Zone(
        "jaw_left",
        _("Left jaw"),
        D("0.50"),
        D("2.00"),
        "M152 164 C144 174 130 176 120 172 L124 194 L128 212 C140 204 150 188 152 164 Z",
        (136, 190),
    ),
    Zone(
        "chin",
        _("Chin"),
        D("0.50"),
        D("1.00"),
        "M78 192 C90 200 110 200 122 192 L126 212 C114 226 86 226 74 212 Z",
        (100, 210),
    ),
    Zone(
        "neck",
        _("Neck"),
        D("0.25"),
        D("1.00"),
        "M70 226 C88 236 112 236 130 226 L138 266 L62 266 Z",
        (100, 250),
    ),
)
ZONE_KEYS: tuple[str, ...] = tuple(z.key for z in ZONES)
ZONE_BY_KEY: dict[str, Zone] = {z.key: z for z in ZONES}
USUAL_MAX_MM: dict[str, Decimal] = {z.key: z.usual_max_mm for z in ZONES}
START_MM: dict[str, Decimal] = {z.key: z.start_mm for z in ZONES}
FACE = tuple(k for k in ZONE_KEYS if k != "neck")

# A course plan names its areas in words ("cheeks", "forehead"): the zones each word covers.
_AREA_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (r"full face|whole face|^face$", FACE),
    (r"forehead|brow", ("forehead",)),
    (r"temple", ("temple_right", "temple_left")),
    (r"eye|periorbital|orbital", ("periorbital_right", "periorbital_left")),
    (r"nose", ("nose",)),
    (r"cheek", ("cheek_right", "cheek_left")),
    (r"mouth|lip|perioral", ("perioral",)),
    (r"jaw", ("jaw_right", "jaw_left")),
    (r"chin", ("chin",)),
    (r"neck", ("neck",)),
)


def zones_for_area(area: str) -> tuple[str, ...]:
    """The zones a plan's area names (none for a body area, which the face map does not draw)."""
    text = area.strip().lower()
    out: list[str] = []
    for pattern, keys in _AREA_WORDS:
        if re.search(pattern, text):
            out.extend(k for k in keys if k not in out)
    return tuple(out)


def zone_label(key: str) -> str:
    zone = ZONE_BY_KEY.get(key)
    return str(zone.label) if zone else key
