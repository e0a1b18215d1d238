"""The treatments a laser and skin clinic starts with. Durations are clinic-configurable defaults
(edit them in the admin); the micro-needling template follows DOMAIN.md 3.4 and section 0."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class PhasePreset:
    name: str
    minutes: int
    skill: str | None = None  # a specialist with this skill slug takes part
    room_kind: str = ""
    device_kind: str = ""
    is_buffer: bool = False


@dataclass(frozen=True)
class TreatmentPreset:
    slug: str
    name: str
    summary: str
    price: Decimal
    phases: tuple[PhasePreset, ...]
    min_notice_minutes: int = 120
    max_advance_days: int = 180
    cancellation_window_hours: int = 48
    requires_screening: bool = True
    # Adults only for skin-breaking and light treatments. DOMAIN.md 1.1: micro-needling devices
    # are authorised in the US for adults aged 22 and over; a clinic that follows that
    # labelling sets 22 in the back-office.
    min_age: int | None = 18
    display_order: int = 100
    description: str = ""
    extra: dict[str, object] = field(default_factory=dict)


SKILLS = {
    "consultation": "Skin consultation",
    "microneedling": "Micro-needling",
    "chemical-peel": "Chemical peels",
    "laser-hair-removal": "Laser hair removal",
    "led-therapy": "LED light therapy",
}

PRESETS: tuple[TreatmentPreset, ...] = (
    TreatmentPreset(
        slug="microneedling",
        name="Micro-needling",
        summary=(
            "Collagen induction with a pen-like needling device for scars, sun damage, fine "
            "lines, stretch marks and uneven texture. Planned as a course about a month apart."
        ),
        price=Decimal("240.00"),
        display_order=10,
        cancellation_window_hours=48,
        phases=(
            # DOMAIN.md 3.4: consult/photos 10 + numbing 30-60 + needling 15-30 + post-care 10.
            PhasePreset(
                "Consultation and photos", 10, skill="microneedling", room_kind="treatment"
            ),
            # The specialist is free while the numbing cream works (DESIGN.md 4).
            PhasePreset("Numbing", 30, room_kind="treatment"),
            PhasePreset(
                "Needling",
                20,
                skill="microneedling",
                room_kind="treatment",
                device_kind="microneedling_pen",
            ),
            # The used pen stays in the room, not clean, until the clean-down: holding it
            # through post-care keeps it from being handed to the next client uncleaned.
            PhasePreset(
                "Post-care", 10, room_kind="treatment", device_kind="microneedling_pen"
            ),
            PhasePreset(
                "Clean-down",
                10,
                room_kind="treatment",
                device_kind="microneedling_pen",
                is_buffer=True,
            ),
        ),
    ),
    TreatmentPreset(
        slug="consultation",
        name="Free skin consultation",
        summary=(
            "A 30-minute conversation with a specialist about your skin, your goals and whether "
            "a treatment suits you, with a health screening before any course starts."
        ),
        price=Decimal("0.00"),
        display_order=5,
        min_notice_minutes=60,
        cancellation_window_hours=4,
        requires_screening=False,
        min_age=None,  # anyone may ask; what a consultation finds decides the treatment
        phases=(
            PhasePreset("Consultation", 30, skill="consultation", room_kind="treatment"),
            PhasePreset("Room reset", 5, room_kind="treatment", is_buffer=True),
        ),
    ),
    TreatmentPreset(
        slug="chemical-peel",
        name="Chemical peel",
        summary=(
            "A professional peel matched to your skin to refresh dull or uneven skin and soften "
            "pigmentation and fine lines."
        ),
        price=Decimal("120.00"),
        display_order=20,
        phases=(
            PhasePreset("Skin check and cleanse", 10, skill="chemical-peel", room_kind="treatment"),
            PhasePreset("Peel", 25, skill="chemical-peel", room_kind="treatment"),
            PhasePreset("Neutralise and soothe", 10, room_kind="treatment"),
            PhasePreset("Clean-down", 10, room_kind="treatment", is_buffer=True),
        ),
    ),
    TreatmentPreset(
        slug="laser-hair-removal",
        name="Laser hair removal",
        summary=(
            "Long-lasting hair reduction with a medical diode laser, in a course of sessions "
            "timed to the hair growth cycle."
        ),
        price=Decimal("95.00"),
        display_order=30,
        phases=(
            PhasePreset("Patch check", 10, skill="laser-hair-removal", room_kind="laser"),
            PhasePreset(
                "Laser",
                30,
                skill="laser-hair-removal",
                room_kind="laser",
                device_kind="hair_removal_laser",
            ),
            PhasePreset("Cool down", 10, room_kind="laser", device_kind="hair_removal_laser"),
            PhasePreset(
                "Clean-down",
                10,
                room_kind="laser",
                device_kind="hair_removal_laser",
                is_buffer=True,
            ),
        ),
    ),
    TreatmentPreset(
        slug="led-therapy",
        name="LED light therapy",
        summary=(
            "A calming, needle-free session under a medical LED panel to support healing and "
            "calm redness; often added between micro-needling sessions."
        ),
        price=Decimal("55.00"),
        display_order=40,
        min_notice_minutes=60,
        cancellation_window_hours=24,
        phases=(
            PhasePreset("Cleanse and position", 5, skill="led-therapy", room_kind="treatment"),
            # The specialist is free while the panel runs.
            PhasePreset("Light session", 20, room_kind="treatment", device_kind="led_panel"),
            PhasePreset("Finish", 5, skill="led-therapy", room_kind="treatment"),
            PhasePreset("Clean-down", 5, room_kind="treatment", is_buffer=True),
        ),
    ),
)
