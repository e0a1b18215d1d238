"""course_plan_ms (issue 5): proposing a whole course in the benchmark clinic (20 specialists,
6,000 appointments), database reads included: the client's stored dates and the treatment's
recovery window, eligible resources, hours, closures, time off and every busy row over the
course's horizon, then the pure planner.

* course_plan_ms: 6 sessions, 28 days apart (window 21-42), with 3 important dates (a wedding,
  a job interview and a beach holiday, which keeps two weeks clear), starting in the first
  week of the data set: the horizon is 7 + 5 x 42 + 1 = 218 days (about seven months), so it
  covers the 90 busy days and the months after them. Target: p95 < 100 ms.
* course_plan_12_ms: the same with 12 sessions (an extended course; 470 days). Target: < 250 ms.

Nothing is written: `course_propose` only reads."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

from bench import config
from bench.figures import Bench, Timed
from daisy.clients.models import Client
from daisy.core import courses as core
from daisy.courses.services import course_presets_install, course_propose

IMPORTANT_DATES = (
    core.ImportantDate(
        "wedding", config.START + timedelta(days=31), config.START + timedelta(days=31)
    ),
    core.ImportantDate(
        "job_interview", config.START + timedelta(days=60), config.START + timedelta(days=60)
    ),
    core.ImportantDate(
        "beach_holiday", config.START + timedelta(days=100), config.START + timedelta(days=110)
    ),
)
FIGURES = {"course_plan_ms": 6, "course_plan_12_ms": 12}


def run(bench: Bench) -> dict[str, Any]:
    wanted = [name for name in FIGURES if bench.wanted(name)]
    if not wanted:
        return {}
    # The kinds of important date are data (migration 0002); a bench database built before
    # them, or flushed, gets them here. Idempotent, and not timed.
    course_presets_install()
    client = Client.objects.order_by("pk").first()
    if client is None:
        raise RuntimeError("the bench data set has no clients")

    def propose(sessions: int) -> Any:
        return course_propose(
            client=client,
            treatment=bench.treatment,
            sessions=sessions,
            earliest_start=config.START,
            now=config.NOW,
            for_staff=False,
            location=bench.location,
            important_dates=IMPORTANT_DATES,
        )

    items = []
    for name in wanted:
        sessions = FIGURES[name]
        with CaptureQueriesContext(connection) as captured:
            proposal = propose(sessions)
        planned = proposal.plan
        if not planned.is_complete:
            raise RuntimeError(f"{name}: no full plan: {planned.problems}")
        items.append(
            Timed(
                name,
                lambda n=sessions: propose(n),
                {
                    "sessions": sessions,
                    "important_dates": len(IMPORTANT_DATES),
                    "horizon_days": proposal.request.horizon_days,
                    "queries": len(captured.captured_queries),
                    "first": planned.sessions[0].slot.start.isoformat(),
                    "last": planned.sessions[-1].slot.start.isoformat(),
                    "gaps_days": [s.gap_days for s in planned.sessions[1:]],
                },
            )
        )
    return bench.time(items)
