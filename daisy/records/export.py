"""The clinical record in a client's data download (UK GDPR Art. 15; DOMAIN.md 6.6; issue 14,
item 8): each treatment chart (zones, depths, products and lots, amendments), every set of
screening answers as given, each consultation as it reads now with its amendments, each
consent with the exact text signed (and as its PDF), and each photo (as its JPEG). Only rows
of this one client."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from daisy.audit.services import person_name
from daisy.records.charting import charts_export_for_client
from daisy.records.consent_selectors import consent_list_for_client
from daisy.records.consultations import consultation_current, consultation_list_for_client
from daisy.records.photos import photos_export_for_client
from daisy.records.selectors import screening_list_for_client


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def records_export_for_client(client: Any) -> dict[str, Any]:
    screenings = [
        {
            "id": str(s.pk),
            "questionnaire": s.questionnaire.name,
            "questionnaire_version": s.questionnaire_version,
            "asked": s.get_via_display(),
            "answered_at": _iso(s.answered_at),
            "questions": s.questions,
            "answers": s.answers,
            "outcome": s.outcome,
            "no_session_before": s.deferred_until.isoformat() if s.deferred_until else None,
            "appointment": str(s.appointment_id) if s.appointment_id else None,
            "course": str(s.course_id) if s.course_id else None,
        }
        for s in screening_list_for_client(client).order_by("answered_at")
    ]
    consultations = []
    for c in reversed(consultation_list_for_client(client)):
        current = consultation_current(c)
        consultations.append(
            {
                "id": str(c.pk),
                "started_at": _iso(c.created_at),
                "course": str(c.plan_id) if c.plan_id else None,
                "appointment": str(c.appointment_id) if c.appointment_id else None,
                "skin_type": current.skin_type,
                "skin_type_label": current.skin_type_label,
                "concerns": current.concerns,
                "goals": current.goals,
                "clinician_notes": current.notes,
                "medical_history": str(current.screening_id) if current.screening_id else None,
                "signed_by": person_name(c.signed_by) or None,
                "signed_at": _iso(c.signed_at),
                "amendments": [
                    {
                        "field": a.field,
                        "before": a.before,
                        "after": a.after,
                        "reason": a.reason,
                        "by": person_name(a.amended_by),
                        "at": _iso(a.amended_at),
                    }
                    for a in c.amendments.all()
                ],
            }
        )
    consents = [
        {
            "id": str(c.pk),
            "kind": c.kind,
            "title": c.title,
            "version": c.version,
            "text": c.text,
            "text_sha256": c.text_sha256,
            "signed_name": c.signed_name,
            "signed_at": _iso(c.signed_at),
            "signed_by_method": c.method,
            "signed_via": c.via,
            "device": c.device,
            "ip_address": c.ip_address,
            "consent_taker": person_name(c.taken_by) or None,
            "withdrawn_at": _iso(c.withdrawn_at),
            "withdrawn_reason": c.withdrawn_reason,
        }
        for c in consent_list_for_client(client).order_by("signed_at")
    ]
    return {
        "treatment_records": charts_export_for_client(client),
        "screening_answers": screenings,
        "consultations": consultations,
        "signed_consents": consents,
        "photos": photos_export_for_client(client),
    }


def records_files_for_client(client: Any, *, viewer: Any, now: datetime) -> list[tuple[str, bytes]]:
    """The files of the client's record for their download: each signed consent as its PDF,
    and each photo as its JPEG (each read audited as `photo.view`). (name in the archive,
    content)."""
    from django.conf import settings

    from daisy.clinic.selectors import clinic_zone
    from daisy.lib.errors import NotFound
    from daisy.records.consent_pdf import consent_pdf
    from daisy.records.photos import photo_open, photos_for_export

    zone = clinic_zone()
    files: list[tuple[str, bytes]] = []
    for consent in consent_list_for_client(client).order_by("signed_at"):
        day = consent.signed_at.astimezone(zone).date().isoformat()
        files.append(
            (
                f"consents/{day}-{consent.kind}-{consent.pk}.pdf",
                consent_pdf(consent, zone=zone, clinic_name=settings.DAISY_CLINIC_NAME),
            )
        )
    for photo in photos_for_export(client):
        try:
            with photo_open(
                photo=photo, viewer=viewer, thumb=False, via="portal:data-download", now=now
            ) as handle:
                data = handle.read()
        except NotFound:
            continue  # a missing file is reported by the photo pages, not here
        day = photo.taken_at.astimezone(zone).date().isoformat()
        files.append((f"photos/{day}-{photo.view}-{photo.pk}.jpg", data))
    return files
