"""Reading the trail as a person would: who (by name), did what (in words), to what (by name),
when, and the details that matter (what changed from what to what, and why)."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.apps import apps
from django.core.exceptions import ValidationError

from daisy.audit.models import AuditEntry

# What each action means, in words. An action not listed reads from its own name.
ACTIONS = {
    "client.view": "Opened the health record",
    "client.create": "Created the client record",
    "client.update": "Changed the client's details",
    "client.preferences": "Changed message preferences",
    "client.merge": "Merged a duplicate record",
    "client.hold": "Clinical hold placed",
    "client.hold_clear": "Cleared a clinical hold",
    "finding.record": "Recorded a finding",
    "finding.extend": "Extended a deferral",
    "finding.create": "Recorded a finding",
    "finding.change": "Changed a finding",
    "finding.resolve": "Resolved a finding",
    "finding.reopen": "Reopened a finding",
    "finding.delete": "Deleted a finding",
    "appointment.book": "Booked an appointment",
    "appointment.reschedule": "Moved an appointment",
    "appointment.cancel": "Cancelled an appointment",
    "appointment.note": "Changed an appointment's note",
    "appointment.completed": "Marked an appointment completed",
    "appointment.no_show": "Marked a no-show",
    "appointment.arrived": "Marked the client arrived",
    "appointment.in_treatment": "Started the treatment",
    "course.plan_create": "Created a course plan",
    "course.plan_update": "Changed a course plan",
    "course.plan_stop": "Stopped a course",
    "course.plan_accept": "Accepted a course plan",
    "course.book": "Booked course sessions",
    "course.area_add": "Added a treatment area",
    "course.area_grade": "Graded a treatment area",
    "course.important_date_create": "Added an important date",
    "course.important_date_delete": "Removed an important date",
    "aftercare.alert_clear": "Cleared an aftercare alert",
    "waitlist.join": "Joined the waitlist",
    "waitlist.leave": "Left the waitlist",
    "waitlist.offer": "Offered a time from the waitlist",
    "waitlist.accept": "Took a time from the waitlist",
    "settings.add": "Added",
    "settings.change": "Changed",
    "settings.delete": "Deleted",
}
_UUID_ANY = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
_UUID = re.compile(rf"^{_UUID_ANY.pattern}$", re.I)
# Data keys that are references for machines, not details for people.
_HIDDEN = frozenset({"client", "merged_from", "hold", "course", "appointment", "entry", "offer"})


def action_words(action: str) -> str:
    if action in ACTIONS:
        return ACTIONS[action]
    return action.rpartition(".")[2].replace("_", " ").capitalize()


def _readable(value: Any) -> str:
    if value is None or value == "":
        return "(empty)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(_readable(v) for v in value)
    text = str(value)
    return "(a record)" if _UUID.match(text) else text


_PLACES = {
    "admin": "the back-office",
    "desk": "the desk",
    "api": "an app connected to Daisy",
    "portal": "the client's own portal",
}


def via_words(via: str) -> str:
    """Where a record was opened: "admin:plan" reads "the back-office (plan)"."""
    head, _sep, rest = via.partition(":")
    head, _comma, extra = head.partition(",")
    place = _PLACES.get(head.strip(), head.strip())
    detail = [part for part in (extra.strip(), _UUID_ANY.sub("", rest).strip(": ")) if part]
    return f"{place} ({', '.join(detail).replace('-', ' ')})" if detail else place


def data_lines(data: Any) -> list[str]:
    """The entry's details as short lines: "tier: defer → hard stop", "reason: ..."."""
    if not isinstance(data, dict):
        return []
    lines: list[str] = []
    for key, value in data.items():
        if key in _HIDDEN:
            continue
        label = key.replace("_", " ")
        if key == "via" and isinstance(value, str):
            lines.append(f"in {via_words(value)}")
        elif key == "changes" and isinstance(value, dict):
            for field, change in value.items():
                if isinstance(change, dict) and {"from", "to"} <= set(change):
                    lines.append(
                        f"{field.replace('_', ' ')}: "
                        f"{_readable(change['from'])} → {_readable(change['to'])}"
                    )
                else:
                    lines.append(f"{field.replace('_', ' ')}: {_readable(change)}")
        elif isinstance(value, dict):
            continue
        elif isinstance(value, str) and _UUID.match(value):
            continue
        else:
            lines.append(f"{label}: {_readable(value)}")
    return lines


@dataclass(frozen=True)
class TrailLine:
    at: datetime
    who: str
    action: str
    what: str
    details: list[str]
    is_view: bool


def _object_names(entries: list[AuditEntry]) -> dict[tuple[str, str], str]:
    """Names for entries written without one, read in one query per kind of object."""
    wanted: dict[str, set[str]] = defaultdict(set)
    for e in entries:
        if not e.object_name:
            wanted[e.object_type].add(e.object_id)
    names: dict[tuple[str, str], str] = {}
    for object_type, ids in wanted.items():
        try:
            model = apps.get_model(object_type)
        except (LookupError, ValueError):
            continue
        related = [
            f.name
            for f in model._meta.fields
            if f.many_to_one and not f.null and f.related_model is not model
        ]
        try:
            found = model._default_manager.select_related(*related).in_bulk(list(ids))
        except (ValueError, ValidationError):
            continue
        for pk, obj in found.items():
            names[(object_type, str(pk))] = str(obj)
    return names


def _fallback_name(object_type: str) -> str:
    try:
        return str(apps.get_model(object_type)._meta.verbose_name)
    except (LookupError, ValueError):
        return object_type.rpartition(".")[2]


def client_trail(*, client_id: Any, limit: int = 500) -> list[TrailLine]:
    """Everything seen and changed of one client's record, newest first."""
    entries = list(
        AuditEntry.objects.filter(client_ref=str(client_id))
        .select_related("actor")
        .order_by("-at", "-id")[:limit]
    )
    names = _object_names(entries)
    lines = []
    for e in entries:
        who = e.actor_name or (
            (e.actor.get_full_name() or e.actor.email or e.actor.username) if e.actor else ""
        )
        what = (
            e.object_name
            or names.get((e.object_type, e.object_id))
            or _fallback_name(e.object_type)
        )
        lines.append(
            TrailLine(
                at=e.at,
                who=who or "Daisy (automatic)",
                action=action_words(e.action),
                what=_UUID_ANY.sub("a record", what),
                details=data_lines(e.data),
                is_view=e.action == "client.view",
            )
        )
    return lines


def finding_last_change(finding: Any) -> str:
    """Who last changed or resolved a finding, when and why, in one line ("" when nobody has
    since it was recorded)."""
    entry = (
        AuditEntry.objects.filter(
            object_type=finding._meta.label_lower,
            object_id=str(finding.pk),
            action__in=("finding.change", "finding.resolve", "finding.reopen"),
        )
        .order_by("-at", "-id")
        .first()
    )
    if entry is None:
        return ""
    reason = entry.data.get("reason") if isinstance(entry.data, dict) else ""
    when = entry.at.strftime("%d %b %Y %H:%M")
    text = f"{action_words(entry.action)} by {entry.actor_name or 'Daisy'} on {when} UTC"
    return f"{text}: {reason}" if reason else text
