"""The eligibility gate: the one set of checks every path runs before a client is given a time
(a booking, a hold for a signed-in client, a move, each session of a course, a course re-plan)
and before a session starts. Run under the booking's locks, so a finding or hold recorded
meanwhile is seen.

In order: the clinical hold (DOMAIN.md 5.1, 5.2), the treatment's age limit (1.1), the online
pre-screen when the client books for themselves (2.2 hard stops), recorded findings and their
waits (2.1: a hard stop has no override; defer and review tiers need a clinician's recorded
override), the treatment's pre-care lead times for a client's own new booking (4.1: the time
leaves each step its full time, or the client confirms they already follow it), and the
client's important dates (a recovery window over one needs confirming)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.utils.formats import date_format
from django.utils.translation import gettext as _

from daisy.aftercare.selectors import precare_ready_at, precare_steps_too_soon
from daisy.clients.models import BLOCKING_TIERS, Client, Tier
from daisy.clients.selectors import client_open_hold
from daisy.core.aftercare import describe
from daisy.core.courses import ImportantDate
from daisy.core.screening import Screening, age_on
from daisy.courses.selectors import important_date_clashes, important_dates_require_confirmation
from daisy.lib.errors import (
    ClientContraindicated,
    PermissionDenied,
    PrecareTooSoon,
    ValidationFailed,
)
from daisy.records.services import Evaluated, screening_evaluate
from daisy.scheduling import selectors as scheduling_selectors
from daisy.scheduling.models import ACTIVE_STATUSES, Appointment
from daisy.scheduling.services import Clearance, is_staff
from daisy.treatments.models import Treatment
from daisy.treatments.selectors import (
    MIN_SESSION_GAP_DAYS,
    NEEDLING_DEVICE,
    treatment_is_needling,
)


@dataclass(frozen=True)
class ShortGap:
    neighbour: Any  # the session it is close to
    gap_days: int
    reason: str
    by: Any


@dataclass(frozen=True)
class Asking:
    """Who asks for a time for whom, and what they told us."""

    client: Client
    treatment: Treatment
    by: Any  # the person acting: the client's own account, a staff member, or None (a guest)
    override_reason: str = ""  # a clinician's reason to treat despite an open finding
    confirm_important_dates: bool = False
    # The online pre-screen's answers, when the client books for themselves: question -> yes,
    # and for a question that asks when, `<question>_on` -> the date (ISO text or a date).
    prescreen: Mapping[str, object] | None = None
    # The pre-screen is asked for a new booking a client makes themselves, not for a move.
    is_new_booking: bool = True
    # Important dates given with this request and not (yet) stored on the client's record.
    extra_dates: tuple[ImportantDate, ...] = ()
    # The moment of the request: a new booking a client makes checks the treatment's pre-care
    # lead times against it (None: not checked), and the pre-screen's "today" (a wait counts
    # from the dates given). `precare_confirmed` holds the keys of the steps the client says
    # they already follow.
    now: datetime | None = None
    precare_confirmed: tuple[str, ...] = ()
    # The pre-screen as evaluated by the gate, for the booking to store with what it made.
    screened: list[Evaluated] = field(default_factory=list, compare=False)
    # A clinician's reason to book closer than the default interval to another needling
    # session of the client (DOMAIN.md 1.2), and who gave it (None: whoever acts, `by`).
    gap_reason: str = ""
    gap_by: Any = None
    # The sessions `gap_reason` may bring a session close to (a plan's reason covers its own
    # sessions only); None: any.
    gap_covers: set[Any] | None = field(default=None, compare=False)
    # The appointment being moved (a move is not its own neighbour).
    moving: Any = None
    # Sessions whose place is settled after this check (a moved course session's later
    # sessions, which its re-plan may move): the 28-day rule counts them in the final
    # arrangement instead.
    later: set[Any] = field(default_factory=set, compare=False)
    # Short gaps the gate let through on `gap_reason`, for the booking to record.
    gaps: list[ShortGap] = field(default_factory=list, compare=False)

    @property
    def is_self_service(self) -> bool:
        return not is_staff(self.by)


def clinical_hold_check(client: Client) -> None:
    """A check-in red flag holds the client's next session until a clinician clears it."""
    hold = client_open_hold(client.pk)
    if hold is not None:
        raise ClientContraindicated(
            _(
                "%(client)s's next session is on hold: %(reason)s. A specialist or the "
                "clinic manager must review the client and clear the hold (back-office, Alerts) "
                "before a session is booked, moved or started."
            )
            % {"client": client.full_name, "reason": hold.reason},
            code="clinical_hold",
        )


def age_check(client: Client, treatment: Treatment, day: date, *, self_service: bool) -> None:
    limit = treatment.min_age
    if not limit:
        return
    born = client.date_of_birth
    if born is None:
        if self_service:
            # Staff check age at the desk; online, we need the date of birth to check it.
            raise ValidationFailed(
                _("Please give your date of birth: %(treatment)s is for adults only.")
                % {"treatment": treatment.name},
                code="date_of_birth_required",
                fields={"date_of_birth": "required"},
            )
        return
    if age_on(born, day) < limit:
        raise ClientContraindicated(
            _(
                "%(treatment)s is only for clients aged %(age)s or over on the day of the "
                "session. A consultation can suggest a treatment that suits younger skin."
            )
            % {"treatment": treatment.name, "age": limit},
            code="age_limit",
        )


def _prescreen_fields(result: Screening) -> dict[str, str]:
    return (
        {f"prescreen.{q}": "required" for q in result.missing}
        | {f"prescreen.{q}": "unknown" for q in result.unknown}
        | {f"prescreen.{q}_on": "required" for q in result.undated}
        | {f"prescreen.{q}_on": "future" for q in result.future}
    )


def prescreen_evaluated(asking: Asking, *, today: date) -> Evaluated | None:
    """The online pre-screen, when the client books a treatment that needs screening for
    themselves: the treatment's questionnaire (its online questions) evaluated by the clinic's
    rules. Refuses incomplete answers (422 `prescreen_required`) and answers that need a
    clinician first (409 `prescreen_stop`); returns what to store with the booking, or None
    when nothing is asked."""
    if not (asking.treatment.requires_screening and asking.is_self_service):
        return None
    if not asking.is_new_booking:
        return None
    if asking.prescreen is None:
        raise ValidationFailed(
            _(
                "%(treatment)s needs the health questions answered before it is booked: give "
                "a yes or no for each of them."
            )
            % {"treatment": asking.treatment.name},
            code="prescreen_required",
            fields={"prescreen": "required"},
        )
    evaluated = screening_evaluate(
        treatment=asking.treatment, answers=asking.prescreen, today=today
    )
    if evaluated is None:
        # No questionnaire for it: nothing can be checked online, so nothing is booked online.
        raise ClientContraindicated(
            _(
                "%(treatment)s cannot be booked online at the moment. Please call the clinic, "
                "or book a free consultation."
            )
            % {"treatment": asking.treatment.name},
            code="prescreen_stop",
        )
    result = evaluated.screening
    if not result.is_complete:
        message = _("Please answer every health question with yes or no.")
        if result.undated and not (result.missing or result.unknown):
            message = _("Please give the date for each health question you answered yes.")
        elif result.future and not (result.missing or result.unknown):
            message = _("A date in the health questions is in the future; give the last time.")
        raise ValidationFailed(message, code="prescreen_required", fields=_prescreen_fields(result))
    if result.stops:
        raise ClientContraindicated(
            _(
                "From your answers, %(treatment)s cannot be booked online this time. Book a "
                "free consultation, and a specialist will find the right next step with you."
            )
            % {"treatment": asking.treatment.name},
            code="prescreen_stop",
            fields={f"prescreen.{f.question}": "yes" for f in result.stops},
        )
    return evaluated


def prescreen_check(asking: Asking, day: date, *, today: date) -> Evaluated | None:
    """The pre-screen for a session on the local `day`: also refuses a day inside a wait the
    answers call for (409 `prescreen_deferred`, with the first day that is possible)."""
    evaluated = prescreen_evaluated(asking, today=today)
    if evaluated is None:
        return None
    result = evaluated.screening
    if not result.allows_on(day):
        until = result.deferred_until
        assert until is not None  # no stops (checked above): only a wait refuses a day
        waiting = [f for f in result.findings if f.until_on is not None and f.until_on > day]
        raise ClientContraindicated(
            _(
                "From your answers, %(treatment)s needs to wait a little: the first possible "
                "day is %(day)s. Please choose a time from that day on."
            )
            % {"treatment": asking.treatment.name, "day": date_format(until, "l j F Y")},
            code="prescreen_deferred",
            fields={f"prescreen.{f.question}": "wait" for f in waiting},
            extra={"earliest_on": until.isoformat()},
        )
    asking.screened.append(evaluated)
    return evaluated


def precare_check(asking: Asking, *, starts_at: datetime, tz: Any) -> None:
    """A new booking a client makes leaves every pre-care step its full time ("no sun from 2
    weeks before"), or the client confirms, step by step, that they already follow the ones it
    cuts short (issue 12; DOMAIN.md 4.1). Staff read the preparation to the client instead."""
    if asking.now is None or not asking.is_new_booking or not asking.is_self_service:
        return
    late = precare_steps_too_soon(
        treatment=asking.treatment,
        starts_at=starts_at,
        tz=tz,
        now=asking.now,
        confirmed=asking.precare_confirmed,
    )
    if not late:
        return
    ready = precare_ready_at(
        treatment=asking.treatment, now=asking.now, tz=tz, confirmed=asking.precare_confirmed
    )
    session = starts_at.astimezone(tz)
    steps = "; ".join(
        _("%(step)s (from %(when)s)")
        % {"step": item.title, "when": describe(item.starts_at, session=session)}
        for item in late
    )
    raise PrecareTooSoon(
        _(
            "This time is too soon to prepare for %(treatment)s: %(steps)s. Choose a time from "
            "%(ready)s, or confirm for each step that you already follow it."
        )
        % {
            "treatment": asking.treatment.name,
            "steps": steps,
            "ready": describe(ready, session=ready),
        },
        fields={f"precare_confirmed.{item.step.key}": "required" for item in late},
        extra={
            "precare_steps": [
                {
                    "key": item.step.key,
                    "title": item.title,
                    "starts_at": item.starts_at.isoformat(),
                }
                for item in late
            ],
            "ready_at": ready.isoformat(),
        },
    )


def findings_check(asking: Asking, day: date) -> bool:
    """True when a clinician's override is being used (and so must be recorded)."""
    client, treatment = asking.client, asking.treatment
    if not treatment.requires_screening:
        return False
    blocking = [
        c
        for c in client.contraindications.filter(resolved_at__isnull=True, tier__in=BLOCKING_TIERS)
        if c.blocks_on(day)
    ]
    if not blocking:
        return False
    if asking.is_self_service:
        # The client reads this: no clinical detail, no staff procedure; the desk has both.
        raise ClientContraindicated(
            _(
                "We cannot book %(treatment)s online for you at the moment: a note from a "
                "previous visit needs a specialist's review first. Please call the clinic, or "
                "book a free consultation."
            )
            % {"treatment": treatment.name},
            fields={"override_reason": "required"},
        )
    hard = [c for c in blocking if c.tier == Tier.HARD_STOP]
    if hard:
        # DOMAIN.md 2.1: a hard stop has no in-app override; the condition must resolve first.
        raise ClientContraindicated(
            _(
                "%(client)s cannot be booked for %(treatment)s: "
                "%(condition)s. Offer a consultation instead, and book once a clinician has "
                "recorded that it has resolved."
            )
            % {
                "client": client.full_name,
                "treatment": treatment.name,
                "condition": hard[0].condition,
            }
        )
    if not asking.override_reason.strip():
        reason = blocking[0]
        raise ClientContraindicated(
            _(
                "%(client)s has an open screening finding (%(condition)s). "
                "A clinician must review it and record an override reason before booking."
            )
            % {"client": client.full_name, "condition": reason.condition},
            fields={"override_reason": "required"},
        )
    if not getattr(asking.by, "is_clinician", False):
        raise PermissionDenied(
            _("Only a specialist or the clinic manager can override a screening finding.")
        )
    return True


# DOMAIN.md 1.2 interval rules: default 28 days between needling sessions; closer needs a
# clinician's override with a reason (MIN_SESSION_GAP_DAYS, from daisy.treatments.selectors).


def _is_needling(treatment: Treatment) -> bool:
    return treatment_is_needling(treatment)


def needling_sessions_near(
    client: Any, *, starts_at: datetime, tz: Any, exclude: Iterable[Any] = ()
) -> list[tuple[int, Appointment]]:
    """The client's active needling sessions (any treatment that needles, course or not,
    before or after) less than 28 local calendar days from `starts_at`, closest first, with
    their gap in days; `exclude`: appointment ids not counted."""
    day = starts_at.astimezone(tz).date()
    margin = timedelta(days=MIN_SESSION_GAP_DAYS + 1)
    others = (
        Appointment.objects.filter(
            client=client,
            status__in=ACTIVE_STATUSES,
            treatment__phases__device_kind=NEEDLING_DEVICE,
            starts_at__gt=starts_at - margin,
            starts_at__lt=starts_at + margin,
        )
        .exclude(pk__in=[pk for pk in exclude if pk is not None])
        .select_related("location", "treatment")
        .distinct()
    )
    close = []
    for other in others:
        gap = abs((other.starts_at.astimezone(tz).date() - day).days)
        if gap < MIN_SESSION_GAP_DAYS:
            close.append((gap, other))
    return sorted(close, key=lambda item: (item[0], item[1].starts_at))


def needling_session_days(client: Any, *, treatment: Treatment, tz: Any) -> list[date]:
    """The local days of the client's active needling sessions, when `treatment` needles
    (else none): an online time picker leaves out the days less than 28 days from them."""
    if client is None or not _is_needling(treatment):
        return []
    return scheduling_selectors.needling_session_days(client, tz=tz)


def interval_decide(
    asking: Asking, close: Sequence[tuple[int, Appointment]], *, tz: Any, staff_words: bool = False
) -> None:
    """Refuse a session `close` to others (DOMAIN.md 1.2), or let it through on a clinician's
    recorded reason (kept in `asking.gaps`). The client booking for themselves is told the other
    session's day and to choose another; staff are told who can override. `staff_words`: the
    clinic acts (a course re-plan), whoever started it."""
    if not close:
        return
    gap, neighbour = close[0]
    their_day = neighbour.starts_at.astimezone(tz).date()
    facts = {
        "treatment": asking.treatment.name,
        "other": neighbour.treatment.name,
        "gap": gap,
        "day": date_format(their_day, "l j F Y"),
        "min": MIN_SESSION_GAP_DAYS,
    }
    extra = {"gap_days": gap, "neighbour": str(neighbour.pk), "neighbour_on": their_day.isoformat()}
    if asking.is_self_service and not staff_words:
        raise ClientContraindicated(
            _(
                "Needling sessions are at least %(min)s days apart, so your skin has time to "
                "heal: you have %(other)s on %(day)s. Please choose a day at least %(min)s days "
                "before or after it, or call the clinic."
            )
            % facts,
            code="interval_too_short",
            extra=extra,
        )
    reason = asking.gap_reason.strip()
    if asking.gap_covers is not None and any(o.pk not in asking.gap_covers for _g, o in close):
        reason = ""
    if not reason:
        raise ClientContraindicated(
            _(
                "This is %(gap)s days from the client's %(other)s session on %(day)s; needling "
                "sessions are at least %(min)s days apart. A specialist or the clinic manager "
                "can still book it by giving a reason."
            )
            % facts,
            code="interval_too_short",
            fields={"gap_reason": "required"},
            extra=extra,
        )
    who = asking.gap_by if asking.gap_by is not None else asking.by
    if not getattr(who, "is_clinician", False):
        raise PermissionDenied(
            _(
                "Only a specialist or the clinic manager can book needling sessions less than "
                "%(min)s days apart."
            )
            % facts,
            code="interval_override_not_allowed",
        )
    asking.gaps.append(ShortGap(neighbour=neighbour, gap_days=gap, reason=reason, by=who))


def interval_check(asking: Asking, *, starts_at: datetime, tz: Any) -> None:
    """A needling session at least 28 local days from every other active needling session of
    the client, before or after it, course or not, or a clinician's recorded reason (DOMAIN.md
    1.2; issue 14). The session being moved is not its own neighbour; the sessions in
    `asking.later` (a course's later sessions, which the move re-plans) are checked once they
    have their final place (`interval_recheck`)."""
    if not _is_needling(asking.treatment):
        return
    exclude = [getattr(asking.moving, "pk", None), *asking.later]
    close = needling_sessions_near(asking.client, starts_at=starts_at, tz=tz, exclude=exclude)
    interval_decide(asking, close, tz=tz)


def interval_recheck(asking: Asking, appointment: Appointment, *, among: Iterable[Any]) -> None:
    """The final arrangement after a move and its course re-plan: `appointment` (at its new
    time) against the sessions `among` (the later sessions the re-plan left where they were)."""
    among = set(among)
    if not among or not _is_needling(asking.treatment):
        return
    tz = appointment.location.tz
    close = [
        (gap, other)
        for gap, other in needling_sessions_near(
            asking.client, starts_at=appointment.starts_at, tz=tz, exclude=[appointment.pk]
        )
        if other.pk in among
    ]
    interval_decide(asking, close, tz=tz)


def interval_replan_check(
    appointment: Appointment, *, plan: Any, moved: Sequence[Appointment]
) -> list[ShortGap]:
    """A session a course re-plan moved, in the final arrangement (DOMAIN.md 1.2): at least 28
    days from every other needling session of the client, or, when every close one is of the
    same course, covered by the clinician's reason recorded on the plan for its short interval.
    The sessions after it in `moved` are weighed from their own turn (each pair once). Raises
    in the staff's words otherwise: the re-plan fails and the staff are told why."""
    if not _is_needling(appointment.treatment):
        return []
    ids = [m.pk for m in moved]
    not_yet = ids[ids.index(appointment.pk) + 1 :] if appointment.pk in ids else []
    tz = appointment.location.tz
    close = needling_sessions_near(
        appointment.client,
        starts_at=appointment.starts_at,
        tz=tz,
        exclude=[appointment.pk, *not_yet],
    )
    if not close:
        return []
    own = set(Appointment.objects.filter(course_session__plan=plan).values_list("pk", flat=True))
    asking = Asking(
        client=appointment.client,
        treatment=appointment.treatment,
        by=plan.interval_override_by,
        is_new_booking=False,
        gap_reason=plan.interval_override_reason,
        gap_covers=own,
    )
    interval_decide(asking, close, tz=tz, staff_words=True)
    return list(asking.gaps)


def record_check(asking: Asking, day: date) -> bool:
    """The rules that need nothing but the client's record: the clinical hold, the age limit
    and recorded findings, for a session on the local `day`. True when a clinician's override
    of a finding is being used. A hold for a signed-in client and a course re-plan run these
    alone; a booking or move runs them inside `eligibility_check`."""
    clinical_hold_check(asking.client)
    age_check(asking.client, asking.treatment, day, self_service=asking.is_self_service)
    return findings_check(asking, day)


def eligibility_check(
    asking: Asking, *, starts_at: datetime, tz: Any, session: int | None = None
) -> Clearance:
    """Every rule, for a session of `asking.treatment` at `starts_at` (local day in `tz`).
    Raises a DomainError naming the first rule that refuses; returns what to record."""
    day = starts_at.astimezone(tz).date()
    overridden = record_check(asking, day)
    gaps_before = len(asking.gaps)
    interval_check(asking, starts_at=starts_at, tz=tz)
    today = (asking.now or starts_at).astimezone(tz).date()
    prescreen_check(asking, day, today=today)
    precare_check(asking, starts_at=starts_at, tz=tz)
    clashes = important_date_clashes(
        client=asking.client,
        treatment=asking.treatment,
        starts_at=starts_at,
        tz=tz,
        extra=asking.extra_dates,
    )
    important_dates_require_confirmation(
        clashes=clashes, confirmed=asking.confirm_important_dates, session=session
    )
    audit: dict[str, Any] = {}
    if len(asking.gaps) > gaps_before:
        last = asking.gaps[-1]
        audit["short_interval"] = {
            "gap_days": last.gap_days,
            "reason": last.reason,
            "by": str(getattr(last.by, "pk", "")),
        }
    if clashes:
        audit["important_dates_confirmed"] = [c.text for c in clashes]
    return Clearance(
        override_reason=asking.override_reason.strip() if overridden else "", audit=audit
    )


def treatment_start_check(asking: Asking, *, starts_at: datetime, tz: Any) -> None:
    """Before a booked session is checked in or completed: no open clinical hold, and no
    finding that refuses it now (unless a clinician's override is on the appointment)."""
    clinical_hold_check(asking.client)
    findings_check(asking, starts_at.astimezone(tz).date())
