"""Booking a whole micro-needling course at /book/course/ (issue 5, item 6): the course (areas,
aim, number of sessions, earliest start) -> when suits the client (clinic, specialist, weekdays,
times of day) -> their important dates -> the proposed dates on a calendar strip -> details ->
pre-screen -> review -> "book all N sessions" through `course_book`, all or nothing.

Like the single booking flow (daisy/site/booking.py) every step is a plain form that works
without JavaScript, and what the client has chosen lives in their session, never in a URL (no
personal data in addresses or logs). A guest's important dates stay in the session until the
course is booked; then they are stored with `important_date_create`. A signed-in client's stored
dates are always part of the plan (the planner reads them itself)."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from daisy.booking.courses import DateToKeep, SessionTime, course_book
from daisy.clinic.selectors import specialist_get
from daisy.core import courses as core
from daisy.courses.selectors import (
    course_default_map,
    course_get,
    important_date_kind_list,
    important_date_list_for_client,
    recovery_rules,
)
from daisy.courses.services import AreaInput, course_propose, course_recommend
from daisy.lib.errors import (
    ClientContraindicated,
    CourseUnavailable,
    DomainError,
    ImportantDateConflict,
    InvalidTime,
    NotFound,
    SlotUnavailable,
    ValidationFailed,
)
from daisy.scheduling.selectors import (
    location_get,
)
from daisy.site.booking import SESSION_KEY as SINGLE_BOOKING_KEY
from daisy.site.course_booking.forms import (
    ONLINE_MAX_SESSIONS,
    RECOMMENDED,
    TIMES_OF_DAY,
    UNSURE,
    CourseForm,
    ImportantDateForm,
    WhenForm,
)
from daisy.site.course_booking.strip import ShownDate, ShownSession, calendar_strip
from daisy.site.forms import ANYONE
from daisy.site.selectors import TreatmentInfo, site_page_get, treatment_info_get
from daisy.site.wizard import (
    Wizard,
    areas_for,
    booking_client,
    done_record,
    done_record_keep,
    location_of,
    place_choices,
    prescreen_answers,
    signed_in_client,
    specialist_of,
    stop_message,
)

logger = logging.getLogger(__name__)

SESSION_KEY = "course_booking"
DONE_KEY = "course_booking_done"
# DOMAIN.md 1.2 is micro-needling's course table: the only treatment booked as a whole course.
COURSE_TREATMENTS = ("microneedling",)
# Important dates a guest may keep in the session (the API takes the same number).
MAX_DATES = 20
# A guest has no stored important dates yet: the planner reads none for a client without an id.
GUEST = SimpleNamespace(pk=None)

STEPS: list[tuple[str, Any]] = [
    ("site:book-course", gettext_lazy("Your course")),
    ("site:book-course-when", gettext_lazy("When suits you")),
    ("site:book-course-dates", gettext_lazy("Important dates")),
    ("site:book-course-plan", gettext_lazy("Your dates")),
    ("site:book-course-details", gettext_lazy("Your details")),
    ("site:book-course-check", gettext_lazy("Health check")),
    ("site:book-course-review", gettext_lazy("Review")),
]


# --- the course in the session ---------------------------------------------------------------


def _forget_plan(state: dict[str, Any]) -> None:
    """An answer changed: the dates shown and chosen no longer follow from the answers."""
    state.pop("proposal", None)
    state.pop("chosen", None)


def _info(state: dict[str, Any]) -> TreatmentInfo | None:
    slug = state.get("treatment")
    if slug not in COURSE_TREATMENTS:
        return None
    try:
        info = treatment_info_get(slug)
    except NotFound:
        return None
    return info if info.treatment.is_online_bookable else None


def _next_step(request: HttpRequest, state: dict[str, Any], info: TreatmentInfo | None) -> str:
    if info is None or not state.get("sessions") or not state.get("earliest_start"):
        return "site:book-course"
    if not state.get("location"):
        return "site:book-course-when"
    if not state.get("dates_seen"):
        return "site:book-course-dates"
    if not state.get("chosen"):
        return "site:book-course-plan"
    if not state.get("details") and signed_in_client(request) is None:
        return "site:book-course-details"
    if info.treatment.requires_screening and not state.get("screened"):
        return "site:book-course-check"
    return "site:book-course-review"


def _hidden_steps(request: HttpRequest, info: TreatmentInfo | None) -> set[str]:
    hidden = set()
    if info is not None and not info.treatment.requires_screening:
        hidden.add("site:book-course-check")
    if signed_in_client(request) is not None:
        hidden.add("site:book-course-details")
    return hidden


def _more_context(state: dict[str, Any]) -> dict[str, Any]:
    return {"sessions_count": state.get("sessions")}


def _first_session_day(state: dict[str, Any]) -> date | None:
    """The first chosen session's day (in the clinic's zone), else the earliest start asked."""
    sessions = (state.get("chosen") or {}).get("sessions") or []
    location = location_of(state)
    if sessions and location is not None:
        try:
            return (
                min(datetime.fromisoformat(s["start"]) for s in sessions)
                .astimezone(location.tz)
                .date()
            )
        except (KeyError, TypeError, ValueError):
            pass
    try:
        return date.fromisoformat(state.get("earliest_start") or "")
    except ValueError:
        return None


WIZARD = Wizard(
    session_key=SESSION_KEY,
    steps=STEPS,
    info=_info,
    next_step=_next_step,
    hidden_steps=_hidden_steps,
    more_context=_more_context,
    defaults={"dates": []},
    session_day=_first_session_day,
)


def _session_dates(
    state: dict[str, Any], *, kinds: dict[str, str] | None = None
) -> list[core.ImportantDate]:
    """The dates kept in the session. With `kinds`, an unnamed date is named after its kind,
    so the planner's explanations say "Sunny holiday" rather than the kind's slug."""
    return [
        core.ImportantDate(
            d["kind"],
            date.fromisoformat(d["start"]),
            date.fromisoformat(d["end"]),
            d["label"] or (kinds or {}).get(d["kind"], ""),
        )
        for d in state.get("dates", [])
    ]


def _shown_dates(
    state: dict[str, Any], client: Any, *, since: date, kinds: dict[str, str]
) -> list[ShownDate]:
    shown = []
    if client is not None:
        for item in important_date_list_for_client(client, ending_on_or_after=since):
            shown.append(
                ShownDate(
                    item.kind.slug, item.kind.name, item.label, item.start_on, item.end_on, True
                )
            )
    for i, d in enumerate(state.get("dates", [])):
        shown.append(
            ShownDate(
                d["kind"],
                kinds.get(d["kind"], d["kind"]),
                d["label"],
                date.fromisoformat(d["start"]),
                date.fromisoformat(d["end"]),
                False,
                i,
            )
        )
    return sorted(shown, key=lambda s: (s.start_on, s.end_on))


def _join_or(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return _("%(first)s or %(last)s") % {"first": ", ".join(words[:-1]), "last": words[-1]}


def _kinds() -> dict[str, str]:
    return {k.slug: k.name for k in important_date_kind_list()}


def _concerns(defaults: Mapping[str, Any] | None = None) -> list[tuple[str, str, Any]]:
    """(concern, label, CourseDefault row): the clinic's DOMAIN.md 1.2 defaults, as edited."""
    rows = course_default_map() if defaults is None else defaults
    return [(c, row.get_concern_display(), row) for c, row in rows.items()]


def _recommended(concern: str, defaults: Mapping[str, Any]) -> int:
    """Sessions for a standard case of the concern (DOMAIN.md 1.2 via the clinic's defaults;
    grade 2 is the standard case of DOMAIN.md 1.3); 3 when the client is not sure (1.2: most
    indications 3-5). Capped at the online maximum: beyond it a specialist decides."""
    areas = [] if concern == UNSURE else [AreaInput(area="", concern=concern, grade=2)]
    try:
        sessions = course_recommend(areas, defaults=defaults).sessions
    except ValidationFailed:
        sessions = course_recommend([]).sessions
    return min(sessions, ONLINE_MAX_SESSIONS)


# --- the proposal and its calendar strip ------------------------------------------------------


def _recovery(info: TreatmentInfo) -> timedelta:
    return recovery_rules(info.treatment, []).recovery


def _propose(request: HttpRequest, state: dict[str, Any], info: TreatmentInfo) -> Any:
    """The planner's proposal for the answers in the session (no writes)."""
    windows = [(a, b) for key, _label, a, b in TIMES_OF_DAY if key in state.get("times", [])]
    return course_propose(
        client=signed_in_client(request) or GUEST,
        treatment=info.treatment,
        sessions=int(state["sessions"]),
        earliest_start=date.fromisoformat(state["earliest_start"]),
        now=timezone.now(),
        for_staff=False,
        specialist=specialist_of(state),
        location=WIZARD.location(request, state),
        preferred_weekdays=state.get("weekdays") or None,
        preferred_times=windows or None,
        important_dates=_session_dates(state, kinds=_kinds()),
    )


def _sessions_of(planned: Sequence[Any], proposal: Any) -> list[dict[str, Any]]:
    return [
        {
            "start": s.slot.start.isoformat(),
            "end": s.slot.end.isoformat(),
            "specialist": s.specialist or "",
            "specialist_name": proposal.resource_name(s.specialist),
        }
        for s in planned
    ]


def _shown_sessions(items: Sequence[dict[str, Any]], recovery: timedelta) -> list[ShownSession]:
    out = []
    for n, item in enumerate(items, start=1):
        start = datetime.fromisoformat(item["start"])
        out.append(
            ShownSession(
                n,
                start,
                datetime.fromisoformat(item["end"]),
                item["specialist_name"],
                start + recovery,
            )
        )
    return out


# --- steps ----------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def start(request: HttpRequest) -> HttpResponse:
    """Step 1: areas, aim, number of sessions (the DOMAIN.md 1.2 recommendation explained) and
    the earliest start. Coming from the single booking flow, its treatment and areas carry over."""
    state = WIZARD.state(request)
    wanted = request.GET.get("treatment", "")
    single = request.session.get(SINGLE_BOOKING_KEY)
    single = single if isinstance(single, dict) else {}
    if wanted in COURSE_TREATMENTS:
        slug = wanted
    elif state.get("treatment") in COURSE_TREATMENTS:
        slug = state["treatment"]
    elif single.get("treatment") in COURSE_TREATMENTS:
        slug = single["treatment"]
    else:
        slug = COURSE_TREATMENTS[0]
    if state.get("treatment") != slug:
        state = {"owner": secrets.token_hex(16), "dates": [], "treatment": slug}
        if single.get("treatment") == slug and single.get("areas"):
            state["areas"] = list(single["areas"])
        for key in ("location", "specialist"):
            if single.get("treatment") == slug and single.get(key):
                state[key] = single[key]
    info = _info(state)
    if info is None:
        WIZARD.save(request, state)
        return render(request, "site/course/unavailable.html", {"state": state}, status=404)
    today = timezone.localdate()
    defaults = course_default_map()  # read once: the form, the table and the recommendation
    concerns = _concerns(defaults)
    initial = {
        "areas": state.get("areas"),
        "concern": state.get("concern"),
        "sessions": state.get("sessions_choice", RECOMMENDED),
        "earliest_start": state.get("earliest_start") or (today + timedelta(days=1)).isoformat(),
    }
    form = CourseForm(
        request.POST or None,
        areas=areas_for(info),
        concerns=[(c, label) for c, label, _row in concerns],
        today=today,
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        choice = data["sessions"]
        sessions = _recommended(data["concern"], defaults) if choice == RECOMMENDED else int(choice)
        answers = {
            "areas": data.get("areas", []),
            "concern": data["concern"],
            "sessions_choice": choice,
            "sessions": sessions,
            "earliest_start": data["earliest_start"].isoformat(),
        }
        if any(state.get(k) != v for k, v in answers.items()):
            _forget_plan(state)
        state.update(answers)
        WIZARD.save(request, state)
        return WIZARD.go_on(request, state, info)
    WIZARD.save(request, state)
    table = [
        {
            "label": label,
            "sessions": row.sessions,
            "low": row.min_sessions,
            "high": row.max_sessions,
            "weeks": round(row.interval_days / 7),
            "recommended": _recommended(c, defaults),
        }
        for c, label, row in concerns
    ]
    return render(
        request,
        "site/course/start.html",
        WIZARD.context(
            request,
            "site:book-course",
            state,
            form=form,
            info=info,
            table=table,
            max_sessions=ONLINE_MAX_SESSIONS,
        ),
    )


@require_http_methods(["GET", "POST"])
def when(request: HttpRequest) -> HttpResponse:
    """Step 2: clinic, specialist (or anyone), the weekdays and times of day that suit."""
    state, info, early = WIZARD.guard(request, "site:book-course-when")
    if early:
        return early
    # The specialists offered are those of the clinic the page was shown with.
    locations, specialists, current = place_choices(info, state.get("location"))
    form = WhenForm(
        request.POST or None,
        locations=locations,
        specialists=specialists,
        initial={
            "location": str(current.pk) if current else None,
            "specialist": state.get("specialist", ANYONE),
            "weekdays": state.get("weekdays", []),
            "times": state.get("times", []),
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if data["specialist"] != ANYONE and data["location"] != str(current.pk if current else ""):
            # The specialists listed were those of the clinic shown; ask again for the new one.
            state["location"] = data["location"]
            state["specialist"] = ANYONE
            _forget_plan(state)
            WIZARD.save(request, state)
            return redirect("site:book-course-when")
        answers = {
            "location": data["location"],
            "specialist": data["specialist"],
            "weekdays": sorted(data["weekdays"]),
            "times": [k for k, _label, _a, _b in TIMES_OF_DAY if k in data["times"]],
        }
        if any(state.get(k) != v for k, v in answers.items()):
            _forget_plan(state)
        state.update(answers)
        WIZARD.save(request, state)
        return WIZARD.go_on(request, state, info)
    return render(
        request,
        "site/course/when.html",
        WIZARD.context(
            request,
            "site:book-course-when",
            state,
            form=form,
            info=info,
            single_location=len(locations) == 1,
        ),
    )


@require_http_methods(["GET", "POST"])
def important_dates(request: HttpRequest) -> HttpResponse:
    """Step 3: the dates to look one's best for. Adding one re-shows this page; a guest's stay
    in the session until the course is booked, a signed-in client's stored ones are listed."""
    state, info, early = WIZARD.guard(request, "site:book-course-dates")
    if early:
        return early
    today = timezone.localdate()
    kinds = _kinds()
    client = signed_in_client(request)
    form = ImportantDateForm(kinds=list(kinds.items()), today=today)
    problem = None
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action == "add":
            form = ImportantDateForm(request.POST, kinds=list(kinds.items()), today=today)
            if len(state["dates"]) >= MAX_DATES:
                problem = _("You can add up to %(n)s dates here.") % {"n": MAX_DATES}
            elif form.is_valid():
                data = form.cleaned_data
                state["dates"].append(
                    {
                        "kind": data["kind"],
                        "label": data["label"].strip(),
                        "start": data["start_on"].isoformat(),
                        "end": data["end_on"].isoformat(),
                    }
                )
                _forget_plan(state)
                WIZARD.save(request, state)
                return redirect("site:book-course-dates")
        elif action.startswith("remove-"):
            try:
                index = int(action.removeprefix("remove-"))
                if index < 0:  # not a position on the page (Python would count from the end)
                    raise IndexError(index)
                del state["dates"][index]
            except (ValueError, IndexError):
                problem = _("That date was already removed.")
            else:
                _forget_plan(state)
                WIZARD.save(request, state)
                return redirect("site:book-course-dates")
        elif action == "continue":
            state["dates_seen"] = True
            WIZARD.save(request, state)
            return WIZARD.go_on(request, state, info)
        else:
            problem = _("Please use one of the buttons on this page.")
    rules = recovery_rules(info.treatment, important_date_kind_list())
    longer = sorted(
        {round(span.total_seconds() / 86400) for span in rules.recovery_by_kind.values()}
    )
    kind_names = {k: n for k, n in kinds.items() if k in rules.recovery_by_kind}
    return render(
        request,
        "site/course/important_dates.html",
        WIZARD.context(
            request,
            "site:book-course-dates",
            state,
            form=form,
            info=info,
            problem=problem,
            dates=_shown_dates(state, client, since=today, kinds=kinds),
            recovery_days=round(rules.recovery.total_seconds() / 86400),
            sun_days=longer[-1] if longer else None,
            sun_kinds=_join_or(list(kind_names.values())),
            signed_in=client is not None,
        ),
        status=400 if form.errors or problem else 200,
    )


@require_http_methods(["GET", "POST"])
def plan(request: HttpRequest) -> HttpResponse:
    """Step 4: the proposed dates on a calendar strip. GET plans afresh from the answers (the
    diary moves on); choosing takes exactly the dates that were shown, by their token."""
    state, info, early = WIZARD.guard(request, "site:book-course-plan")
    if early:
        return early
    location = WIZARD.location(request, state)
    if request.method == "POST":
        shown = state.get("proposal") or {}
        if not shown or request.POST.get("token") != shown.get("token"):
            state["notice"] = _(
                "These dates were out of date (perhaps changed in another tab). Here is a "
                "fresh plan: please check it."
            )
            WIZARD.save(request, state)
            return redirect("site:book-course-plan")
        use = request.POST.get("use")
        if use == "proposal" and shown.get("complete"):
            sessions = shown["sessions"]
        elif use == "alternative" and shown.get("alternative"):
            sessions = shown["alternative"]["sessions"]
            moved = date.fromisoformat(state["earliest_start"]) + timedelta(
                days=shown["alternative"]["shift_days"]
            )
            state["earliest_start"] = moved.isoformat()
        else:
            return redirect("site:book-course-plan")
        state["chosen"] = {"token": secrets.token_hex(8), "sessions": sessions}
        WIZARD.save(request, state)
        return WIZARD.go_on(request, state, info)

    notice = state.pop("notice", None)
    problem = None
    try:
        proposal = _propose(request, state, info)
    except DomainError as exc:
        proposal, problem = None, exc.message
    recovery = _recovery(info)
    today = timezone.localdate()
    client = signed_in_client(request)
    dates = _shown_dates(state, client, since=today, kinds=_kinds())
    ctx: dict[str, Any] = {"problem": problem, "notice": notice, "dates": dates}
    if proposal is not None:
        full = proposal.plan
        alt = full.alternative
        record = {
            "token": secrets.token_hex(8),
            "complete": full.is_complete,
            "sessions": _sessions_of(full.sessions, proposal),
            "alternative": (
                {"shift_days": alt.shift_days, "sessions": _sessions_of(alt.sessions, proposal)}
                if alt is not None
                else None
            ),
        }
        state["proposal"] = record
        sessions = _shown_sessions(record["sessions"], recovery)
        ctx.update(
            token=record["token"],
            complete=full.is_complete,
            problems=[p.reason for p in full.problems],
            sessions=sessions,
            months=calendar_strip(sessions=sessions, dates=dates, tz=location.tz, ident="plan"),
        )
        if alt is not None:
            alt_sessions = _shown_sessions(record["alternative"]["sessions"], recovery)
            ctx.update(
                alternative=alt_sessions,
                shift_days=alt.shift_days,
                alt_months=calendar_strip(
                    sessions=alt_sessions, dates=dates, tz=location.tz, ident="alt"
                ),
            )
    else:
        state.pop("proposal", None)
    WIZARD.save(request, state)
    return render(
        request,
        "site/course/plan.html",
        WIZARD.context(
            request,
            "site:book-course-plan",
            state,
            info=info,
            recovery_hours=round(recovery.total_seconds() / 3600),
            **ctx,
        ),
        # A plan with problems is still an answer (what fails, and the nearest alternative).
        status=400 if problem else 200,
    )


@require_http_methods(["GET", "POST"])
def details(request: HttpRequest) -> HttpResponse:
    """Step 5: a guest's details (the single booking flow's form); a signed-in client skips it.
    An email of any existing account is refused: the course and the important dates must be
    its owner's, signed in."""
    return WIZARD.details(
        request,
        "site:book-course-details",
        "site/course/details.html",
        invalid_status=400,
    )


def _wait_for(
    request: HttpRequest, state: dict[str, Any], info: TreatmentInfo, until: date
) -> HttpResponse | None:
    """The answers call for a wait until `until`: a plan whose first session comes sooner is
    planned again from that day (the answers are kept), and the client is told why."""
    chosen = state.get("chosen") or {}
    sessions = chosen.get("sessions") or []
    location = WIZARD.location(request, state)
    if not sessions or location is None:
        return None
    first = datetime.fromisoformat(sessions[0]["start"]).astimezone(location.tz).date()
    if first >= until:
        return None
    _forget_plan(state)
    state["earliest_start"] = until.isoformat()
    state["notice"] = _(
        "From your answers, your skin needs a little longer before this treatment: the course "
        "can start on %(day)s. Here is a plan from then."
    ) % {"day": formats.date_format(until, "l j F Y")}
    WIZARD.save(request, state)
    return redirect("site:book-course-plan")


@require_http_methods(["GET", "POST"])
def check(request: HttpRequest) -> HttpResponse:
    """Step 6: the DOMAIN.md 2.2 hard stops as yes/no questions. Any "yes" books nothing,
    explains why kindly, and offers a free consultation instead."""
    # Nothing is booked and no answer is kept; the chosen dates are let go.
    return WIZARD.check(
        request,
        "site:book-course-check",
        "site/course/check.html",
        "site/course/not_suitable.html",
        let_go=_forget_plan,
        invalid_status=400,
        wait=_wait_for,
    )


@require_http_methods(["GET", "POST"])
def review(request: HttpRequest) -> HttpResponse:
    """Step 7: every session, the price, what to bring, the policy; "book all N sessions"."""
    state, info, early = WIZARD.guard(request, "site:book-course-review")
    if early:
        return early
    location = WIZARD.location(request, state)
    problem, offer_consultation = None, False
    if request.method == "POST":
        outcome = _book(request, state, info, location)
        if isinstance(outcome, HttpResponse):
            return outcome
        problem, offer_consultation = outcome
    recovery = _recovery(info)
    sessions = _shown_sessions(state["chosen"]["sessions"], recovery)
    client = signed_in_client(request)
    dates = _shown_dates(state, client, since=timezone.localdate(), kinds=_kinds())
    price = info.treatment.price
    return render(
        request,
        "site/course/review.html",
        WIZARD.context(
            request,
            "site:book-course-review",
            state,
            info=info,
            tp=info.page,
            sessions=sessions,
            months=calendar_strip(sessions=sessions, dates=dates, tz=location.tz, ident="review"),
            dates=dates,
            details=state.get("details"),
            client=client,
            policy=site_page_get("booking"),
            total=price * len(sessions),
            problem=problem,
            offer_consultation=offer_consultation,
        ),
        status=409 if problem else 200,
    )


def _notes(state: dict[str, Any]) -> str:
    parts = []
    if state.get("areas"):
        parts.append(_("Areas to treat: %(areas)s") % {"areas": ", ".join(state["areas"])})
    concern = state.get("concern")
    if concern and concern != UNSURE:
        names = {c: label for c, label, _row in _concerns()}
        parts.append(_("Wants to improve: %(c)s") % {"c": names.get(concern, concern)})
    return ". ".join(parts)


def _book(
    request: HttpRequest, state: dict[str, Any], info: TreatmentInfo, location: Any
) -> HttpResponse | tuple[str, bool]:
    now = timezone.now()
    client = signed_in_client(request)
    created = False
    chosen = state["chosen"]
    try:
        # Everything that can fail before booking is read first: an account made for a guest is
        # only withdrawn if the booking itself fails.
        specialists = {
            sid: specialist_get(sid) for sid in {s["specialist"] for s in chosen["sessions"]} if sid
        }
        times = [
            SessionTime(datetime.fromisoformat(s["start"]), specialists.get(s["specialist"]))
            for s in chosen["sessions"]
        ]
        windows = [(a, b) for key, _label, a, b in TIMES_OF_DAY if key in state.get("times", [])]
        # The guest's account, the course and its important dates commit together or not at
        # all: a course that fails leaves no account and sends no "confirm your email".
        with transaction.atomic():
            user, client, created = booking_client(request, state, client, now)
            booked = course_book(
                client=client,
                treatment=info.treatment,
                booked_by=user,
                now=now,
                sessions=len(times),
                session_times=times,
                specialist=specialist_of(state),
                location=location,
                preferred_weekdays=state.get("weekdays") or None,
                preferred_times=windows or None,
                important_dates=_session_dates(state, kinds=_kinds()),
                dates_to_keep=[
                    DateToKeep(d.kind, d.start_on, d.end_on, d.label) for d in _session_dates(state)
                ],
                # One key per chosen set of dates: a double-clicked "book" books once.
                idempotency_key=f"site-course-{state['owner']}-{chosen['token']}",
                notes=_notes(state),
                prescreen=prescreen_answers(state),
            )
    except (SlotUnavailable, CourseUnavailable, ImportantDateConflict, InvalidTime, NotFound):
        # Someone took a time meanwhile (or the diary changed): nothing was booked. Plan
        # afresh from the same answers and say so.
        _forget_plan(state)
        state["notice"] = _(
            "Sorry, one of those times was taken by someone else a moment ago, so nothing has "
            "been booked. Here is a fresh plan with the same choices; your details are kept."
        )
        WIZARD.save(request, state)
        return redirect("site:book-course-plan")
    except ClientContraindicated as exc:
        return stop_message(request, exc, course=True), True
    except DomainError as exc:
        return exc.message, False
    request.session.pop(SESSION_KEY, None)
    done_record_keep(
        request, DONE_KEY, client=client, user=user, course=str(booked.plan.pk), created=created
    )
    return redirect("site:book-course-done")


def done(request: HttpRequest) -> HttpResponse:
    record = done_record(request, DONE_KEY)
    if record is None:
        return redirect("site:book-course")
    try:
        course = course_get(record["course"])
    except NotFound:
        return redirect("site:book-course")
    try:
        info = treatment_info_get(course.treatment_slug)
    except NotFound:  # withdrawn since: the course stands, without the treatment's page notes
        info = None
    sessions = [s for s in course.sessions if s.state == "planned"]
    try:
        location = location_get(sessions[0].location_id) if sessions else None
    except NotFound:  # no longer listed: the sessions still carry its name and zone
        first = sessions[0]
        location = SimpleNamespace(name=first.location_name, time_zone=first.time_zone)
    return render(
        request,
        "site/course/done.html",
        {
            "course": course,
            "sessions": sessions,
            "location": location,
            "info": info,
            "tp": info.page if info else None,
            "account_created": record.get("created"),
            "signed_in": signed_in_client(request) is not None,
        },
    )
