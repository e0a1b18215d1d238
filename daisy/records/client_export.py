"""The client's whole data download (UK GDPR Art. 15): profile, account, appointments, courses,
messages and the clinical record (daisy/records/export.py). It composes scheduling, courses and
records, so it lives in records (layer 5), not in accounts (DESIGN.md 3 layers)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings

from daisy.courses.selectors import course_list_for_client
from daisy.records.export import records_export_for_client
from daisy.scheduling.selectors import appointment_list


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def client_data_export(*, client: Any, now: datetime) -> dict[str, Any]:
    """Everything the clinic keeps about this one client, as JSON-ready data (UK GDPR Art. 15,
    the right of access; DOMAIN.md 6.6). Only rows tied to this client are read. Message bodies
    are left out: they may carry sign-in links, and their subjects say what they were."""
    user = client.user
    appointments = []
    for appt in appointment_list(client_id=client.pk):
        tz = appt.location.tz
        appointments.append(
            {
                "id": str(appt.pk),
                "treatment": appt.treatment.name,
                "location": appt.location.name,
                "specialist": appt.specialist.name if appt.specialist else None,
                "starts_at": _iso(appt.starts_at),
                "starts_at_local": appt.starts_at.astimezone(tz).isoformat(),
                "ends_at": _iso(appt.ends_at),
                "time_zone": appt.location.time_zone,
                "status": appt.status,
                "price": str(appt.price),
                "booked_at": _iso(appt.created_at),
                "cancelled_at": _iso(appt.cancelled_at),
                "is_late_cancellation": appt.is_late_cancellation,
                "cancel_reason": appt.cancel_reason,
            }
        )
    consents: dict[str, Any] = {}
    if hasattr(client, "marketing_consent"):
        consents["marketing"] = {
            "given": client.marketing_consent,
            "changed_at": _iso(getattr(client, "marketing_consent_changed_at", None)),
        }
    if hasattr(client, "contact_channel"):
        consents["service_messages_by"] = client.contact_channel
    return {
        "exported_at": now.isoformat(),
        # The clinical record: screening answers, consultations, signed consents.
        **records_export_for_client(client),
        "clinic": settings.DAISY_CLINIC_NAME,
        "profile": {
            "id": str(client.pk),
            "first_name": client.first_name,
            "last_name": client.last_name,
            "email": client.email,
            "phone": client.phone,
            "date_of_birth": client.date_of_birth.isoformat() if client.date_of_birth else None,
            "created_at": _iso(client.created_at),
        },
        "account": {
            "email": user.email if user else None,
            "email_verified_at": _iso(user.email_verified_at) if user else None,
            "joined_at": _iso(user.date_joined) if user else None,
            "last_sign_in_at": _iso(user.last_login) if user else None,
        },
        "appointments": appointments,
        "consents": consents,
        "courses": [
            {
                "id": str(course.id),
                "treatment": course.treatment_name,
                "status": course.status,
                "progress": course.progress_label,
                "sessions_planned": course.sessions_planned,
                "sessions": [str(s.appointment_id) for s in course.sessions],
                "areas": [
                    {
                        "area": area.area,
                        "concern": area.concern,
                        "scale": area.scale,
                        "grades": [
                            {"graded_at": _iso(g.graded_at), "grade": g.grade, "note": g.note}
                            for g in area.grades
                        ],
                    }
                    for area in course.areas
                ],
            }
            for course in course_list_for_client(client)
        ],
        "screening_findings": [
            {
                "condition": c.condition,
                "tier": c.tier,
                "until": c.until_on.isoformat() if c.until_on else None,
                "recorded_at": _iso(c.recorded_at),
                "resolved_at": _iso(c.resolved_at),
            }
            for c in client.contraindications.order_by("recorded_at")
        ],
        "messages": [
            {
                "channel": m.channel,
                "to": m.recipient,
                "subject": m.subject,
                "kind": m.template,
                "status": m.status,
                "due_at": _iso(m.send_after),
                "sent_at": _iso(m.sent_at),
            }
            for m in client.messages.order_by("send_after", "id")
        ],
    }
