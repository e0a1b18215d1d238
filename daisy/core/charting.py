"""The treatment chart's rules, as plain functions over plain data (DESIGN.md 1.2).

* Depth per zone (DOMAIN.md 3.1, 3.2): a depth above the device's labelled maximum, or above the
  clinic's cap for the client's Fitzpatrick skin type, is refused; a depth above the zone's
  usual range is allowed with a warning (3.2: "warn when the depth exceeds the zone default").
* Lots (DOMAIN.md 6.2): a lot past its expiry on the day of the session is refused, and a
  single-use lot already charted for another client is refused.
* Defaults (issue 14 item 5): a repeat session starts from the client's last chart and the
  course plan's areas, so a specialist confirms rather than types.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

# DOMAIN.md 3.1: pens adjust from 0.25 to 3.0 mm; nothing outside that range is a needle depth.
MIN_DEPTH_MM = Decimal("0.1")
MAX_DEPTH_MM = Decimal("3.0")
MAX_PASSES = 12


@dataclass(frozen=True)
class DepthProblem:
    zone: str
    depth_mm: Decimal
    limit_mm: Decimal
    # "device": above the device's labelled maximum; "skin_type": above the clinic's cap for
    # the skin type; "range": outside what any pen does. All three refuse.
    kind: str


@dataclass(frozen=True)
class DepthWarning:
    zone: str
    depth_mm: Decimal
    usual_max_mm: Decimal


def depth_problems(
    depths: Mapping[str, Decimal],
    *,
    device_max_mm: Decimal | None,
    skin_type_cap_mm: Decimal | None,
) -> list[DepthProblem]:
    """Every zone whose depth may not be charted, with the limit it breaks (the lowest)."""
    out = []
    for zone, depth in depths.items():
        if depth < MIN_DEPTH_MM or depth > MAX_DEPTH_MM:
            limit = MIN_DEPTH_MM if depth < MIN_DEPTH_MM else MAX_DEPTH_MM
            out.append(DepthProblem(zone, depth, limit, "range"))
            continue
        limits = [
            (lim, kind)
            for lim, kind in ((device_max_mm, "device"), (skin_type_cap_mm, "skin_type"))
            if lim is not None and depth > lim
        ]
        if limits:
            lim, kind = min(limits, key=lambda item: item[0])
            out.append(DepthProblem(zone, depth, lim, kind))
    return out


def depth_warnings(
    depths: Mapping[str, Decimal], usual_max: Mapping[str, Decimal]
) -> list[DepthWarning]:
    return [
        DepthWarning(zone, depth, usual_max[zone])
        for zone, depth in depths.items()
        if zone in usual_max and depth > usual_max[zone]
    ]


def skin_type_cap(skin_type: int | None, caps: Mapping[int, Decimal | None]) -> Decimal | None:
    """The clinic's depth cap for a Fitzpatrick type (DOMAIN.md 2.2 row 31, 3.2), or None."""
    if skin_type is None:
        return None
    return caps.get(skin_type)


@dataclass(frozen=True)
class LotUse:
    """A lot as charted at one session."""

    lot: str
    expires_on: date | None
    is_single_use: bool
    # Other clients this lot is already charted for (only read for single-use lots).
    used_for_others: int = 0


@dataclass(frozen=True)
class LotProblem:
    lot: str
    kind: str  # "expired", "reused" or "no_expiry"


def lot_problems(uses: Iterable[LotUse], *, on: date) -> list[LotProblem]:
    """DOMAIN.md 6.2: an expired lot, or a single-use lot already used on another client, may
    not be charted. A lot without an expiry date cannot be checked, so it is refused too."""
    out = []
    for use in uses:
        if use.expires_on is None:
            out.append(LotProblem(use.lot, "no_expiry"))
        elif use.expires_on < on:
            out.append(LotProblem(use.lot, "expired"))
        elif use.is_single_use and use.used_for_others:
            out.append(LotProblem(use.lot, "reused"))
    return out


@dataclass(frozen=True)
class AreaDefault:
    zone: str
    depth_mm: Decimal | None
    passes: int | None
    pattern: str
    endpoint: str


def area_defaults(
    *,
    planned_zones: Sequence[str],
    last_areas: Sequence[AreaDefault],
    usual_start: Mapping[str, Decimal],
    default_passes: int,
) -> list[AreaDefault]:
    """The zones a session starts with: the last session's zones as they were charted (a
    repeat session usually repeats them), plus any zone of the plan not treated last time at
    the zone's usual starting depth. Order: the last session's, then the plan's."""
    out = list(last_areas)
    seen = {a.zone for a in out}
    for zone in planned_zones:
        if zone not in seen:
            seen.add(zone)
            out.append(AreaDefault(zone, usual_start.get(zone), default_passes, "", ""))
    return out
