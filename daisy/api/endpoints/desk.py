"""The front desk's diary and status changes for integrations (issue 13, item 8): the same
read and the same service as the staff pages at /desk/. Staff tokens only."""

from __future__ import annotations

import uuid
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router

from daisy.api.auth import STAFF, TokenAuth, actor_of
from daisy.api.docs import errors
from daisy.api.schemas import (
    ApiDate,
    AppointmentOut,
    DiaryOut,
    StatusIn,
    appointment_out,
)
from daisy.booking.diary import DESK_STATUSES, diary_day
from daisy.booking.services import appointment_set_status
from daisy.scheduling.selectors import appointment_get, location_get

router = Router(tags=["desk"], auth=TokenAuth(roles=STAFF))


def _diary_out(day: Any) -> dict[str, Any]:
    columns = [{"id": pk, "kind": kind, "name": name} for pk, kind, name in day.resources]
    return {
        "location": day.location.pk,
        "date": day.on,
        "time_zone": day.tz_name,
        "opens_at": day.opens_at,
        "closes_at": day.closes_at,
        "is_closed": day.is_closed,
        "version": day.version,
        "columns": columns,
        "appointments": [
            {
                "id": a.id,
                "status": a.status,
                "start": a.starts_at,
                "end": a.ends_at,
                "busy_until": a.busy_until,
                "client": a.client_id,
                "client_name": a.client_name,
                "treatment": a.treatment_name,
                "specialist": a.specialist_id,
                "room": a.room_id,
                "device": a.device_id,
                "version": a.version,
                "course_session": a.course_label or None,
                "notes": a.notes,
                "phases": [
                    {
                        "name": p.name,
                        "kind": p.kind,
                        "start": p.starts_at,
                        "end": p.ends_at,
                        "uses_specialist": p.uses_specialist,
                        "uses_room": p.uses_room,
                        "uses_device": p.uses_device,
                    }
                    for p in a.phases
                ],
                "flags": [
                    {"code": f.code, "label": f.label, "is_warning": f.is_warning} for f in a.flags
                ],
            }
            for a in (*day.appointments, *day.cancelled)
        ],
    }


@router.get(
    "/diary",
    response={200: DiaryOut, **errors(401, 403, 404, 422)},
    operation_id="diary_get",
    summary="A location's day at the front desk",
    description=(
        "The day's columns (specialists, then rooms and devices) and its appointments, each "
        "with its phases (`kind`: `specialist` when the specialist is with the client, `room` "
        "for room-only time such as numbing, when the specialist is free, `clean_down` after "
        "the client has left) and its flags (`first_visit`, `course_session`, "
        "`clinical_hold`, `red_flag_alert`, `screening`, `note`, and the treatment chart's "
        "`charted`, `chart_cosign` or `chart_unsigned`; `is_warning` marks those that must be "
        "looked at before treatment, or before the visit is closed). Times in the location's "
        "offset; `version` changes with every change to the day's appointments (poll it). Staff "
        "tokens only."
    ),
)
def diary_get_view(
    request: HttpRequest,
    location: uuid.UUID = Query(..., description="The location's id."),
    date: ApiDate = Query(..., description="The local calendar date, YYYY-MM-DD."),  # noqa: A002
) -> Any:
    return _diary_out(diary_day(location=location_get(location), on=date, now=timezone.now()))


@router.post(
    "/appointments/{appointment_id}/status",
    response={200: AppointmentOut, **errors(400, 401, 403, 404, 409, 413, 422, 429)},
    operation_id="appointment_status",
    summary="Mark arrived, in treatment, completed or no-show",
    description=(
        "`arrived` and `in_treatment` only on the appointment's own day; `no_show` only after "
        "its start; `completed` from booked, arrived or in treatment. A session is not started "
        "while the client is on a clinical hold or a finding stands in the way without a "
        "clinician's recorded override (409). Send the appointment's `version` (from the "
        "diary) to have the change refused with 409 `changed_meanwhile` if someone changed "
        "the appointment since. Staff tokens only."
    ),
)
def appointment_status_view(
    request: HttpRequest, appointment_id: uuid.UUID, payload: StatusIn
) -> Any:
    actor = actor_of(request)
    appt = appointment_get(appointment_id)
    appointment_set_status(
        appointment=appt,
        status=DESK_STATUSES[payload.status],
        by=actor.user,
        now=timezone.now(),
        seen=payload.version,
    )
    return appointment_out(appointment_get(appt.pk))
