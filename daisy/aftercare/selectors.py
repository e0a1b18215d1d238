"""Reads for aftercare: a treatment's protocol as the pure core's data, and one appointment's
dated timeline ("Your aftercare today" on the portal reads it through here)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from daisy.aftercare.models import Protocol, ProtocolStep, checkin_offsets
from daisy.core import aftercare as core


@dataclass(frozen=True)
class ProtocolData:
    steps: tuple[core.ProtocolStep, ...] = ()
    recovery_hours: int = 0
    checkin_hours: tuple[int, ...] = ()
    general_advice: str = ""


STEP_FIELDS = (
    "offset_start_minutes",
    "offset_end_minutes",
    "kind",
    "title",
    "detail",
    "is_restriction",
    "source",
    "notify",
)
PROTOCOL_FIELDS = ("recovery_hours", "checkin_hours", "general_advice")


def _core_step(
    start: int, end: int | None, kind: str, title: str, detail: str, *flags: Any
) -> core.ProtocolStep:
    is_restriction, source, notify = flags
    return core.ProtocolStep(
        offset_start=timedelta(minutes=start),
        offset_end=None if end is None else timedelta(minutes=end),
        kind=core.PRE if kind == core.PRE else core.POST,
        title=title,
        detail=detail,
        is_restriction=is_restriction,
        source=source,
        notify=notify,
    )


def protocol_get_for_treatment(treatment: Any) -> ProtocolData:
    """The treatment's protocol, or an empty one (no steps, no check-ins) when it has none.
    One query when the protocol has steps (it is read inside every booking's transaction)."""
    rows = list(
        ProtocolStep.objects.filter(protocol__treatment_id=treatment.pk)
        .order_by("offset_start_minutes", "pk")
        .values_list(*STEP_FIELDS, *(f"protocol__{f}" for f in PROTOCOL_FIELDS))
    )
    if rows:
        recovery, checkins, advice = rows[0][len(STEP_FIELDS) :]
        steps = tuple(_core_step(*row[: len(STEP_FIELDS)]) for row in rows)
    else:
        protocol = (
            Protocol.objects.filter(treatment_id=treatment.pk)
            .order_by()
            .values_list(*PROTOCOL_FIELDS)
            .first()
        )
        if protocol is None:
            return ProtocolData()
        recovery, checkins, advice = protocol
        steps = ()
    return ProtocolData(
        steps=steps,
        recovery_hours=recovery,
        checkin_hours=tuple(checkin_offsets(checkins)),
        general_advice=advice,
    )


def aftercare_timeline_for_appointment(
    appointment: Any, *, now: datetime | None = None
) -> list[core.TimelineStep]:
    data = protocol_get_for_treatment(appointment.treatment)
    return core.timeline(
        session_start=appointment.starts_at,
        steps=data.steps,
        tz=appointment.location.tz,
        now=now,
    )


def aftercare_today_for_appointment(appointment: Any, *, now: datetime) -> list[core.TimelineStep]:
    data = protocol_get_for_treatment(appointment.treatment)
    return core.today(
        session_start=appointment.starts_at, steps=data.steps, tz=appointment.location.tz, now=now
    )
