from __future__ import annotations

from django.db import transaction

from daisy.clinic.models import Skill
from daisy.treatments.models import Phase, Treatment
from daisy.treatments.presets import PRESETS, SKILLS


@transaction.atomic
def treatment_presets_install() -> list[Treatment]:
    """Create the preset skills and treatments that do not exist yet. Existing rows are left
    as the clinic edited them. Their aftercare protocols and consent texts come with them
    through `daisy.booking.presets.clinic_presets_install`, above this layer."""
    skills = {}
    for slug, name in SKILLS.items():
        skills[slug], _ = Skill.objects.get_or_create(slug=slug, defaults={"name": name})
    created = []
    for preset in PRESETS:
        if Treatment.objects.filter(slug=preset.slug).exists():
            continue
        treatment = Treatment.objects.create(
            slug=preset.slug,
            name=preset.name,
            summary=preset.summary,
            description=preset.description,
            price=preset.price,
            min_notice_minutes=preset.min_notice_minutes,
            max_advance_days=preset.max_advance_days,
            cancellation_window_hours=preset.cancellation_window_hours,
            requires_screening=preset.requires_screening,
            min_age=preset.min_age,
            display_order=preset.display_order,
        )
        Phase.objects.bulk_create(
            Phase(
                treatment=treatment,
                order=i,
                name=p.name,
                duration_minutes=p.minutes,
                needs_specialist=p.skill is not None,
                specialist_skill=skills[p.skill] if p.skill else None,
                room_kind=p.room_kind,
                device_kind=p.device_kind,
                is_buffer=p.is_buffer,
            )
            for i, p in enumerate(preset.phases, start=1)
        )
        created.append(treatment)
    return created
