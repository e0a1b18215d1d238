"""Treatment plans (courses) and the client's important dates (issue 5).

A plan is the clinician's proposal for a course: the areas treated, what each has and how
severe it is (DOMAIN.md 1.3), the recommended number of sessions and interval (DOMAIN.md 1.2),
the target interval and the window each gap may fall in. Its sessions are ordinary
appointments, linked here (PlanSession) so that scheduling knows nothing of courses.

An important date is a day (or span of days) the client wants to look their best for. No
session's recovery window may touch it: the window is the treatment's aftercare protocol's
`recovery_hours` (micro-needling 72 h, DOMAIN.md 4.2), or the date kind's own recovery when that
is longer (sun exposure: two weeks, DOMAIN.md 4.2 days 0-14)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from daisy.clients.models import Client
from daisy.clinic.models import Location, Specialist
from daisy.lib.models import PublicModel
from daisy.scheduling.models import Appointment
from daisy.treatments.models import Treatment

# DOMAIN.md section 0 row 1: published courses run 1-6 sessions; above 6 is an extended or
# maintenance course and needs a specialist's confirmation (issue 5 item 1). 12 at most.
STANDARD_MAX_SESSIONS = 6
MAX_SESSIONS = 12
# DOMAIN.md 1.2 interval rules: default 28 days; hard minimum 14 with a clinician override;
# above 56 the course is drifting. Issue 5: the window defaults to 21-42 days.
DEFAULT_INTERVAL_DAYS = 28
DEFAULT_MIN_INTERVAL_DAYS = 21
DEFAULT_MAX_INTERVAL_DAYS = 42
HARD_MIN_INTERVAL_DAYS = 14
HARD_MAX_INTERVAL_DAYS = 56


class Concern(models.TextChoices):
    # DOMAIN.md 1.2 indications
    ACNE_SCARS = "acne_scars", _("Acne scars")
    SURGICAL_SCARS = "surgical_scars", _("Surgical or traumatic scars")
    STRETCH_MARKS = "stretch_marks", _("Stretch marks")
    SUN_DAMAGE = "sun_damage", _("Sun damage")
    FINE_LINES = "fine_lines", _("Fine lines and wrinkles")
    TEXTURE = "texture", _("Texture")
    LAXITY = "laxity", _("Laxity")


class Scale(models.TextChoices):
    # DOMAIN.md 1.3
    GOODMAN_BARON = "goodman_baron", _("Goodman & Baron qualitative grade (1-4)")
    GLOGAU = "glogau", _("Glogau photoaging type (I-IV)")
    CLINICIAN = "clinician", _("Clinician's grade (1 mild - 4 severe)")


# DOMAIN.md 1.3: Goodman & Baron grades acne scars; Glogau grades photoaging and wrinkles. The
# other indications have no grading scale in DOMAIN.md 1.3, so the clinician grades 1-4.
CONCERN_SCALE = {
    Concern.ACNE_SCARS: Scale.GOODMAN_BARON,
    Concern.SUN_DAMAGE: Scale.GLOGAU,
    Concern.FINE_LINES: Scale.GLOGAU,
    Concern.SURGICAL_SCARS: Scale.CLINICIAN,
    Concern.STRETCH_MARKS: Scale.CLINICIAN,
    Concern.TEXTURE: Scale.CLINICIAN,
    Concern.LAXITY: Scale.CLINICIAN,
}


class CourseDefault(models.Model):
    """The clinic's default course for one concern (DOMAIN.md 1.2), edited in the admin."""

    concern = models.CharField(max_length=32, choices=Concern.choices, unique=True)
    sessions = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(MAX_SESSIONS)],
        help_text=_("Sessions for a standard (grade 2 or moderate) case."),
    )
    min_sessions = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(MAX_SESSIONS)]
    )
    max_sessions = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(MAX_SESSIONS)]
    )
    interval_days = models.PositiveSmallIntegerField(
        default=DEFAULT_INTERVAL_DAYS,
        validators=[
            MinValueValidator(HARD_MIN_INTERVAL_DAYS),
            MaxValueValidator(HARD_MAX_INTERVAL_DAYS),
        ],
    )
    source = models.CharField(
        max_length=200,
        help_text=_('e.g. "Typical course for atrophic acne scars (published studies)"'),
    )

    class Meta:
        ordering = ["concern"]
        constraints = [
            models.CheckConstraint(
                condition=Q(min_sessions__lte=F("sessions")) & Q(sessions__lte=F("max_sessions")),
                name="course_default_sessions_in_range",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_concern_display()}: {self.sessions} x {self.interval_days} days"


class PlanStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    ACCEPTED = "accepted", _("Accepted")
    IN_PROGRESS = "in_progress", _("In progress")
    COMPLETED = "completed", _("Completed")
    STOPPED = "stopped", _("Stopped")


class Plan(PublicModel):
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="plans")
    treatment = models.ForeignKey(Treatment, on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey(
        Location, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    specialist = models.ForeignKey(
        Specialist,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Kept for every session where possible."),
    )
    status = models.CharField(
        max_length=16, choices=PlanStatus.choices, default=PlanStatus.PROPOSED
    )
    recommended_sessions = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text=_("From the areas' concerns and grades (the clinic's course defaults)."),
    )
    recommended_interval_days = models.PositiveSmallIntegerField(null=True, blank=True)
    sessions = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(MAX_SESSIONS)]
    )
    interval_days = models.PositiveSmallIntegerField(default=DEFAULT_INTERVAL_DAYS)
    min_interval_days = models.PositiveSmallIntegerField(default=DEFAULT_MIN_INTERVAL_DAYS)
    max_interval_days = models.PositiveSmallIntegerField(default=DEFAULT_MAX_INTERVAL_DAYS)
    extended_confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The specialist who confirmed a course of more than 6 sessions."),
    )
    interval_override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The clinician who allowed an interval below 28 days."),
    )
    interval_override_reason = models.TextField(blank=True)
    notes = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    stop_reason = models.CharField(max_length=300, blank=True)
    # Scoped by the booker ("<user id>:<key>"), as for single bookings.
    idempotency_key = models.CharField(max_length=300, null=True, blank=True, unique=True)
    request_fingerprint = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(min_interval_days__lte=F("interval_days"))
                & Q(interval_days__lte=F("max_interval_days"))
                & Q(min_interval_days__gte=HARD_MIN_INTERVAL_DAYS)
                & Q(max_interval_days__lte=HARD_MAX_INTERVAL_DAYS),
                name="plan_interval_in_window",
            ),
            models.CheckConstraint(
                condition=Q(sessions__gte=1) & Q(sessions__lte=MAX_SESSIONS),
                name="plan_sessions_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.treatment} course for {self.client} ({self.sessions} sessions)"

    @property
    def is_extended(self) -> bool:
        """An extended or maintenance course (DOMAIN.md section 0 row 1)."""
        return self.sessions > STANDARD_MAX_SESSIONS

    @property
    def interval(self) -> timedelta:
        return timedelta(days=self.interval_days)


class PlanArea(models.Model):
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="areas")
    area = models.CharField(max_length=80, help_text=_("e.g. cheeks, forehead, abdomen"))
    concern = models.CharField(max_length=32, choices=Concern.choices)

    class Meta:
        ordering = ["plan", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "area", "concern"], name="plan_area_concern_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.area}: {self.get_concern_display()}"

    @property
    def scale(self) -> str:
        return CONCERN_SCALE[Concern(self.concern)]


class AreaGrade(models.Model):
    """One grading of one area. DOMAIN.md 1.3: re-grade at every review; the history is the
    severity-over-time the client sees."""

    area = models.ForeignKey(PlanArea, on_delete=models.CASCADE, related_name="grades")
    grade = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(4)]
    )
    graded_at = models.DateTimeField()
    graded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["area", "graded_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(grade__gte=1) & Q(grade__lte=4), name="area_grade_1_to_4"
            )
        ]

    def __str__(self) -> str:
        return f"{self.area}: grade {self.grade}"


class PlanSession(models.Model):
    """An appointment that is a session of a course. Session numbers are not stored: they are
    the order of the course's booked sessions, so a cancelled or moved one renumbers nothing."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="plan_sessions")
    appointment = models.OneToOneField(
        Appointment, on_delete=models.CASCADE, related_name="course_session"
    )

    class Meta:
        ordering = ["plan", "appointment__starts_at"]

    def __str__(self) -> str:
        return f"{self.plan}: {self.appointment}"


# A date this long before a session is the furthest a pre-care window reaches back.
MAX_PRECARE_HOURS = 60 * 24


class ImportantDateKind(models.Model):
    """A kind of important date and how long a recovery window must stay clear of it."""

    slug = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=80)
    recovery_hours = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text=_(
            "Keep this long after a session clear of the date, when it is longer than the "
            "treatment's own recovery window. Sun exposure: 336 (two weeks of SPF and limited "
            "sun after a session). Empty: the treatment's recovery window."
        ),
    )
    precare_hours = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MaxValueValidator(MAX_PRECARE_HOURS)],
        help_text=_(
            "Keep this long before a session clear of the date, for treatments with "
            "preparation steps. Sun exposure: 336 (no tanning or sunburn in the two weeks "
            "before a session). Empty: none. At most 1440 (60 days)."
        ),
    )
    display_order = models.PositiveSmallIntegerField(default=100)

    class Meta:
        ordering = ["display_order", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def recovery(self) -> timedelta | None:
        return None if self.recovery_hours is None else timedelta(hours=self.recovery_hours)

    @property
    def precare(self) -> timedelta | None:
        return None if not self.precare_hours else timedelta(hours=self.precare_hours)


class ImportantDate(PublicModel):
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="important_dates")
    kind = models.ForeignKey(ImportantDateKind, on_delete=models.PROTECT, related_name="+")
    label = models.CharField(max_length=120, blank=True, help_text=_('e.g. "Sam\'s wedding"'))
    start_on = models.DateField()
    end_on = models.DateField(help_text=_("The last day, inclusive; the start for one day."))
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )

    class Meta:
        ordering = ["start_on", "end_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_on__gte=F("start_on")), name="important_date_ends_after_start"
            )
        ]
        indexes = [models.Index(fields=["client", "end_on"], name="important_date_client_end")]

    def __str__(self) -> str:
        name = self.label or str(self.kind)
        if self.start_on == self.end_on:
            return f"{name} ({self.start_on:%d %b %Y})"
        return f"{name} ({self.start_on:%d %b %Y} - {self.end_on:%d %b %Y})"
