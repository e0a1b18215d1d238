"""Screening rules, as plain functions over plain data (DESIGN.md 1.2).

The clinic's contraindication table (DOMAIN.md 2.2) is data: questions, and rules that turn a
"yes" into one of the outcomes of DOMAIN.md 2.1. `screen` evaluates a set of answers against
them, for a given day, into findings: clear, caution (with the modification, e.g. a depth cap),
treat without numbing, zone excluded, deferred until a date, clinician review, hard stop.

A question may ask "when" (the last time it happened): a deferral then ends `wait_days` after
that date, so the earliest possible session is known (DOMAIN.md 2.2, "capture dates, not just
yes/no"). The online pre-screen is the subset of a questionnaire asked before booking.

Also here: a client's age on the day of a session (DOMAIN.md 1.1).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum


class Outcome(StrEnum):
    """DOMAIN.md 2.1 rule tiers, plus "treat without numbing" (a device or agent ruled out,
    DOMAIN.md 2.2 row 29) and "clear"."""

    CLEAR = "clear"
    CAUTION = "caution"
    NO_NUMBING = "no_numbing"
    ZONE_EXCLUDED = "zone_excluded"
    DEFERRED = "deferred"
    CLINICIAN_REVIEW = "clinician_review"
    HARD_STOP = "hard_stop"


# From least to most severe: the outcome of a screening is its most severe finding's.
SEVERITY: Mapping[Outcome, int] = {outcome: rank for rank, outcome in enumerate(Outcome)}
# Outcomes that no online booking gets past: a clinician has to see the client first.
STOPS = frozenset({Outcome.HARD_STOP, Outcome.CLINICIAN_REVIEW})


@dataclass(frozen=True)
class Question:
    key: str
    # A "yes" also needs the date it last happened (a deferral counts from it).
    asks_when: bool = False
    # For a "when" question: a yes dated longer ago than this many days counts as a no (the
    # question asks "in the last N days"; a client who gives an older date is not penalised).
    look_back_days: int | None = None


@dataclass(frozen=True)
class Rule:
    key: str
    question: str
    outcome: Outcome
    # For a deferral: the wait in days, counted from the date the "when" question gives.
    wait_days: int | None = None
    modification: str = ""  # what changes at the session (a depth cap, an agent not used, ...)
    row: str = ""  # the row of the contraindication table it applies


@dataclass(frozen=True)
class Answer:
    yes: bool
    on: date | None = None  # for a "when" question answered yes: the last time


@dataclass(frozen=True)
class Finding:
    rule: str
    question: str
    outcome: Outcome
    until_on: date | None = None  # a deferral: eligible again from this day
    modification: str = ""
    row: str = ""


@dataclass(frozen=True)
class Screening:
    findings: tuple[Finding, ...]
    missing: tuple[str, ...] = ()  # questions with no answer
    unknown: tuple[str, ...] = ()  # answers to no question asked
    undated: tuple[str, ...] = ()  # a "when" question answered yes without a date
    future: tuple[str, ...] = ()  # a "when" answered with a date after today

    @property
    def is_complete(self) -> bool:
        return not (self.missing or self.unknown or self.undated or self.future)

    @property
    def outcome(self) -> Outcome:
        if not self.findings:
            return Outcome.CLEAR
        return max((f.outcome for f in self.findings), key=SEVERITY.__getitem__)

    @property
    def stops(self) -> tuple[Finding, ...]:
        """Findings that need a clinician before any session: hard stops and reviews."""
        return tuple(f for f in self.findings if f.outcome in STOPS)

    @property
    def deferred_until(self) -> date | None:
        """The first day every deferral is over, or None when nothing defers."""
        ends = [f.until_on for f in self.findings if f.until_on is not None]
        return max(ends) if ends else None

    def allows_on(self, day: date) -> bool:
        """Whether a session on `day` may go ahead on these answers alone (no stop, every
        deferral over); cautions, zone exclusions and "no numbing" change how, not whether."""
        if self.stops:
            return False
        until = self.deferred_until
        return until is None or until <= day


def rule_problems(rule: Rule, questions: Mapping[str, Question]) -> list[str]:
    """Why a rule cannot be applied as written (for the editor of the table), or []."""
    problems = []
    question = questions.get(rule.question)
    if question is None:
        problems.append("its question does not exist")
    if rule.outcome == Outcome.CLEAR:
        problems.append("a rule must change something: clear is what no rule gives")
    if rule.outcome == Outcome.DEFERRED:
        if not rule.wait_days or rule.wait_days < 1:
            problems.append("a deferral needs a wait of at least one day")
        if question is not None and not question.asks_when:
            problems.append("a deferral needs a question that asks when")
    elif rule.wait_days:
        problems.append("only a deferral has a wait")
    return problems


def answers_parse(
    raw: Mapping[str, object], questions: Sequence[Question]
) -> tuple[dict[str, Answer], tuple[str, ...]]:
    """Flat answers as forms and the API send them (`key: bool`, and `key_on: date` for a
    "when" question) into Answers; also the keys that belong to no question."""
    by_key = {q.key: q for q in questions}
    answers: dict[str, Answer] = {}
    for q in questions:
        value = raw.get(q.key)
        if not isinstance(value, bool):
            continue
        on = raw.get(f"{q.key}_on") if q.asks_when else None
        if isinstance(on, str):
            try:
                on = date.fromisoformat(on)
            except ValueError:
                on = None
        answers[q.key] = Answer(yes=value, on=on if isinstance(on, date) and value else None)
    unknown = tuple(
        sorted(
            k
            for k in raw
            if k not in by_key
            and not (k.endswith("_on") and by_key.get(k[:-3], Question("")).asks_when)
        )
    )
    return answers, unknown


def screen(
    questions: Sequence[Question],
    rules: Sequence[Rule],
    answers: Mapping[str, Answer],
    *,
    today: date,
    unknown: Sequence[str] = (),
) -> Screening:
    """Every rule whose question was answered yes, as findings. A deferral whose wait is over
    by `today` gives no finding; one whose date cannot be known (no date) is a clinician review,
    never a silent clear."""
    asked = {q.key: q for q in questions}
    missing = tuple(q.key for q in questions if q.key not in answers)
    undated = tuple(
        q.key for q in questions if q.asks_when and (a := answers.get(q.key)) and a.yes and not a.on
    )
    future = tuple(
        q.key
        for q in questions
        if (a := answers.get(q.key)) is not None and a.yes and a.on is not None and a.on > today
    )
    extra = tuple(sorted({*unknown, *(k for k in answers if k not in asked)}))
    findings: list[Finding] = []
    for rule in rules:
        question = asked.get(rule.question)
        answer = answers.get(rule.question)
        if question is None or answer is None or not answer.yes:
            continue
        on = answer.on if question.asks_when else None
        if (
            on is not None
            and question.look_back_days is not None
            and on + timedelta(days=question.look_back_days) <= today
        ):
            continue  # longer ago than the question asks about
        if rule.outcome == Outcome.DEFERRED:
            if on is None or not rule.wait_days:
                findings.append(
                    Finding(rule.key, rule.question, Outcome.CLINICIAN_REVIEW, None,
                            rule.modification, rule.row)
                )  # fmt: skip
                continue
            until = on + timedelta(days=rule.wait_days)
            if until <= today:
                continue
            findings.append(
                Finding(rule.key, rule.question, rule.outcome, until, rule.modification, rule.row)
            )
            continue
        findings.append(
            Finding(rule.key, rule.question, rule.outcome, None, rule.modification, rule.row)
        )
    return Screening(
        findings=tuple(findings), missing=missing, unknown=extra, undated=undated, future=future
    )


def age_on(born_on: date, day: date) -> int:
    """Whole years on `day`; someone born on 29 February turns a year older on 1 March in
    years without one."""
    years = day.year - born_on.year
    if (day.month, day.day) < (born_on.month, born_on.day):
        years -= 1
    return years
