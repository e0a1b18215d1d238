"""Issue 12: every message's dates are absolute, and nothing a person reads names an internal
reference. Every message template Daisy has (every file under a templates/notifications/
folder) is made the way the clinic makes it, in the demo clinic: a booking, a move, a
cancellation, a course with its next-session and recall follow-ups, a red-flag check-in and its
staff alert, the 1- and 3-month reviews, and the account emails; each is rendered on each of its
channels (subject, text, HTML, SMS). None may say a weekday without its date ("Thursday 09:00"
reads as this week), nor "DOMAIN.md". A template nobody makes here fails the test, so a new
message has to join it."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils.html import strip_tags

from daisy.aftercare.followups import checkin_reviews_schedule_due, course_followups_schedule
from daisy.notifications.models import Message
from daisy.notifications.rendering import render_message
from daisy.scheduling.models import Status
from daisy.site.tests.test_no_internal_references import _everything

pytestmark = pytest.mark.django_db

WEEKDAY = r"(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
MONTH = r"(January|February|March|April|May|June|July|August|September|October|November|December"
MONTH += r"|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)"
# A weekday not followed by a day of the month and a month ("Thursday 25 March").
BARE_WEEKDAY = re.compile(rf"\b{WEEKDAY}\b(?!,? \d{{1,2}}(st|nd|rd|th)? {MONTH}\b)")
ROOT = Path(__file__).resolve().parents[2]


def _template_names() -> set[str]:
    """'appointment/confirmed', 'generic', ... from the files on disk."""
    names = set()
    for path in ROOT.glob("*/templates/notifications/**/*"):
        if path.suffix not in {".txt", ".html"} or path.name.startswith("_"):
            continue
        if path.name == "email_base.html":
            continue
        rel = path.relative_to(path.parents[len(path.relative_to(ROOT).parts) - 3])
        name = str(rel.with_suffix("")).removeprefix("notifications/")
        names.add(re.sub(r"_(subject|sms)$", "", name))
    return names


def _readable(html: str) -> str:
    return re.sub(r"\s+", " ", strip_tags(re.sub(r"<(style|head)\b.*?</\1>", "", html, flags=re.S)))


def test_every_message_template_says_dates_in_full_and_no_internal_reference() -> None:
    world = _everything()
    # The course's first session happened and nothing is booked next: the next-session
    # reminder, then (past the longest gap) the recall.
    course = world["course"].plan
    first, *rest = sorted(world["course"].appointments, key=lambda a: a.starts_at)
    first.status = Status.COMPLETED
    first.save()
    for later in rest:
        later.status = Status.CANCELLED
        later.save()
    ideal = first.starts_at + timedelta(days=course.interval_days)
    assert course_followups_schedule(now=ideal - timedelta(days=6)) >= 1
    assert course_followups_schedule(now=first.starts_at + timedelta(days=course.max_interval_days))
    # The follow-up reviews after the red-flag session (1 and 3 months).
    past = world["past"]
    for days in (31, 92):
        checkin_reviews_schedule_due(now=past.starts_at + timedelta(days=days))

    messages = list(Message.objects.all())
    made = {m.template for m in messages}
    assert _template_names() <= made, f"not made here: {_template_names() - made}"
    checked = 0
    for message in messages:
        rendered = render_message(message)
        for part in (rendered.subject, rendered.text, _readable(rendered.html or "")):
            bare = BARE_WEEKDAY.search(part)
            assert bare is None, (
                message.template,
                message.channel,
                part[max(0, bare.start() - 80) : bare.end() + 80],
            )
            assert "DOMAIN.md" not in part, (message.template, message.channel)
        checked += 1
    assert checked >= 40
