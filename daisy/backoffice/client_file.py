"""A client's file at the desk (issue 13, item 4): one timeline of everything the clinic knows
about them, read from each app's selectors.

What a person sees depends on their role (docs/roles.md): everyone at the desk sees
appointments, courses, messages, notes, the waitlist, and that a hold, a finding or a red flag
is there; only clinicians (specialists and the manager) see the clinical detail: what a finding
is, why a hold was placed, a check-in's answers, an alert's summary. Every opening of a file is
audited (clients.services.client_view_record), saying whether clinical detail was shown."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from daisy.aftercare.history import alerts_for_client, checkins_for_client
from daisy.booking.waitlist import waitlist_for_client
from daisy.clients.selectors import findings_for_client, holds_for_client
from daisy.clients.services import client_view_record
from daisy.courses.selectors import course_list_for_client
from daisy.notifications.selectors import messages_for_client
from daisy.records.consent_selectors import consent_current, consent_list_for_client
from daisy.scheduling.selectors import appointment_list

# The words the desk reads for each state of a message.
MESSAGE_STATE = {
    "pending": gettext_lazy("waiting to be sent"),
    "sending": gettext_lazy("being sent"),
    "sent": gettext_lazy("sent"),
    "failed": gettext_lazy("could not be delivered"),
    "cancelled": gettext_lazy("not sent (no longer needed)"),
    "outcome_unknown": gettext_lazy("being sent again"),
    "unconfirmed": gettext_lazy("probably delivered, not confirmed"),
}
# What each kind of message is, for a message not yet sent (its subject is written on sending).
MESSAGE_KIND = {
    "appointment/confirmed": gettext_lazy("Booking confirmation"),
    "appointment/reminder": gettext_lazy("Appointment reminder"),
    "appointment/cancelled": gettext_lazy("Cancellation"),
    "aftercare/step": gettext_lazy("Aftercare advice"),
    "aftercare/checkin": gettext_lazy("Check-in: how is your skin?"),
    "aftercare/review": gettext_lazy("Review invitation"),
    "course/confirmed": gettext_lazy("Course confirmation"),
    "course/next_session": gettext_lazy("Next course session"),
    "course/recall": gettext_lazy("Time for your next session"),
}
CHECKIN_WHEN = {
    "24h": gettext_lazy("1 day"),
    "72h": gettext_lazy("3 days"),
    "168h": gettext_lazy("7 days"),
    "30d": gettext_lazy("30 days"),
}


@dataclass
class Item:
    at: datetime
    kind: str  # appointment, course, finding, hold, checkin, alert, message, waitlist
    title: str
    status: str = ""
    lines: list[str] = field(default_factory=list)
    link: str = ""
    link_text: str = ""
    # Set on an open clinical hold a clinician may clear from the file.
    hold_id: Any = None
    # Set on a message whose delivery was not confirmed, which the desk may send again.
    resend_message_id: Any = None
    # Set on an open finding a clinician may resolve from the file (with a reason).
    finding_id: Any = None
    is_attention: bool = False  # drawn as needing the desk's attention
    is_future: bool = False


@dataclass
class ClientFile:
    client: Any
    clinical: bool
    items: list[Item]
    upcoming: list[Item]
    open_holds: int
    open_alerts: int
    open_findings: int
    zone: ZoneInfo
    # Consent at a glance (issue 14 item 4): (what, state, link to the signed consent or "").
    consents: list[tuple[str, str, str]] = field(default_factory=list)


def _local(value: datetime, tz: ZoneInfo) -> str:
    return f"{value.astimezone(tz):%a %-d %b %Y, %H:%M}"


def client_file_read(*, client: Any, viewer: Any, now: datetime, zone: ZoneInfo) -> ClientFile:
    """The file as `viewer` may see it; records the viewing in the audit trail."""
    clinical = bool(getattr(viewer, "is_clinician", False))
    client_view_record(
        client=client, by=viewer, now=now, via="desk, clinical detail" if clinical else "desk"
    )
    items: list[Item] = []

    for appt in appointment_list(client_id=client.pk).select_related("treatment", "location"):
        tz = appt.location.tz
        who = _(" with %(who)s") % {"who": appt.specialist.name} if appt.specialist_id else ""
        item = Item(
            at=appt.starts_at,
            kind="appointment",
            title=_("%(treatment)s%(who)s at %(place)s")
            % {"treatment": appt.treatment.name, "who": who, "place": appt.location.name},
            status=appt.get_status_display(),
            lines=[f"{_local(appt.starts_at, tz)} ({appt.location.time_zone})"],
            link=reverse("desk:diary-day", args=[appt.starts_at.astimezone(tz).date()]),
            link_text=_("Open the day in the diary"),
            is_future=appt.starts_at > now and appt.status == "booked",
        )
        if appt.notes:
            item.lines.append(_("Note: %(note)s") % {"note": appt.notes})
        if appt.cancel_reason:
            item.lines.append(_("Why cancelled: %(reason)s") % {"reason": appt.cancel_reason})
        if appt.override_reason:
            item.lines.append(
                _("Treated despite a finding: %(reason)s") % {"reason": appt.override_reason}
                if clinical
                else _("A clinician recorded a reason to treat despite a finding.")
            )
        items.append(item)

    for course in course_list_for_client(client):
        items.append(
            Item(
                at=course.created_at,
                kind="course",
                title=_("Course of %(treatment)s") % {"treatment": course.treatment_name},
                status=course.status_label,
                lines=[
                    course.progress_label,
                    _("%(done)s of %(planned)s sessions done, %(booked)s booked")
                    % {
                        "done": course.sessions_done,
                        "planned": course.sessions_planned,
                        "booked": course.sessions_booked,
                    },
                ],
            )
        )

    open_findings = 0
    for finding in findings_for_client(client.pk):
        is_open = finding.resolved_at is None
        open_findings += is_open
        item = Item(
            at=finding.recorded_at,
            kind="finding",
            title=_("Health finding: %(tier)s") % {"tier": finding.get_tier_display()},
            status=_("open") if is_open else _("resolved"),
            is_attention=is_open,
            finding_id=finding.pk if is_open and clinical else None,
        )
        if clinical:
            item.lines.append(finding.condition)
            if finding.until_on:
                item.lines.append(_("Until %(day)s") % {"day": f"{finding.until_on:%-d %b %Y}"})
        else:
            item.lines.append(_("Details are for the clinicians."))
        items.append(item)

    open_holds = 0
    for hold in holds_for_client(client.pk):
        item = Item(
            at=hold.placed_at,
            kind="hold",
            title=_("Next session on hold until a clinician reviews the client"),
            status=_("open") if hold.is_open else _("cleared"),
            is_attention=hold.is_open,
            hold_id=hold.pk if hold.is_open and clinical else None,
        )
        open_holds += hold.is_open
        if clinical:
            item.lines.append(_("Why: %(reason)s") % {"reason": hold.reason})
        if not hold.is_open:
            who = hold.cleared_by.get_full_name() or hold.cleared_by.username
            item.lines.append(
                _("Cleared by %(who)s on %(when)s")
                % {"who": who, "when": _local(hold.cleared_at, zone)}
            )
            if clinical:
                item.lines.append(_("Reason: %(reason)s") % {"reason": hold.clear_reason})
        items.append(item)

    for checkin in checkins_for_client(client.pk):
        after = CHECKIN_WHEN.get(checkin.kind, checkin.kind)
        item = Item(
            at=checkin.submitted_at,
            kind="checkin",
            title=_("Check-in %(after)s after %(treatment)s")
            % {"after": after, "treatment": checkin.appointment.treatment.name},
            status=_("warning signs") if checkin.flags else _("healing as expected"),
            is_attention=bool(checkin.flags),
        )
        if clinical:
            item.lines.append(
                _("Redness %(r)s, swelling %(s)s, pain %(p)s")
                % {
                    "r": checkin.get_redness_display().lower(),
                    "s": checkin.get_swelling_display().lower(),
                    "p": checkin.get_pain_display().lower(),
                }
            )
            if checkin.notes:
                item.lines.append(_("Client wrote: %(notes)s") % {"notes": checkin.notes})
        items.append(item)

    open_alerts = 0
    for alert in alerts_for_client(client.pk):
        item = Item(
            at=alert.raised_at,
            kind="alert",
            title=_("Red-flag alert (%(severity)s)") % {"severity": alert.get_severity_display()},
            status=_("open") if alert.is_open else _("cleared"),
            is_attention=alert.is_open,
        )
        open_alerts += alert.is_open
        if clinical:
            item.lines.append(alert.summary)
            if not alert.is_open:
                item.lines.append(_("Cleared: %(reason)s") % {"reason": alert.clear_reason})
        else:
            item.lines.append(_("A clinician reviews it; details are for the clinicians."))
        items.append(item)

    for message in messages_for_client(client_id=client.pk):
        state = MESSAGE_STATE.get(message.status, message.status)
        when = message.sent_at or message.send_after
        title = (
            message.subject
            or message.context.get("subject")
            or MESSAGE_KIND.get(message.template)
            or _("Message")
        )
        item = Item(
            at=when,
            kind="message",
            title=str(title),
            status=state,
            lines=[
                _("%(channel)s to %(to)s")
                % {"channel": message.get_channel_display(), "to": message.recipient}
            ],
            is_attention=message.status == "failed",
        )
        if message.status == "failed" and message.last_error:
            item.lines.append(_("Why: %(error)s") % {"error": message.last_error[:200]})
        if message.status == "unconfirmed":
            item.is_attention = True
            item.resend_message_id = message.pk
            item.lines.append(
                _(
                    "The provider received it but never confirmed it, so it was not sent again "
                    "by itself. Ask the client; send it again only if it did not arrive."
                )
            )
        items.append(item)

    for entry in waitlist_for_client(client.pk):
        wants = [entry.treatment.name]
        if entry.specialist_id:
            wants.append(_("with %(who)s") % {"who": entry.specialist.name})
        if entry.location_id:
            wants.append(_("at %(place)s") % {"place": entry.location.name})
        if entry.from_on or entry.until_on:
            wants.append(
                _("between %(a)s and %(b)s")
                % {
                    "a": f"{entry.from_on:%-d %b}" if entry.from_on else _("now"),
                    "b": f"{entry.until_on:%-d %b %Y}" if entry.until_on else _("any time"),
                }
            )
        offers = list(entry.offers.all())
        lines = [" ".join(wants)]
        if offers:
            lines.append(
                _("%(n)s time(s) offered; last: %(state)s")
                % {"n": len(offers), "state": offers[-1].get_status_display().lower()}
            )
        items.append(
            Item(
                at=entry.created_at,
                kind="waitlist",
                title=_("On the waitlist"),
                status=entry.get_status_display(),
                lines=lines,
            )
        )

    consents = _consents(client, clinical, zone, items)

    items.sort(key=lambda i: i.at, reverse=True)
    upcoming = sorted((i for i in items if i.is_future), key=lambda i: i.at)
    return ClientFile(
        client=client,
        clinical=clinical,
        items=items,
        upcoming=upcoming,
        open_holds=open_holds,
        open_alerts=open_alerts,
        open_findings=open_findings,
        zone=zone,
        consents=consents,
    )


def _consents(
    client: Any, clinical: bool, zone: ZoneInfo, items: list[Item]
) -> list[tuple[str, str, str]]:
    """Each signed consent on the timeline, and the state of each kind at the top of the file.
    Reception sees that a consent is there and its state; clinicians open the document."""
    latest: dict[tuple[str, Any], Any] = {}
    for consent in consent_list_for_client(client):
        latest.setdefault((consent.kind, consent.treatment_id), consent)
        link = reverse("desk:consent", args=[consent.pk]) if clinical else ""
        lines = [
            _("Version %(v)s, %(via)s") % {"v": consent.version, "via": consent.get_via_display()}
        ]
        if consent.taken_by_id:
            taker = consent.taken_by
            lines.append(_("Taken by %(who)s") % {"who": taker.get_full_name() or taker.username})
        if consent.withdrawn_at:
            lines.append(_("Withdrawn on %(when)s") % {"when": _local(consent.withdrawn_at, zone)})
            if clinical:
                lines.append(_("Why: %(reason)s") % {"reason": consent.withdrawn_reason})
        items.append(
            Item(
                at=consent.signed_at,
                kind="consent",
                title=consent.title,
                status=_("withdrawn") if consent.withdrawn_at else _("signed"),
                lines=lines,
                link=link,
                link_text=_("Read the signed consent") if link else "",
            )
        )
    summary = []
    for consent in latest.values():
        current = consent_current(client, kind=consent.kind, treatment=consent.treatment)
        if consent.withdrawn_at:
            state = _("withdrawn on %(day)s") % {"day": f"{consent.withdrawn_at:%-d %b %Y}"}
        elif current is None:
            state = _("out of date: the text changed since it was signed")
        else:
            state = _("signed on %(day)s") % {
                "day": f"{consent.signed_at.astimezone(zone):%-d %b %Y}"
            }
        link = reverse("desk:consent", args=[consent.pk]) if clinical else ""
        summary.append((consent.title, state, link))
    return summary
