"""Red flags in a client's check-in answers after a session (DOMAIN.md 5.1).

`red_flags_evaluate` reads one check-in (what the client reported, and how long after the session
they reported it) and says which warning signs it shows, how serious the most serious one is, and
what the client should do now. Pure: no clock (the time since the session is a parameter), no
settings, standard library only (DESIGN.md 1.2). The wording of the advice lives at the edges
(templates, translated); this module names it by code.

Severity, highest first:

- `emergency`: numbing-cream (topical anaesthetic) toxicity. Call emergency services now
  (DOMAIN.md 5.1 row "Topical anaesthetic toxicity": emergency protocol).
- `urgent`: signs of infection, or cold-sore blisters (HSV reactivation). The clinic reviews the
  same day (DOMAIN.md 5.1 rows "Infection" and "HSV reactivation").
- `routine`: redness, swelling or pain still there at day 7, an itchy rash or hives, red spots
  or bumps beyond 2 weeks, new dark patches, track marks, breakouts still there at day 7. A
  clinician reviews before the next session (DOMAIN.md 5.1 rows 1, "Contact / irritant
  dermatitis", "Granulomatous reaction", "PIH", "Tram-track scarring", "Acne flare / milia").

The rules are data (`RED_FLAGS`, DOMAIN.md 5.1 row by row), and so is what follows a
session (`FOLLOW_UPS`, DOMAIN.md 5.2 row by row), with when a check-in link can be
answered (`checkin_window`) and which later reviews are due (`reviews_due`).

Anything that matches at all holds the client's next session until a clinician clears it
(DOMAIN.md 5.2 row "Each session": adverse-event review before the next treatment).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from enum import IntEnum
from typing import Literal

from daisy.core.aftercare import shift_local

Trend = Literal["none", "better", "same", "worse"]
TRENDS: tuple[Trend, ...] = ("none", "better", "same", "worse")

# Numbing-cream toxicity symptoms (DOMAIN.md 5.1 row "Topical anaesthetic toxicity").
TOXICITY_SYMPTOMS = (
    "light_headed",
    "numb_mouth",
    "tinnitus",
    "palpitations",
    "breathing",
    "seizure",
)

# DOMAIN.md 5.1 row 1: transient effects (redness, swelling, tightness, burning) resolve within 7
# days; "clinician review if still present at day 7" (and DOMAIN.md 5.2 row +7 days: "clinician
# review if any symptom persists").
REDNESS_REVIEW_AFTER = timedelta(days=7)
SYMPTOMS_REVIEW_AFTER = REDNESS_REVIEW_AFTER
# DOMAIN.md 5.1 row "Granulomatous reaction": papules/plaques persisting > 2 weeks.
PAPULES_REVIEW_AFTER = timedelta(days=14)
# DOMAIN.md 5.1 row "Acne flare / milia": escalate when persistent; breakouts should be resolving
# by 7-10 days (DOMAIN.md 4.2 row Day 7+), so still there at the day-7 check-in is "persistent".
BREAKOUTS_REVIEW_AFTER = timedelta(days=7)


class Severity(IntEnum):
    ROUTINE = 1
    URGENT = 2
    EMERGENCY = 3

    @property
    def code(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Answers:
    """What the client reported. `redness`, `swelling` and `pain`: none / better (fading) /
    same / worse (spreading or increasing)."""

    redness: Trend = "none"
    swelling: Trend = "none"
    pain: Trend = "none"
    hot_or_weeping: bool = False  # warmth, pus or weeping skin
    spots: bool = False  # red spots, bumps (papules)
    blisters: bool = False  # blisters or cold sores, tingling, crusts
    dark_patches: bool = False
    fever: bool = False  # fever, chills, feeling unwell, swollen glands
    rash: bool = False  # an itchy rash or hives
    track_marks: bool = False  # lines or tracks like fine scratches
    breakouts: bool = False  # pimples, whiteheads, tiny white bumps (milia)
    toxicity: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        for name in ("redness", "swelling", "pain"):
            if getattr(self, name) not in TRENDS:
                raise ValueError(f"{name} must be one of {TRENDS}, not {getattr(self, name)!r}")
        unknown = set(self.toxicity) - set(TOXICITY_SYMPTOMS)
        if unknown:
            raise ValueError(f"unknown symptoms: {sorted(unknown)}")


@dataclass(frozen=True)
class Flag:
    code: str  # a RED_FLAGS code: "toxicity", "infection", "hsv", "redness_persisting", ...
    severity: Severity
    source: str  # the DOMAIN.md row


@dataclass(frozen=True)
class RedFlag:
    """One warning sign of DOMAIN.md 5.1: its code, how serious it is, the row it comes from,
    and when a check-in shows it (`matches(answers, since_session)`)."""

    code: str
    severity: Severity
    source: str
    matches: Callable[[Answers, timedelta], bool]

    def flag(self) -> Flag:
        return Flag(self.code, self.severity, self.source)


def _infection(a: Answers, since: timedelta) -> bool:
    # Any one sign: increasing or spreading redness, warmth, pus, increasing pain or swelling,
    # fever. "Worsening after day 3" (row 1) is the same answer, and is treated as infection.
    return "worse" in (a.redness, a.swelling, a.pain) or a.hot_or_weeping or a.fever


# DOMAIN.md 5.1, row by row. Every abnormal finding the table lists is here; its last row
# ("persistent serious events reported") is what staff do with an alert, not a question.
RED_FLAGS: tuple[RedFlag, ...] = (
    RedFlag(
        "toxicity",
        Severity.EMERGENCY,
        "DOMAIN.md 5.1 row Topical anaesthetic toxicity",
        lambda a, since: bool(a.toxicity),
    ),
    RedFlag("infection", Severity.URGENT, "DOMAIN.md 5.1 row Infection", _infection),
    RedFlag(
        "hsv", Severity.URGENT, "DOMAIN.md 5.1 row HSV reactivation", lambda a, since: a.blisters
    ),
    RedFlag(
        "redness_persisting",
        Severity.ROUTINE,
        "DOMAIN.md 5.1 row 1 (erythema > 7 days)",
        lambda a, since: a.redness != "none" and since >= REDNESS_REVIEW_AFTER,
    ),
    RedFlag(
        "swelling_persisting",
        Severity.ROUTINE,
        "DOMAIN.md 5.1 row 1 (oedema still present at day 7)",
        lambda a, since: a.swelling != "none" and since >= SYMPTOMS_REVIEW_AFTER,
    ),
    RedFlag(
        "pain_persisting",
        Severity.ROUTINE,
        "DOMAIN.md 5.1 row 1 (burning or tenderness still present at day 7)",
        lambda a, since: a.pain != "none" and since >= SYMPTOMS_REVIEW_AFTER,
    ),
    RedFlag(
        "rash",
        Severity.ROUTINE,
        "DOMAIN.md 5.1 row Contact / irritant dermatitis, urticaria",
        lambda a, since: a.rash,
    ),
    RedFlag(
        "papules_persisting",
        Severity.ROUTINE,
        "DOMAIN.md 5.1 row Granulomatous reaction (papules > 2 weeks)",
        lambda a, since: a.spots and since > PAPULES_REVIEW_AFTER,
    ),
    RedFlag(
        "pih",
        Severity.ROUTINE,
        "DOMAIN.md 5.1 row Post-inflammatory hyperpigmentation",
        lambda a, since: a.dark_patches,
    ),
    RedFlag(
        "tram_tracks",
        Severity.ROUTINE,
        "DOMAIN.md 5.1 row Tram-track scarring",
        lambda a, since: a.track_marks,
    ),
    RedFlag(
        "breakouts_persisting",
        Severity.ROUTINE,
        "DOMAIN.md 5.1 row Acne flare / milia (persistent)",
        lambda a, since: a.breakouts and since >= BREAKOUTS_REVIEW_AFTER,
    ),
)
RED_FLAG_CODES = tuple(r.code for r in RED_FLAGS)


@dataclass(frozen=True)
class Evaluation:
    flags: tuple[Flag, ...]

    @property
    def severity(self) -> Severity | None:
        return max((f.severity for f in self.flags), default=None)

    @property
    def is_red_flag(self) -> bool:
        return bool(self.flags)

    @property
    def advice(self) -> str:
        """What the client should do now: "emergency" (call emergency services now), "same_day"
        (call the clinic today), "review" (the clinic will contact you; your next session waits
        for a clinician), or "expected" (this is the expected course)."""
        severity = self.severity
        if severity is None:
            return "expected"
        return {
            Severity.EMERGENCY: "emergency",
            Severity.URGENT: "same_day",
            Severity.ROUTINE: "review",
        }[severity]

    @property
    def codes(self) -> list[str]:
        return [f.code for f in self.flags]


def red_flags_evaluate(answers: Answers, *, since_session: timedelta) -> Evaluation:
    """The warning signs in `answers`, reported `since_session` after the session started; most
    serious first (in RED_FLAGS order within a severity)."""
    if since_session < timedelta(0):
        raise ValueError("a check-in cannot come before the session")
    flags = [rule.flag() for rule in RED_FLAGS if rule.matches(answers, since_session)]
    flags.sort(key=lambda f: -f.severity)
    return Evaluation(tuple(flags))


def since_session(*, session_start: datetime, moment: datetime, tz: tzinfo) -> timedelta:
    """How long after the session `moment` is, as the client counts it: on the local calendar
    and clock (daisy/core/aftercare.py shift_local). The day-7 check-in of a session the week
    the clocks go forward arrives 167 real hours after it, and it is still day 7."""
    start = session_start.astimezone(tz).replace(tzinfo=None)
    return max(timedelta(0), moment.astimezone(tz).replace(tzinfo=None) - start)


# --- follow-ups (DOMAIN.md 5.2) -----------------------------------------------------------------
#
# A check-in is named by its time after the session: "24h" (hours) or "30d" (days on the local
# calendar, at the session's clock time: daisy/core/aftercare.py shift_local). The name travels in
# the signed link, so the link itself says when its check-in is due.

KIND = re.compile(r"([1-9][0-9]{0,4})([hd])")


def checkin_kind(*, hours: int = 0, days: int = 0) -> str:
    if (hours > 0) == (days > 0):
        raise ValueError("a check-in is a positive number of hours or of days after the session")
    return f"{hours}h" if hours else f"{days}d"


def checkin_offset(kind: str) -> timedelta:
    """'72h' -> 72 hours, '30d' -> 30 days; ValueError for anything else."""
    found = KIND.fullmatch(kind or "")
    if found is None:
        raise ValueError(f"not a check-in: {kind!r}")
    n = int(found.group(1))
    return timedelta(hours=n) if found.group(2) == "h" else timedelta(days=n)


@dataclass(frozen=True)
class FollowUp:
    """One row of DOMAIN.md 5.2 as Daisy carries it out after a session.

    `kind`: the check-in it becomes ("24h"), or "" when it is not a message (the in-person
    review at the next session). `is_review`: a later review (weeks to months after), sent
    only when no later session of the treatment has taken place by then: the in-person review
    at that session covers it (DOMAIN.md 5.2 row "Each session"). `offers_maintenance`: the
    message also offers a maintenance session (DOMAIN.md 5.2 row Maintenance)."""

    kind: str
    purpose: str
    source: str
    is_review: bool = False
    offers_maintenance: bool = False


FOLLOW_UPS: tuple[FollowUp, ...] = (
    FollowUp(
        "24h",
        "red-flag questions: catch infection, cold sores and allergy early",
        "DOMAIN.md 5.2 row +24-48 h",
    ),
    # Sent whatever the 24 h answers said: cold sores (days 1-7) and infection can start after a
    # calm first day, and a skipped check-in is a missed screen.
    FollowUp("72h", "redness should be fading", "DOMAIN.md 5.2 row +3 days"),
    FollowUp(
        "168h",
        "transient effects should be gone; clinician review if any symptom persists",
        "DOMAIN.md 5.2 row +7 days",
    ),
    FollowUp(
        "",
        "in-person adverse-event review before the next treatment: an open alert holds the "
        "next session until a clinician clears it",
        "DOMAIN.md 5.2 row Each session",
    ),
    FollowUp(
        "30d",
        "outcome review; late reactions (papules beyond 2 weeks, new dark patches)",
        "DOMAIN.md 5.2 row +1 month after last session; 5.1 rows Granulomatous reaction, PIH",
        is_review=True,
    ),
    FollowUp("91d", "outcome review", "DOMAIN.md 5.2 row +3 months", is_review=True),
    FollowUp(
        "182d",
        "outcome review, and a maintenance session offered",
        "DOMAIN.md 5.2 rows +6 months, Maintenance (1 session at 6-12 months)",
        is_review=True,
        offers_maintenance=True,
    ),
)


def follow_up(kind: str) -> FollowUp | None:
    return next((f for f in FOLLOW_UPS if f.kind == kind), None)


def checkin_due(*, session_start: datetime, kind: str, tz: tzinfo) -> datetime:
    """When the check-in `kind` of a session is due (before any quiet-hours shift)."""
    return shift_local(session_start, checkin_offset(kind), tz)


def checkin_window(
    *, session_start: datetime, kind: str, tz: tzinfo, valid_for: timedelta
) -> tuple[datetime, datetime]:
    """[opens, closes): when the check-in's link can be answered. It opens when the session
    starts and closes `valid_for` after the check-in is due. Both hang on the session, never on
    when the link was made: a session booked months ahead, or the twelfth week of a course,
    gets links that work when their messages arrive."""
    return session_start, checkin_due(session_start=session_start, kind=kind, tz=tz) + valid_for


def reviews_due(
    *,
    session_start: datetime,
    kinds: Iterable[str],
    later_sessions: Iterable[datetime],
    tz: tzinfo,
    now: datetime,
    useful_for: timedelta,
) -> list[tuple[str, datetime]]:
    """(kind, due) of the session's review check-ins to send at `now`: due, not more than
    `useful_for` ago, and no later session (`later_sessions`: starts of the client's later
    sessions of the treatment that took place or may have) began before it was due."""
    later = [s for s in later_sessions if s > session_start]
    out = []
    for kind in kinds:
        due = checkin_due(session_start=session_start, kind=kind, tz=tz)
        if not due <= now < due + useful_for:
            continue
        if any(s <= due for s in later):
            continue  # reviewed in person at that session (DOMAIN.md 5.2 row Each session)
        out.append((kind, due))
    return out
