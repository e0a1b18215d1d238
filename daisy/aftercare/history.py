"""A client's aftercare history for their file at the desk: check-ins and red-flag alerts."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

from daisy.aftercare.models import Alert, CheckIn


def checkins_for_client(client_id: Any) -> list[CheckIn]:
    """Every check-in the client answered, newest first, with its appointment."""
    return list(
        CheckIn.objects.filter(appointment__client_id=client_id)
        .select_related("appointment__treatment")
        .order_by("-submitted_at")
    )


def alerts_for_client(client_id: Any) -> list[Alert]:
    """Every red-flag alert of the client, newest first."""
    return list(
        Alert.objects.filter(client_id=client_id)
        .select_related("cleared_by", "appointment__treatment")
        .order_by("-raised_at")
    )


def alert_for_hold(hold: Any) -> Alert | None:
    """The alert that placed a clinical hold (its source is "alert:<id>"), if any."""
    source = getattr(hold, "source", "") or ""
    if not source.startswith("alert:"):
        return None
    try:
        return Alert.objects.filter(pk=source.removeprefix("alert:")).first()
    except (ValueError, ValidationError):
        return None
