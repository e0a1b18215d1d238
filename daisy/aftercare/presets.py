"""The pre-care and aftercare protocols a clinic starts with, one per treatment preset
(daisy/treatments/presets.py). Every step cites its source; the clinic's medical director signs
them off and edits them in the admin (DOMAIN.md, "How to read this document").

Micro-needling follows DOMAIN.md 4.1 and 4.2 row by row. DOMAIN.md has no rows for peels, laser
hair removal or LED: their few steps are common clinic practice, marked as such, to be confirmed
(DOMAIN.md 7). "Drink water" is not a clinical rule (DOMAIN.md section 0): it appears only as
general advice, never as a step."""

from __future__ import annotations

from dataclasses import dataclass

from daisy.core.checkins import FOLLOW_UPS

FOLLOW_UP_KINDS = [f.kind for f in FOLLOW_UPS if f.kind]

PRE, POST = "pre", "post"
# Common practice not in DOMAIN.md: to confirm with the medical director (DOMAIN.md 7).
UNCONFIRMED = (
    "Common clinic practice, not yet in the clinic's clinical rules: to be confirmed by the "
    "medical director"
)


def days(n: int) -> int:
    return n * 24 * 60


def hours(n: int) -> int:
    return n * 60


@dataclass(frozen=True)
class StepPreset:
    kind: str
    start: int  # minutes from the start of the session
    end: int | None
    title: str
    source: str
    detail: str = ""
    is_restriction: bool = False
    notify: bool = False


@dataclass(frozen=True)
class ProtocolPreset:
    treatment_slug: str
    steps: tuple[StepPreset, ...]
    recovery_hours: int = 0
    checkin_hours: str = ""
    review_days: str = ""
    general_advice: str = ""


MICRONEEDLING = ProtocolPreset(
    treatment_slug="microneedling",
    recovery_hours=72,  # DOMAIN.md 4.2 row Days 0-3: 72 h before the skin is left alone again
    # DOMAIN.md 5.2, row by row: daisy/core/checkins.py FOLLOW_UPS (+24-48 h, sent at 24 h; +3
    # days; +7 days; then the 1-, 3- and 6-month reviews).
    checkin_hours=",".join(k[:-1] for k in FOLLOW_UP_KINDS if k.endswith("h")),
    review_days=",".join(k[:-1] for k in FOLLOW_UP_KINDS if k.endswith("d")),
    general_advice=(
        "Drinking enough water is good general advice for your wellbeing; it is not part of "
        "healing after micro-needling."  # DOMAIN.md section 0: no clinical source
    ),
    steps=(
        # --- pre-care: DOMAIN.md 4.1 -----------------------------------------------------
        StepPreset(
            PRE,
            -days(14),
            0,
            "No tanning, sunbeds or sunburn",
            # DOMAIN.md 4.1 row −4 weeks → −2 weeks
            (
                "Pre-care, 4 to 2 weeks before: no tan in the last 2 weeks (device "
                "instructions); avoid sun for 4 weeks (clinic practice)"
            ),
            detail="Avoid the sun where you can and wear SPF 30 in the weeks before.",
            is_restriction=True,
        ),
        StepPreset(
            PRE,
            -days(14),
            0,
            "No waxing, depilatory creams or threading on the treatment area",
            # DOMAIN.md 4.1 row −2 weeks → −1 week
            "Pre-care, 2 to 1 weeks before: no hair removal in the area (clinic convention)",
            is_restriction=True,
        ),
        StepPreset(
            PRE,
            -days(7),
            0,
            "Stop topical retinoids",
            # DOMAIN.md 4.1 row −7 → −5 days
            (
                "Pre-care, 7 to 5 days before: retinoids, self-medicated aspirin/NSAIDs, fish "
                "oil, vitamin E (clinic practice)"
            ),
            detail="Retinol, tretinoin, adapalene and similar creams on the treatment area.",
            is_restriction=True,
            notify=True,
        ),
        StepPreset(
            PRE,
            -days(5),
            0,
            "Pause aspirin, ibuprofen-type painkillers, fish oil and vitamin E you take yourself",
            # DOMAIN.md 4.1 row −7 → −5 days
            (
                "Pre-care, 7 to 5 days before: retinoids, self-medicated aspirin/NSAIDs, fish "
                "oil, vitamin E (clinic practice)"
            ),
            detail="Only what you take on your own: keep taking anything a doctor prescribed.",
            is_restriction=True,
        ),
        StepPreset(
            PRE,
            -days(3),
            0,
            "Stop AHA/BHA acids, benzoyl peroxide, scrubs and exfoliating brushes",
            # DOMAIN.md 4.1 row −3 → −1 days
            "Pre-care, 3 to 1 days before: acids and exfoliants (clinic practice)",
            is_restriction=True,
            notify=True,
        ),
        StepPreset(
            PRE,
            -hours(48),
            0,
            "No self-tanning products on the treatment area",
            # DOMAIN.md 4.1 row −48 h
            "Pre-care, 48 hours before: no self-tan (clinic practice)",
            is_restriction=True,
        ),
        StepPreset(
            PRE,
            -hours(24),
            0,
            "No sun exposure",
            # DOMAIN.md 4.1 row −24 h
            "Pre-care, 24 hours before: no sun (SkinPen pre-care sheets)",
            detail="If your skin is sunburnt or irritated, call us and we will move your session.",
            is_restriction=True,
        ),
        StepPreset(
            PRE,
            -hours(3),
            0,
            "No makeup or skincare on the treatment area",
            # DOMAIN.md 4.1 row Day 0
            "Pre-care, day of treatment: clean skin, arrive early for numbing (clinic practice)",
            detail="Come with clean skin; we apply the numbing cream when you arrive.",
            is_restriction=True,
        ),
        # --- aftercare: DOMAIN.md 4.2 -------------------------------------------------------
        StepPreset(
            POST,
            0,
            hours(24),
            "Only the clinic's hydrogel on your skin: no makeup, sunscreen or other products",
            # DOMAIN.md 4.2 row Day 0
            "Aftercare, day 0: SkinPen consent form and clinic aftercare sheets",
            detail=(
                "Rinse with lukewarm water only; a cold compress helps. Redness like a moderate "
                "sunburn, tightness and sensitivity are expected."
            ),
            is_restriction=True,
        ),
        StepPreset(
            POST,
            0,
            hours(24),
            "Strictly avoid the sun",
            # DOMAIN.md 4.2 row Day 0
            "Aftercare, day 0: SkinPen consent form and clinic aftercare sheets",
            is_restriction=True,
        ),
        StepPreset(
            POST,
            0,
            hours(72),
            "No sweaty exercise, sauna, steam, hot tub or swimming",
            # DOMAIN.md 4.2 row Days 0–3
            (
                "Aftercare, days 0-3: SkinPen aftercare (72 hours); redness fades within 72 "
                "hours (study, PMC8008152)"
            ),
            detail="Keep sun exposure to a minimum. Redness normally fades within 24–72 hours.",
            is_restriction=True,
        ),
        StepPreset(
            POST,
            hours(24),
            None,
            "A gentle cleanser, mineral sunscreen (SPF 30+) and makeup are fine again",
            # DOMAIN.md 4.2 row Day 1
            "Aftercare, day 1: clinic aftercare sheets",
            detail="Apply with clean fingers, not used brushes or sponges.",
            notify=True,
        ),
        StepPreset(
            POST,
            hours(24),
            days(7),
            "No retinoids, acids, vitamin C serums, benzoyl peroxide, alcohol toners, fragranced "
            "products, scrubs or facial brushes",
            # DOMAIN.md 4.2 row Days 1–6
            (
                "Aftercare, days 1-6: clinic aftercare sheets; granuloma risk from unapproved "
                "products (Soltani-Arabshahi 2014)"
            ),
            detail=(
                "Use only the post-care products we gave you. Don't pick flakes: dryness or "
                "peeling on days 2–4 is normal."
            ),
            is_restriction=True,
        ),
        StepPreset(
            POST,
            hours(24),
            days(14),
            "Broad-spectrum SPF 30+ every day and as little sun as you can",
            # DOMAIN.md 4.2 row Days 0–14
            "Aftercare, days 0-14: daily SPF 30+ (clinic aftercare sheets)",
            detail="Longer if your skin tans deeply or marks easily.",
        ),
        StepPreset(
            POST,
            0,
            days(14),
            "No anti-wrinkle injections or fillers in the treated area",
            # DOMAIN.md 4.2 row Day 14 (convention)
            (
                "Aftercare, day 14: toxin or filler 2-4 weeks after (convention; no controlled "
                "evidence)"
            ),
            is_restriction=True,
        ),
        StepPreset(
            POST,
            days(7),
            None,
            "Back to your usual skincare routine, actives included",
            # DOMAIN.md 4.2 row Day 7+
            "Aftercare, day 7 on: transient effects settle within 7 days (Chu 2021 review)",
            detail=(
                "Once any peeling has settled. Bruising, scabbing or breakouts should be fading "
                "by now: if not, tell us."
            ),
            notify=True,
        ),
    ),
)

CHEMICAL_PEEL = ProtocolPreset(
    treatment_slug="chemical-peel",
    steps=(
        StepPreset(
            PRE,
            -days(7),
            0,
            "Stop topical retinoids",
            # DOMAIN.md 4.1 row −7 → −5 days (micro-needling); (DOMAIN.md 7)
            f"As for micro-needling pre-care, 7 to 5 days before. {UNCONFIRMED}",
            is_restriction=True,
            notify=True,
        ),
        StepPreset(
            PRE,
            -days(3),
            0,
            "Stop AHA/BHA acids, scrubs and exfoliating brushes",
            # DOMAIN.md 4.1 row −3 → −1 days (micro-needling); (DOMAIN.md 7)
            f"As for micro-needling pre-care, 3 to 1 days before. {UNCONFIRMED}",
            is_restriction=True,
        ),
        StepPreset(
            POST,
            0,
            hours(48),
            "No sweaty exercise, sauna, steam or hot tub",
            UNCONFIRMED,
            is_restriction=True,
        ),
        StepPreset(
            POST,
            0,
            days(7),
            "Don't pick or peel flaking skin; no scrubs or acids",
            UNCONFIRMED,
            is_restriction=True,
        ),
        StepPreset(
            POST,
            0,
            days(14),
            "Broad-spectrum SPF 30+ every day",
            # DOMAIN.md 4.2 row Days 0–14 (its chemical-peel care source)
            "Aftercare, days 0-14: daily SPF 30+ (chemical-peel aftercare sheets)",
        ),
        StepPreset(
            POST,
            days(7),
            None,
            "Back to your usual skincare routine",
            UNCONFIRMED,
            notify=True,
        ),
    ),
)

LASER_HAIR_REMOVAL = ProtocolPreset(
    treatment_slug="laser-hair-removal",
    steps=(
        StepPreset(
            PRE,
            -days(14),
            0,
            "No waxing, plucking, threading or epilating the area (shaving is fine)",
            UNCONFIRMED,
            is_restriction=True,
        ),
        StepPreset(
            PRE,
            -days(14),
            0,
            "No tanning, sunbeds or self-tan on the area",
            UNCONFIRMED,
            is_restriction=True,
        ),
        StepPreset(
            POST,
            0,
            hours(48),
            "No hot baths, sauna, sweaty exercise or sun on the treated area",
            UNCONFIRMED,
            is_restriction=True,
        ),
        StepPreset(
            POST,
            0,
            days(14),
            "Broad-spectrum SPF 30+ on treated skin that sees the sun",
            UNCONFIRMED,
        ),
    ),
)

LED_THERAPY = ProtocolPreset(
    treatment_slug="led-therapy",
    general_advice="LED light therapy needs no special aftercare: carry on as usual.",
    steps=(),
)

CONSULTATION = ProtocolPreset(treatment_slug="consultation", steps=())

PRESETS: tuple[ProtocolPreset, ...] = (
    MICRONEEDLING,
    CHEMICAL_PEEL,
    LASER_HAIR_REMOVAL,
    LED_THERAPY,
    CONSULTATION,
)
