"""Pre-care and aftercare protocols as data (issue 6 item 1): one protocol per treatment, each
step an offset from the start of the session with what to do or avoid and the clinical source it
comes from (DOMAIN.md 4.1, 4.2). The clinic edits them in the admin; `daisy/core/aftercare.py`
turns them into a dated, local-time timeline for one session."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.core.validators import validate_comma_separated_integer_list
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from daisy.treatments.models import Treatment


class StepKind(models.TextChoices):
    PRE = "pre", _("Pre-care")
    POST = "post", _("Aftercare")


class Protocol(models.Model):
    treatment = models.OneToOneField(
        Treatment, on_delete=models.CASCADE, related_name="aftercare_protocol"
    )
    recovery_hours = models.PositiveIntegerField(
        default=0,
        help_text=_(
            "How long after a session the skin is still recovering (no other treatment of the "
            "area), e.g. 72 for micro-needling (aftercare days 0-3)."
        ),
    )
    checkin_hours = models.CharField(
        max_length=100,
        blank=True,
        validators=[validate_comma_separated_integer_list],
        help_text=_(
            "Hours after the session at which the client is asked how the skin is healing, "
            "comma-separated, e.g. 24,72,168 (after 1, 3 and 7 days). Empty: no check-ins."
        ),
    )
    review_days = models.CharField(
        max_length=100,
        blank=True,
        validators=[validate_comma_separated_integer_list],
        help_text=_(
            "Days after the session at which the client is asked again how the skin is, "
            "comma-separated, e.g. 30,91,182 for one, three and six months. Not sent when the "
            "client has had another session of this treatment by then: it is reviewed in "
            "person. Empty: no later reviews."
        ),
    )
    general_advice = models.TextField(
        blank=True,
        help_text=_(
            "Shown to the client as general advice, not as a rule of the protocol "
            "(e.g. drinking water, which has no clinical source for healing)."
        ),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["treatment__display_order", "treatment__name"]

    def __str__(self) -> str:
        return f"Pre-care and aftercare: {self.treatment.name}"

    @property
    def checkin_offsets(self) -> list[int]:
        return checkin_offsets(self.checkin_hours)

    @property
    def review_offsets(self) -> list[int]:
        return checkin_offsets(self.review_days)


def checkin_offsets(raw: str) -> list[int]:
    """Check-in hours (or review days) from their text form: "24,72,168" -> [24, 72, 168].
    Zero is no check-in."""
    return sorted({int(h) for h in raw.split(",") if h.strip() and int(h) > 0})


class ProtocolStep(models.Model):
    protocol = models.ForeignKey(Protocol, on_delete=models.CASCADE, related_name="steps")
    kind = models.CharField(max_length=4, choices=StepKind.choices)
    offset_start_minutes = models.IntegerField(
        help_text=_(
            "From the start of the session, in minutes: -10080 is 7 days before, 1440 a day "
            "after. Whole days are counted on the local calendar at the same clock time."
        )
    )
    offset_end_minutes = models.IntegerField(
        null=True, blank=True, help_text=_("Empty: the step starts a lasting change.")
    )
    title = models.CharField(
        max_length=200,
        help_text=_(
            'Reads as the start of a sentence: "Makeup is fine again" becomes "Makeup is fine '
            'again from Thursday 10 January, 10:30 GMT".'
        ),
    )
    detail = models.TextField(blank=True)
    is_restriction = models.BooleanField(
        default=False, help_text=_("Something to avoid while the step lasts.")
    )
    notify = models.BooleanField(
        default=False, help_text=_("Send the client a message when the step begins.")
    )
    source = models.CharField(
        max_length=300,
        help_text=_('The clinical source, e.g. "Aftercare, day 1: clinic aftercare sheets".'),
    )

    class Meta:
        ordering = ["protocol", "offset_start_minutes", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(offset_end_minutes__isnull=True)
                | Q(offset_end_minutes__gt=F("offset_start_minutes")),
                name="aftercare_step_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["pre", "post"]), name="aftercare_step_kind_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.offset_label}: {self.title}"

    @property
    def offset_start(self) -> timedelta:
        return timedelta(minutes=self.offset_start_minutes)

    @property
    def offset_end(self) -> timedelta | None:
        if self.offset_end_minutes is None:
            return None
        return timedelta(minutes=self.offset_end_minutes)

    @property
    def offset_label(self) -> str:
        """'-7 d', '+24 h', '0 h -> +72 h': the offsets as a clinician writes them."""
        start = _offset_label(self.offset_start_minutes)
        if self.offset_end_minutes is None:
            return start
        return f"{start} → {_offset_label(self.offset_end_minutes)}"


def _offset_label(minutes: int) -> str:
    sign = "-" if minutes < 0 else ("+" if minutes > 0 else "")
    m = abs(minutes)
    if m % 1440 == 0 and m > 72 * 60:  # up to 72 h clinicians count hours (DOMAIN.md 4.2)
        return f"{sign}{m // 1440} d"
    if m % 60 == 0:
        return f"{sign}{m // 60} h"
    return f"{sign}{m} min"


class PrecareConfirmation(models.Model):
    """A client's word, given when booking, that they already follow a pre-care step the
    session's time leaves too little room for ("I already avoid the sun"). Kept with the
    appointment, with the step's words as they were, for the specialist to check on the day."""

    appointment = models.ForeignKey(
        "scheduling.Appointment", on_delete=models.CASCADE, related_name="precare_confirmations"
    )
    step = models.ForeignKey(
        ProtocolStep, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    title = models.CharField(max_length=200)
    step_started_at = models.DateTimeField(
        help_text=_("When the step should have begun for this session.")
    )
    confirmed_at = models.DateTimeField()
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["appointment", "step_started_at", "pk"]

    def __str__(self) -> str:
        return f"{self.title} (confirmed {self.confirmed_at:%Y-%m-%d})"


# --- check-ins and red flags (DOMAIN.md 5.1, 5.2) -----------------------------------------------


class Trend(models.TextChoices):
    NONE = "none", _("None")
    BETTER = "better", _("Yes, but fading")
    SAME = "same", _("Yes, about the same")
    WORSE = "worse", _("Yes, and getting worse or spreading")


class Severity(models.TextChoices):
    ROUTINE = "routine", _("Routine: clinician review before the next session")
    URGENT = "urgent", _("Urgent: same-day clinician review")
    EMERGENCY = "emergency", _("Emergency: call emergency services")


class CheckIn(models.Model):
    """A client's answers to one check-in after a session (DOMAIN.md 5.2), from the signed link
    in the check-in message. One per appointment and check-in; the red-flag evaluation of the
    answers (daisy/core/checkins.py) is stored with them, as it was when they came in."""

    appointment = models.ForeignKey(
        "scheduling.Appointment", on_delete=models.CASCADE, related_name="checkins"
    )
    kind = models.CharField(
        max_length=20,
        help_text=_('Which check-in, by its time after the session: "24h", "72h", "168h", "30d".'),
    )
    redness = models.CharField(max_length=6, choices=Trend.choices)
    swelling = models.CharField(max_length=6, choices=Trend.choices)
    pain = models.CharField(max_length=6, choices=Trend.choices)
    hot_or_weeping = models.BooleanField()
    spots = models.BooleanField()
    blisters = models.BooleanField()
    dark_patches = models.BooleanField()
    fever = models.BooleanField()
    # Asked since DOMAIN.md 5.1 rows "Contact / irritant dermatitis", "Tram-track scarring" and
    # "Acne flare / milia" became questions; earlier answers did not include them.
    rash = models.BooleanField(default=False)
    track_marks = models.BooleanField(default=False)
    breakouts = models.BooleanField(default=False)
    toxicity = models.JSONField(default=list, blank=True)
    notes = models.TextField(blank=True)
    submitted_at = models.DateTimeField()
    severity = models.CharField(max_length=10, choices=Severity.choices, blank=True)
    flags = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-submitted_at"]
        constraints = [
            # Answered once: a second submission (double click, second tab) finds the first.
            models.UniqueConstraint(fields=["appointment", "kind"], name="checkin_once_per_kind")
        ]

    def __str__(self) -> str:
        return f"Check-in {self.kind} for {self.appointment_id}"


class Alert(models.Model):
    """A red flag raised by a check-in, for the treating specialist and the clinic. While it is
    open the client's next session is held (clients.ClinicalHold); a clinician clears it,
    recording who and why."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    checkin = models.OneToOneField(CheckIn, on_delete=models.PROTECT, related_name="alert")
    appointment = models.ForeignKey(
        "scheduling.Appointment", on_delete=models.PROTECT, related_name="alerts"
    )
    client = models.ForeignKey("clients.Client", on_delete=models.PROTECT, related_name="alerts")
    severity = models.CharField(max_length=10, choices=Severity.choices)
    flags = models.JSONField(default=list)
    summary = models.TextField()
    raised_at = models.DateTimeField(db_index=True)
    cleared_at = models.DateTimeField(null=True, blank=True)
    cleared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    clear_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["cleared_at", "-raised_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(severity__in=["routine", "urgent", "emergency"]),
                name="alert_severity_known",
            ),
            models.CheckConstraint(
                condition=Q(cleared_at__isnull=True)
                | (Q(cleared_by__isnull=False) & ~Q(clear_reason="")),
                name="alert_cleared_by_someone_for_a_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_severity_display()}: {self.client} ({self.raised_at:%Y-%m-%d %H:%M})"

    @property
    def is_open(self) -> bool:
        return self.cleared_at is None


# --- personal calendar feeds --------------------------------------------------------------------


class CalendarFeed(models.Model):
    """A secret URL (`/calendar/<token>.ics`) from which a client's or a specialist's calendar
    app reads their appointments. The token is the only credential, so it is long and random,
    and revoking it (or rotating: revoke and issue a new one) makes the old URL answer 404."""

    token = models.CharField(max_length=64, unique=True)
    client = models.ForeignKey(
        "clients.Client",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="calendar_feeds",
    )
    specialist = models.ForeignKey(
        "clinic.Specialist",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="calendar_feeds",
    )
    created_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(client__isnull=False) & Q(specialist__isnull=True))
                | (Q(client__isnull=True) & Q(specialist__isnull=False)),
                name="calendar_feed_has_one_owner",
            ),
            # One live feed per owner: issuing a new one revokes the old.
            models.UniqueConstraint(
                fields=["client"],
                condition=Q(revoked_at__isnull=True, client__isnull=False),
                name="calendar_feed_one_live_per_client",
            ),
            models.UniqueConstraint(
                fields=["specialist"],
                condition=Q(revoked_at__isnull=True, specialist__isnull=False),
                name="calendar_feed_one_live_per_specialist",
            ),
        ]

    def __str__(self) -> str:
        owner = self.client or self.specialist
        state = "revoked" if self.revoked_at else "live"
        return f"Calendar feed of {owner} ({state})"
