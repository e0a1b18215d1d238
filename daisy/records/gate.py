"""The start-of-needling gate (issue 14, item 3; DOMAIN.md 2.1, 2.2 "re-screen on the day of
every session"): the one place that says whether a session may start, and if not, what is
missing and how to put it right.

`needling_gate(appointment)` asks every blocker check in `BLOCKER_CHECKS` and returns a `Gate`:
the blockers found (a code, and a message staff read: what is missing, how to fix it, who can
override), and the clinician's override on record for this appointment, if any. The booking
services call it before a session is started (the desk's "in treatment", the API's status
change, or "completed" without "in treatment" first); the desk shows it on the appointment panel.

Adding a kind of blocker is one function: decorate it with `@blocker_check`. It receives a
`GateContext` and yields `Blocker`s (none when all is well). Keep it a read: the gate is also
drawn on every panel.

An override covers the blockers it was recorded over (by code), never ones that appear later,
and never a blocker marked `can_override=False` (a hard stop has no in-app override, DOMAIN.md
2.1; a clinical hold is cleared on the client's file, where its own reason is recorded)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from daisy.clients.models import BLOCKING_TIERS, Tier
from daisy.clients.selectors import client_open_hold
from daisy.records.consent_selectors import consent_status
from daisy.records.models import NeedlingOverride
from daisy.records.selectors import (
    needling_overrides_list,
    questionnaire_for,
    rescreen_for_appointment,
)

# Codes of the blockers this module knows (others may add their own).
HOLD = "clinical_hold"
HARD_STOP = "hard_stop"
FINDING = "open_finding"
RESCREEN_MISSING = "rescreen_missing"
# CONSENT ("consent_missing") is defined with its check, at the end.


@dataclass(frozen=True)
class Blocker:
    code: str
    message: str  # for staff: what is missing and how to put it right
    can_override: bool = True  # a clinician may start anyway, with a recorded reason
    # Which one of its kind (a finding's id), so an override never covers a later one.
    ref: str = ""
    # The same without clinical detail, for staff who do not see it (reception); "" when the
    # message has none.
    summary: str = ""

    def message_for(self, viewer: Any) -> str:
        if self.summary and not getattr(viewer, "is_clinician", False):
            return str(self.summary)
        return str(self.message)

    @property
    def key(self) -> str:
        return f"{self.code}:{self.ref}" if self.ref else self.code

    def as_data(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "key": self.key,
            "message": self.message,
            "can_override": self.can_override,
        }


@dataclass(frozen=True)
class GateContext:
    appointment: Any
    day: date  # the session's local date
    now: datetime


@dataclass(frozen=True)
class Gate:
    appointment: Any
    blockers: tuple[Blocker, ...] = ()
    overrides: tuple[NeedlingOverride, ...] = ()  # this session's, newest first
    applies: bool = True  # False: the treatment needs no screening, nothing is checked

    @property
    def override(self) -> NeedlingOverride | None:
        return self.overrides[0] if self.overrides else None

    @property
    def open_blockers(self) -> tuple[Blocker, ...]:
        """What still stands in the way: every blocker the override (if any) does not cover."""
        covered = frozenset().union(*(o.keys for o in self.overrides))
        return tuple(b for b in self.blockers if not (b.can_override and b.key in covered))

    @property
    def is_open(self) -> bool:
        return not self.open_blockers

    @property
    def is_overridden(self) -> bool:
        return self.override is not None and bool(self.blockers) and self.is_open

    @property
    def can_override(self) -> bool:
        """Whether a clinician's override would open it (every open blocker allows one)."""
        return bool(self.open_blockers) and all(b.can_override for b in self.open_blockers)

    @property
    def codes(self) -> list[str]:
        return [b.code for b in self.open_blockers]

    def message(self, viewer: Any = None) -> str:
        """The open blockers' messages; without clinical detail unless `viewer` (None: no one
        in particular, full detail) is a clinician."""
        if viewer is None:
            return " ".join(b.message for b in self.open_blockers)
        return " ".join(b.message_for(viewer) for b in self.open_blockers)


BlockerCheck = Callable[[GateContext], Iterable[Blocker]]
BLOCKER_CHECKS: list[BlockerCheck] = []


def blocker_check(check: BlockerCheck) -> BlockerCheck:
    """Register a check the gate runs (in registration order)."""
    BLOCKER_CHECKS.append(check)
    return check


def needling_gate(appointment: Any, *, now: datetime | None = None) -> Gate:
    """Whether the session may start now, and why not. `now` defaults to the clock (the
    session's local day is the appointment's own)."""
    now = now or timezone.now()
    if not appointment.treatment.requires_screening:
        return Gate(appointment=appointment, applies=False)
    ctx = GateContext(
        appointment=appointment,
        day=appointment.starts_at.astimezone(appointment.location.tz).date(),
        now=now,
    )
    blockers: list[Blocker] = []
    for check in BLOCKER_CHECKS:
        blockers.extend(check(ctx))
    overrides = tuple(needling_overrides_list(appointment)) if blockers else ()
    return Gate(appointment=appointment, blockers=tuple(blockers), overrides=overrides)


# --- the checks --------------------------------------------------------------------------------

CLINICIANS = gettext_lazy("a specialist or the clinic manager")
FINDING_SUMMARY = gettext_lazy(
    "A health finding needs a clinician's decision before the session starts: ask a "
    "specialist or the clinic manager."
)


@blocker_check
def hold_blockers(ctx: GateContext) -> Iterable[Blocker]:
    hold = client_open_hold(ctx.appointment.client_id)
    if hold is not None:
        yield Blocker(
            HOLD,
            _(
                "The client is on a clinical hold (%(reason)s). %(who)s must review the client "
                "and clear the hold on the client's file first."
            )
            % {"reason": hold.reason, "who": str(CLINICIANS).capitalize()},
            can_override=False,
            summary=_(
                "The client is on a clinical hold. %(who)s must review the client and clear "
                "the hold on the client's file first."
            )
            % {"who": str(CLINICIANS).capitalize()},
        )


@blocker_check
def rescreen_blockers(ctx: GateContext) -> Iterable[Blocker]:
    if questionnaire_for(ctx.appointment.treatment) is None:
        return  # the clinic asks nothing before this treatment: there is nothing to re-ask
    if rescreen_for_appointment(ctx.appointment) is None:
        yield Blocker(
            RESCREEN_MISSING,
            _(
                "The client has not answered the health questions for this session. Hand them "
                "the tablet (Health questions on this appointment), or they can answer from "
                "the link in their reminder."
            ),
        )


@blocker_check
def findings_blockers(ctx: GateContext) -> Iterable[Blocker]:
    """Open findings that refuse a session on the day, wherever they were recorded (an earlier
    session's answers, this session's re-screen, or staff): a hard stop has no override; a
    deferral not yet over or a clinician review needs a clinician's decision. Findings the
    clinician already overrode when booking this appointment (its booking override, recorded
    before it was made) do not count twice."""
    appt = ctx.appointment
    findings = [
        f
        for f in appt.client.contraindications.filter(
            resolved_at__isnull=True, tier__in=BLOCKING_TIERS
        )
        if f.blocks_on(ctx.day)
    ]
    for f in findings:
        if f.tier == Tier.HARD_STOP:
            yield Blocker(
                HARD_STOP,
                _(
                    "Hard stop: %(condition)s. Do not treat today; the session can start only "
                    "once %(who)s has recorded on the client's file that it has resolved."
                )
                % {"condition": f.condition, "who": CLINICIANS},
                can_override=False,
                ref=str(f.pk),
                summary=_(
                    "A hard stop is recorded for this client: do not treat today. %(who)s must "
                    "see the client's file."
                )
                % {"who": str(CLINICIANS).capitalize()},
            )
        elif appt.override_reason and f.recorded_at <= appt.created_at:
            continue
        elif f.tier == Tier.DEFER and f.until_on is not None:
            yield Blocker(
                FINDING,
                _(
                    "%(condition)s: treatment waits until %(day)s. %(who)s can resolve it on the "
                    "client's file, or record a reason to start today."
                )
                % {
                    "condition": f.condition,
                    "day": date_format(f.until_on, "j F Y"),
                    "who": str(CLINICIANS).capitalize(),
                },
                ref=str(f.pk),
                summary=str(FINDING_SUMMARY),
            )
        else:
            yield Blocker(
                FINDING,
                _(
                    "%(condition)s needs a clinician's review. %(who)s can resolve it on the "
                    "client's file, or record a reason to start today."
                )
                % {"condition": f.condition, "who": str(CLINICIANS).capitalize()},
                ref=str(f.pk),
                summary=str(FINDING_SUMMARY),
            )


CONSENT = "consent_missing"


@blocker_check
def consent_blockers(ctx: GateContext) -> Iterable[Blocker]:
    """No needling without the client's current signed consent for this treatment (DOMAIN.md
    6.4): never signed, withdrawn, or out of date since the clinic's text or the session's plan
    (zone, depth, product) changed. A clinician may record a reason to start anyway (a paper
    consent signed on the day, say); the override covers this state of the consent only."""
    status = consent_status(ctx.appointment)
    if not status.is_blocking:
        return
    template = status.template
    yield Blocker(
        CONSENT,
        _(
            "%(reason)s Hand the client the tablet to sign (Consent on this appointment), or "
            "they can sign in their account."
        )
        % {"reason": status.reason},
        ref=f"{status.state}:v{template.version if template else 0}:"
        f"{status.consent.pk if status.consent else 'none'}",
        summary=_(
            "The client's consent is missing or out of date: a specialist hands them the tablet "
            "to sign from this appointment."
        ),
    )
