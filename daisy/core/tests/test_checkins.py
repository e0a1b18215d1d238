"""Red flags in check-in answers (DOMAIN.md 5.1): each warning sign, its severity and what the
client is told to do, at the thresholds the table gives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from daisy.core.checkins import (
    FOLLOW_UPS,
    RED_FLAG_CODES,
    TOXICITY_SYMPTOMS,
    TRENDS,
    Answers,
    Severity,
    checkin_due,
    checkin_kind,
    checkin_offset,
    checkin_window,
    follow_up,
    red_flags_evaluate,
    reviews_due,
    since_session,
)

D = timedelta(days=1)
H = timedelta(hours=1)
CALM = Answers()


@pytest.mark.parametrize(
    ("answers", "since", "codes", "severity", "advice"),
    [
        # Expected course: redness, swelling and tenderness that are fading or unchanged early.
        (CALM, D, [], None, "expected"),
        (Answers(redness="same", swelling="better", pain="same"), D, [], None, "expected"),
        (Answers(redness="better"), 3 * D, [], None, "expected"),
        (Answers(spots=True), 5 * D, [], None, "expected"),
        # Numbing-cream toxicity: emergency, whatever else (DOMAIN.md 5.1 last clinical row).
        (
            Answers(toxicity=frozenset({"numb_mouth"})),
            H,
            ["toxicity"],
            Severity.EMERGENCY,
            "emergency",
        ),
        (
            Answers(toxicity=frozenset({"breathing"}), fever=True),
            H,
            ["toxicity", "infection"],
            Severity.EMERGENCY,
            "emergency",
        ),
        # Infection: any one sign (increasing redness, warmth, pus, pain, swelling, fever).
        (Answers(redness="worse"), D, ["infection"], Severity.URGENT, "same_day"),
        (Answers(swelling="worse"), 2 * D, ["infection"], Severity.URGENT, "same_day"),
        (Answers(pain="worse"), 2 * D, ["infection"], Severity.URGENT, "same_day"),
        (Answers(hot_or_weeping=True), D, ["infection"], Severity.URGENT, "same_day"),
        (Answers(fever=True), D, ["infection"], Severity.URGENT, "same_day"),
        # Cold-sore blisters: same-day prescriber contact.
        (Answers(blisters=True), 2 * D, ["hsv"], Severity.URGENT, "same_day"),
        # Redness beyond 7 days: review (the day-7 check-in is exactly 7 days).
        (Answers(redness="same"), 7 * D - H, [], None, "expected"),
        (Answers(redness="same"), 7 * D, ["redness_persisting"], Severity.ROUTINE, "review"),
        (Answers(redness="better"), 8 * D, ["redness_persisting"], Severity.ROUTINE, "review"),
        # Papules beyond 2 weeks: review (granulomatous reaction).
        (Answers(spots=True), 14 * D, [], None, "expected"),
        (Answers(spots=True), 14 * D + H, ["papules_persisting"], Severity.ROUTINE, "review"),
        # New dark patches: review (PIH).
        (Answers(dark_patches=True), 7 * D, ["pih"], Severity.ROUTINE, "review"),
        # Swelling or pain still there at day 7, fading or not: review (row 1; 5.2 row +7 days).
        (Answers(swelling="same", pain="better"), 7 * D - H, [], None, "expected"),
        (Answers(swelling="same"), 7 * D, ["swelling_persisting"], Severity.ROUTINE, "review"),
        (Answers(pain="same"), 7 * D, ["pain_persisting"], Severity.ROUTINE, "review"),
        (Answers(pain="better"), 30 * D, ["pain_persisting"], Severity.ROUTINE, "review"),
        # An itchy rash or hives, typically in days 0-3: review (contact dermatitis, urticaria).
        (Answers(rash=True), 6 * H, ["rash"], Severity.ROUTINE, "review"),
        (Answers(rash=True), 3 * D, ["rash"], Severity.ROUTINE, "review"),
        # Track marks: review, whenever seen.
        (Answers(track_marks=True), 30 * D, ["tram_tracks"], Severity.ROUTINE, "review"),
        # Breakouts settle within a week; still there at the day-7 check-in: review.
        (Answers(breakouts=True), 3 * D, [], None, "expected"),
        (Answers(breakouts=True), 7 * D, ["breakouts_persisting"], Severity.ROUTINE, "review"),
        # Most serious first.
        (
            Answers(redness="worse", dark_patches=True, blisters=True),
            8 * D,
            ["infection", "hsv", "redness_persisting", "pih"],
            Severity.URGENT,
            "same_day",
        ),
    ],
)
def test_red_flag_table(
    answers: Answers,
    since: timedelta,
    codes: list[str],
    severity: Severity | None,
    advice: str,
) -> None:
    result = red_flags_evaluate(answers, since_session=since)
    assert result.codes == codes
    assert result.severity == severity
    assert result.advice == advice
    assert result.is_red_flag == bool(codes)
    assert all(f.source.startswith("DOMAIN.md 5.1") for f in result.flags)


answers_strategy = st.builds(
    Answers,
    redness=st.sampled_from(TRENDS),
    swelling=st.sampled_from(TRENDS),
    pain=st.sampled_from(TRENDS),
    hot_or_weeping=st.booleans(),
    spots=st.booleans(),
    blisters=st.booleans(),
    dark_patches=st.booleans(),
    fever=st.booleans(),
    rash=st.booleans(),
    track_marks=st.booleans(),
    breakouts=st.booleans(),
    toxicity=st.frozensets(st.sampled_from(TOXICITY_SYMPTOMS)),
)
since_strategy = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=60))


@given(answers_strategy, since_strategy)
def test_any_toxicity_symptom_is_an_emergency(answers: Answers, since: timedelta) -> None:
    result = red_flags_evaluate(answers, since_session=since)
    assert (result.severity == Severity.EMERGENCY) == bool(answers.toxicity)


@given(answers_strategy, since_strategy)
def test_flags_are_most_serious_first_and_severity_is_the_highest(
    answers: Answers, since: timedelta
) -> None:
    result = red_flags_evaluate(answers, since_session=since)
    severities = [f.severity for f in result.flags]
    assert severities == sorted(severities, reverse=True)
    assert result.severity == (severities[0] if severities else None)
    assert len(set(result.codes)) == len(result.codes)


@given(answers_strategy, since_strategy, since_strategy)
def test_time_only_adds_flags(answers: Answers, a: timedelta, b: timedelta) -> None:
    """A later check-in with the same answers never shows fewer warning signs: the thresholds
    are "beyond N days"."""
    early, late = sorted((a, b))
    assert set(red_flags_evaluate(answers, since_session=early).codes) <= set(
        red_flags_evaluate(answers, since_session=late).codes
    )


@given(answers_strategy, since_strategy)
def test_a_calmer_answer_never_raises_severity(answers: Answers, since: timedelta) -> None:
    calmer = Answers(redness="none", swelling=answers.swelling, pain=answers.pain)
    assert (red_flags_evaluate(calmer, since_session=since).severity or 0) <= (
        red_flags_evaluate(
            Answers(redness=answers.redness, swelling=answers.swelling, pain=answers.pain),
            since_session=since,
        ).severity
        or 0
    )


def test_rejects_unknown_answers_and_negative_time() -> None:
    with pytest.raises(ValueError, match="redness"):
        Answers(redness="purple")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown symptoms"):
        Answers(toxicity=frozenset({"hiccups"}))
    with pytest.raises(ValueError, match="before the session"):
        red_flags_evaluate(CALM, since_session=-H)


# One answer that shows each warning sign on its own, at a time it counts: every rule of
# DOMAIN.md 5.1 has one, so a rule added without a test fails here.
EACH_RED_FLAG = {
    "toxicity": (Answers(toxicity=frozenset({"tinnitus"})), 2 * H, Severity.EMERGENCY),
    "infection": (Answers(hot_or_weeping=True), D, Severity.URGENT),
    "hsv": (Answers(blisters=True), 3 * D, Severity.URGENT),
    "redness_persisting": (Answers(redness="better"), 7 * D, Severity.ROUTINE),
    "swelling_persisting": (Answers(swelling="same"), 7 * D, Severity.ROUTINE),
    "pain_persisting": (Answers(pain="same"), 7 * D, Severity.ROUTINE),
    "rash": (Answers(rash=True), 3 * D, Severity.ROUTINE),
    "papules_persisting": (Answers(spots=True), 30 * D, Severity.ROUTINE),
    "pih": (Answers(dark_patches=True), 30 * D, Severity.ROUTINE),
    "tram_tracks": (Answers(track_marks=True), 91 * D, Severity.ROUTINE),
    "breakouts_persisting": (Answers(breakouts=True), 7 * D, Severity.ROUTINE),
}


def test_every_red_flag_has_an_answer_that_raises_it_alone() -> None:
    assert set(EACH_RED_FLAG) == set(RED_FLAG_CODES)
    for code, (answers, since, severity) in EACH_RED_FLAG.items():
        result = red_flags_evaluate(answers, since_session=since)
        assert result.codes == [code]
        assert result.severity == severity


# --- follow-ups (DOMAIN.md 5.2) -----------------------------------------------------------------

SESSION = datetime(
    2030, 3, 25, 10, 0, tzinfo=UTC
)  # Monday 10:00 GMT; the clocks go forward on 31 March
LONDON = ZoneInfo("Europe/London")


def test_every_follow_up_row_is_carried_out() -> None:
    rows = " ".join(f.source for f in FOLLOW_UPS)
    for row in (
        "+24-48 h", "+3 days", "+7 days", "Each session", "+1 month", "+3 months", "+6 months",
        "Maintenance",
    ):  # fmt: skip
        assert row in rows
    kinds = [f.kind for f in FOLLOW_UPS if f.kind]
    assert kinds == ["24h", "72h", "168h", "30d", "91d", "182d"]
    assert [f.kind for f in FOLLOW_UPS if f.is_review] == ["30d", "91d", "182d"]
    # The granulomatous-reaction flag needs an answer after day 14: the first review gives one.
    assert min(checkin_offset(k) for k in kinds if checkin_offset(k) > 14 * D) == 30 * D
    assert follow_up("182d").offers_maintenance  # type: ignore[union-attr]
    assert follow_up("7h") is None


def test_check_in_names_read_both_ways() -> None:
    assert checkin_kind(hours=72) == "72h" and checkin_kind(days=30) == "30d"
    assert checkin_offset("72h") == 72 * H and checkin_offset("91d") == 91 * D
    for bad in ("", "0h", "72", "3w", "-1d", "1.5h", "24h ", "٣h"):
        with pytest.raises(ValueError, match="not a check-in"):
            checkin_offset(bad)
    with pytest.raises(ValueError):
        checkin_kind(hours=1, days=1)


def test_a_link_is_open_from_the_session_until_two_weeks_after_its_check_in_is_due() -> None:
    # Two days before the clocks go forward: days count on the local calendar.
    before = datetime(2030, 3, 29, 10, 0, tzinfo=UTC)  # Friday 10:00 GMT
    opens, closes = checkin_window(session_start=before, kind="168h", tz=LONDON, valid_for=14 * D)
    assert opens == before
    assert closes == datetime(2030, 4, 19, 9, 0, tzinfo=UTC)  # 21 days on: 10:00 BST
    _, review_closes = checkin_window(session_start=before, kind="91d", tz=LONDON, valid_for=14 * D)
    assert review_closes - before > 104 * D


def test_a_review_is_due_unless_a_later_session_came_first() -> None:
    due = checkin_due(session_start=SESSION, kind="30d", tz=LONDON)
    assert due == datetime(2030, 4, 24, 9, 0, tzinfo=UTC)  # 10:00 GMT -> 10:00 BST

    def at(now: datetime, later: tuple[datetime, ...] = ()) -> list[str]:
        found = reviews_due(
            session_start=SESSION,
            kinds=("30d", "91d"),
            later_sessions=later,
            tz=LONDON,
            now=now,
            useful_for=7 * D,
        )
        return [kind for kind, _ in found]

    assert at(due - H) == []
    assert at(due) == ["30d"] and at(due + 6 * D) == ["30d"]
    assert at(due + 7 * D) == []  # too late to be useful: not sent weeks late
    # The next session of a course, 4 weeks on, was the review (in person).
    assert at(due, later=(SESSION + 28 * D,)) == []
    # A session booked after the review's time does not stop it; an earlier one is ignored.
    assert at(due, later=(due + D, SESSION - 28 * D)) == ["30d"]
    three_months = checkin_due(session_start=SESSION, kind="91d", tz=LONDON)
    assert at(three_months, later=(SESSION + 56 * D,)) == []
    assert at(three_months) == ["91d"]


def test_day_7_is_day_7_on_the_local_calendar_when_the_clocks_change() -> None:
    before = datetime(2030, 3, 29, 10, 0, tzinfo=UTC)  # Friday 10:00 GMT
    day_7 = checkin_due(session_start=before, kind="168h", tz=LONDON)  # Friday 10:00 BST
    assert day_7 - before == 7 * D - H  # 167 real hours
    since = since_session(session_start=before, moment=day_7, tz=LONDON)
    assert since == 7 * D
    assert red_flags_evaluate(Answers(swelling="same"), since_session=since).codes == [
        "swelling_persisting"
    ]
    assert since_session(session_start=before, moment=before - H, tz=LONDON) == timedelta(0)
