"""The shipped starting set, composed: the preset treatments (`daisy.treatments`), each one's
aftercare protocol (`daisy.aftercare`) and the consent texts (`daisy.records`). Treatments sit
below aftercare and records (DESIGN.md 3), so what installs all three together lives here."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from daisy.aftercare.services import protocol_presets_install
from daisy.records.consent_services import consent_templates_install
from daisy.treatments.models import Treatment
from daisy.treatments.services import treatment_presets_install


@transaction.atomic
def clinic_presets_install() -> list[Treatment]:
    """The preset skills and treatments, their aftercare protocols and the shipped consent
    texts, each only where it does not exist yet (what the clinic edited is left as it is).
    Returns the treatments created."""
    created = treatment_presets_install()
    protocol_presets_install()
    # The shipped consent texts (issue 14): the micro-needling consent needs its treatment.
    consent_templates_install(now=timezone.now())
    return created
