"""The clinical record, starting with screening: the clinic's questionnaires and contraindication
rules as editable data (DOMAIN.md 2.2), and every set of answers a client gave, kept with the
questionnaire's version. Findings that follow from answers are the clients app's
Contraindication rows, so the booking gate applies them on every path.

Later parts of the record (consultation, consent, the treatment chart) hang off a response the
same way: by client, and by appointment or course."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from daisy.clients.models import Client
from daisy.clinic.models import DeviceKind
from daisy.courses.models import Plan
from daisy.lib.models import PublicModel
from daisy.scheduling.models import Appointment


class Outcome(models.TextChoices):
    # DOMAIN.md 2.1 tiers, plus "treat without numbing" (2.2 row 29). Values match
    # daisy.core.screening.Outcome.
    CLEAR = "clear", _("Clear")
    CAUTION = "caution", _("Caution: treat with a change")
    NO_NUMBING = "no_numbing", _("Treat without numbing")
    ZONE_EXCLUDED = "zone_excluded", _("Zone excluded")
    DEFERRED = "deferred", _("Deferred until a date")
    CLINICIAN_REVIEW = "clinician_review", _("Clinician review")
    HARD_STOP = "hard_stop", _("Hard stop: do not treat")


class Questionnaire(models.Model):
    """The questions asked before a kind of treatment: a treatment gets the questionnaire of the
    device it uses (its phases' device kind), or the one with no device kind."""

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=80)
    device_kind = models.CharField(
        max_length=32,
        choices=DeviceKind.choices,
        blank=True,
        unique=True,
        help_text=_(
            "Asked before treatments that use this kind of device. Leave empty for the "
            "questionnaire of treatments that use none of them."
        ),
    )
    version = models.PositiveIntegerField(
        default=1, help_text=_("Goes up by one whenever its questions or rules change.")
    )
    questions = models.ManyToManyField(
        "Question", related_name="questionnaires", blank=True, help_text=_("What is asked.")
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} (version {self.version})"


class Question(models.Model):
    key = models.SlugField(
        max_length=40, unique=True, help_text=_("Its name in the API and in stored answers.")
    )
    text = models.CharField(max_length=300, help_text=_("The question, as the client reads it."))
    why = models.TextField(
        help_text=_("What a client reads when this answer changes or stops their booking.")
    )
    asks_when = models.BooleanField(
        default=False, help_text=_('A "yes" also asks the date it last happened.')
    )
    look_back_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_('For a "when" question: a date longer ago than this counts as a no.'),
    )
    is_online = models.BooleanField(
        default=True,
        help_text=_(
            "Asked before online booking. Otherwise a specialist asks it at the consultation "
            "or on the day."
        ),
    )
    is_rescreen = models.BooleanField(
        default=True,
        help_text=_(
            "Asked again before every session (from the reminder's link or on the clinic's "
            "tablet): for what can change between sessions and the client can answer. The "
            "consultation asks every question."
        ),
    )
    order = models.PositiveIntegerField(default=100)

    class Meta:
        ordering = ["order", "key"]

    def __str__(self) -> str:
        return self.text


class Rule(models.Model):
    """One row of the contraindication table: what a "yes" to a question means."""

    key = models.SlugField(max_length=40, unique=True)
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="rules")
    questionnaires = models.ManyToManyField(
        Questionnaire,
        related_name="rules",
        help_text=_("Applied in these questionnaires (where its question is asked)."),
    )
    condition = models.CharField(
        max_length=200, help_text=_("What staff read on the client's finding.")
    )
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    wait_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text=_("For a deferral: days to wait, counted from the date the client gives."),
    )
    modification = models.CharField(
        max_length=300, blank=True, help_text=_("What changes at the session, e.g. a depth cap.")
    )
    row = models.CharField(
        max_length=20, blank=True, help_text=_("Its row in the contraindication table.")
    )
    source = models.CharField(max_length=300, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["question__order", "key"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(outcome="clear"), name="screening_rule_changes_something"
            ),
            models.CheckConstraint(
                condition=models.Q(outcome="deferred", wait_days__gte=1)
                | (~models.Q(outcome="deferred") & models.Q(wait_days__isnull=True)),
                name="screening_rule_wait_only_for_deferral",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.condition}: {self.get_outcome_display()}"


class Via(models.TextChoices):
    ONLINE = "online", _("Online booking")
    API = "api", _("API")
    DESK = "desk", _("At the clinic")
    CONSULTATION = "consultation", _("At the consultation")
    REMINDER = "reminder", _("From the reminder message")


class ScreeningResponse(PublicModel):
    """One set of answers, as given: never changed afterwards. The questions asked are kept
    with it (their wording at the time), as is the questionnaire's version."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="screenings")
    appointment = models.ForeignKey(
        Appointment, on_delete=models.SET_NULL, null=True, blank=True, related_name="screenings"
    )
    course = models.ForeignKey(
        Plan, on_delete=models.SET_NULL, null=True, blank=True, related_name="screenings"
    )
    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.PROTECT, related_name="+")
    questionnaire_version = models.PositiveIntegerField()
    questions = models.JSONField(help_text=_("Each question's key and wording when asked."))
    answers = models.JSONField(help_text=_('Each answer: "yes" or "no", and a date for "when".'))
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    deferred_until = models.DateField(null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    via = models.CharField(max_length=20, choices=Via.choices)
    is_rescreen = models.BooleanField(
        default=False,
        help_text=_(
            "Answered before this session (anything changed since the last answers?), "
            "not at booking."
        ),
    )
    answered_at = models.DateTimeField()

    class Meta:
        ordering = ["-answered_at"]
        indexes = [models.Index(fields=["client", "-answered_at"])]

    def __str__(self) -> str:
        return f"{self.client}: {self.questionnaire.name} ({self.get_outcome_display()})"
