"""The booking flow at /book/: treatment -> areas -> clinic and specialist -> a week of times
(the chosen time is held) -> details -> pre-screen -> review -> confirm.

Every step is a plain GET/POST form that works without JavaScript; htmx only swaps the week of
times in place. What the client has chosen lives in their session, never in a URL (no personal
data in addresses or logs). The held time is owned by a random key kept in the session, so it
survives signing in mid-way (Django keeps session data when it rotates the session key)."""

from __future__ import annotations

import secrets
from datetime import date, datetime, time, timedelta
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from daisy.accounts.services import client_account_ensure, client_account_withdraw, client_user_find
from daisy.clients.selectors import client_for_user
from daisy.clinic.selectors import specialist_get
from daisy.lib.errors import ClientContraindicated, DomainError, NotFound, SlotUnavailable
from daisy.lib.times import parse_offered_start
from daisy.scheduling.selectors import (
    ROLE_SPECIALIST,
    appointment_get,
    availability_list,
    eligible_resources,
    location_get,
    locations_offering,
)
from daisy.scheduling.services import appointment_book, slot_hold_create, slot_hold_release
from daisy.site.forms import (
    ANYONE,
    AreasForm,
    DetailsForm,
    PlaceForm,
    PrescreenForm,
    TreatmentForm,
)
from daisy.site.selectors import TreatmentInfo, site_page_get, treatment_info_get
from daisy.site.selectors import treatment_info_list as _treatment_info_list

SESSION_KEY = "booking"
DONE_KEY = "booking_done"
CONSULTATION = "consultation"
# How far ahead "earliest available" looks, in one availability read.
EARLIEST_SEARCH = timedelta(weeks=8)

STEPS: list[tuple[str, Any]] = [
    ("site:book", gettext_lazy("Treatment")),
    ("site:book-areas", gettext_lazy("Areas")),
    ("site:book-place", gettext_lazy("Clinic")),
    ("site:book-time", gettext_lazy("Time")),
    ("site:book-details", gettext_lazy("Your details")),
    ("site:book-check", gettext_lazy("Health check")),
    ("site:book-review", gettext_lazy("Review")),
]
STEP_INDEX = {name: i for i, (name, _label) in enumerate(STEPS)}


# --- the booking in the session ---------------------------------------------------------------


def _state(request: HttpRequest) -> dict[str, Any]:
    state = request.session.get(SESSION_KEY)
    if not isinstance(state, dict):
        state = {}
    state.setdefault("owner", secrets.token_hex(16))
    return state


def _save(request: HttpRequest, state: dict[str, Any]) -> None:
    request.session[SESSION_KEY] = state
    request.session.modified = True


def _release_hold(state: dict[str, Any]) -> None:
    hold_id = state.pop("hold_id", None)
    state.pop("start", None)
    state.pop("hold_expires", None)
    if hold_id:
        slot_hold_release(hold_id=hold_id, held_by=state["owner"], now=timezone.now())


def _signed_in_client(request: HttpRequest) -> Any:
    user = request.user
    if not user.is_authenticated or getattr(user, "is_clinic_staff", False):
        return None
    return client_for_user(user)


def _info(state: dict[str, Any]) -> TreatmentInfo | None:
    slug = state.get("treatment")
    if not slug:
        return None
    try:
        return treatment_info_get(slug)
    except NotFound:
        return None


def _areas_for(info: TreatmentInfo) -> list[str]:
    return info.page.area_choices if info.page else []


def _next_step(request: HttpRequest, state: dict[str, Any], info: TreatmentInfo | None) -> str:
    """The first step that still needs an answer."""
    if info is None or not info.treatment.is_online_bookable:
        return "site:book"
    if _areas_for(info) and not state.get("areas"):
        return "site:book-areas"
    if not state.get("location"):
        return "site:book-place"
    if not state.get("start"):
        return "site:book-time"
    if not state.get("details") and _signed_in_client(request) is None:
        return "site:book-details"
    if info.treatment.requires_screening and not state.get("screened"):
        return "site:book-check"
    return "site:book-review"


def _guard(request: HttpRequest, step: str) -> tuple[dict[str, Any], Any, HttpResponse | None]:
    """The state and treatment, or a redirect to the first unanswered step before this one."""
    state = _state(request)
    info = _info(state)
    needed = _next_step(request, state, info)
    if STEP_INDEX[needed] < STEP_INDEX[step]:
        return state, info, redirect(needed)
    return state, info, None


def _context(request: HttpRequest, step: str, state: dict[str, Any], **extra: Any) -> dict:
    info = extra.get("info")
    steps = []
    for name, label in STEPS:
        if name == "site:book-areas" and info is not None and not _areas_for(info):
            continue
        if name == "site:book-check" and info is not None and not info.treatment.requires_screening:
            continue
        steps.append(
            {
                "label": label,
                "current": name == step,
                "done": STEP_INDEX[name] < STEP_INDEX[step],
            }
        )
    location = _location(state)
    hold_expires = state.get("hold_expires")
    return {
        "hold_expires": datetime.fromisoformat(hold_expires) if hold_expires else None,
        "steps": steps,
        "state": state,
        "location": location,
        "specialist_name": _specialist_name(state),
        "start": _start(state),
        **extra,
    }


def _location(state: dict[str, Any]) -> Any:
    if not state.get("location"):
        return None
    try:
        return location_get(state["location"])
    except NotFound:
        return None


def _specialist(state: dict[str, Any]) -> Any:
    sid = state.get("specialist")
    if not sid or sid == ANYONE:
        return None
    try:
        return specialist_get(sid)
    except NotFound:
        return None


def _specialist_name(state: dict[str, Any]) -> str:
    specialist = _specialist(state)
    return specialist.name if specialist else _("Anyone available")


def _start(state: dict[str, Any]) -> datetime | None:
    raw = state.get("start")
    return datetime.fromisoformat(raw) if raw else None


# --- steps -------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def book(request: HttpRequest) -> HttpResponse:
    """Step 1: the treatment. `?treatment=<slug>` (the "Book" button on a treatment page)
    preselects it and goes straight on."""
    state = _state(request)
    treatments = _treatment_info_list(bookable_only=True)
    wanted = request.GET.get("treatment", "")
    if request.method == "GET" and wanted in {t.slug for t in treatments}:
        _choose_treatment(state, wanted)
        _save(request, state)
        return redirect(_next_step(request, state, _info(state)))
    form = TreatmentForm(
        request.POST or None,
        treatments=treatments,
        initial={"treatment": state.get("treatment")},
    )
    if request.method == "POST" and form.is_valid():
        _choose_treatment(state, form.cleaned_data["treatment"])
        _save(request, state)
        return redirect(_next_step(request, state, _info(state)))
    _save(request, state)
    return render(
        request,
        "site/book/treatment.html",
        _context(request, "site:book", state, form=form, info=_info(state)),
    )


def _choose_treatment(state: dict[str, Any], slug: str) -> None:
    if state.get("treatment") != slug:
        _release_hold(state)
        for key in ("areas", "screened"):
            state.pop(key, None)
    state["treatment"] = slug


@require_http_methods(["GET", "POST"])
def areas(request: HttpRequest) -> HttpResponse:
    state, info, early = _guard(request, "site:book-areas")
    if early:
        return early
    choices = _areas_for(info)
    if not choices:
        return redirect("site:book-place")
    form = AreasForm(request.POST or None, areas=choices, initial={"areas": state.get("areas")})
    if request.method == "POST" and form.is_valid():
        state["areas"] = form.cleaned_data["areas"]
        _save(request, state)
        return redirect(_next_step(request, state, info))
    return render(
        request,
        "site/book/areas.html",
        _context(request, "site:book-areas", state, form=form, info=info),
    )


def _place_choices(info: TreatmentInfo, location_id: str | None) -> tuple[list, list, Any]:
    locations = list(locations_offering(info.treatment))
    current = next((loc for loc in locations if str(loc.pk) == str(location_id)), None)
    if current is None and locations:
        current = locations[0]
    specialists: list[tuple[str, str]] = []
    if current is not None:
        by_role = eligible_resources(info.treatment, current)
        specialists = [(r.id, r.name) for r in by_role.get(ROLE_SPECIALIST, [])]
    return [(str(loc.pk), f"{loc.name}, {loc.city}") for loc in locations], specialists, current


@require_http_methods(["GET", "POST"])
def place(request: HttpRequest) -> HttpResponse:
    state, info, early = _guard(request, "site:book-place")
    if early:
        return early
    chosen = request.POST.get("location") or request.GET.get("location") or state.get("location")
    locations, specialists, current = _place_choices(info, chosen)
    # Specialist ids from the core are 32 hex digits; the session keeps the same spelling.
    form = PlaceForm(
        request.POST or None,
        locations=locations,
        specialists=specialists,
        initial={
            "location": str(current.pk) if current else None,
            "specialist": state.get("specialist", ANYONE),
        },
    )
    if request.method == "POST" and form.is_valid():
        if (form.cleaned_data["location"], form.cleaned_data["specialist"]) != (
            state.get("location"),
            state.get("specialist"),
        ):
            _release_hold(state)
        state["location"] = form.cleaned_data["location"]
        state["specialist"] = form.cleaned_data["specialist"]
        _save(request, state)
        return redirect(_next_step(request, state, info))
    return render(
        request,
        "site/book/place.html",
        _context(
            request,
            "site:book-place",
            state,
            form=form,
            info=info,
            single_location=len(locations) == 1,
        ),
    )


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _week_slots(
    info: TreatmentInfo, location: Any, specialist: Any, monday: date, state: dict, now: datetime
) -> list[dict[str, Any]]:
    tz = location.tz
    start = datetime.combine(monday, time(0), tz)
    end = datetime.combine(monday + timedelta(days=7), time(0), tz)
    found = availability_list(
        treatment=info.treatment,
        location=location,
        window_start=start,
        window_end=end,
        now=now,
        specialist_id=specialist.pk if specialist else None,
        held_by=state["owner"],
    )
    days: dict[date, list[datetime]] = {monday + timedelta(days=i): [] for i in range(7)}
    seen: set[datetime] = set()
    for located in found:
        when = located.slot.start
        if when in seen:  # one button per time, whoever is free then
            continue
        seen.add(when)
        days.setdefault(when.astimezone(tz).date(), []).append(when)
    return [{"day": d, "times": times} for d, times in sorted(days.items())]


def _earliest_monday(
    info: TreatmentInfo, location: Any, specialist: Any, state: dict, now: datetime
) -> date | None:
    found = availability_list(
        treatment=info.treatment,
        location=location,
        window_start=now,
        window_end=now + min(EARLIEST_SEARCH, info.treatment.max_advance),
        now=now,
        specialist_id=specialist.pk if specialist else None,
        held_by=state["owner"],
    )
    if not found:
        return None
    return _monday(found[0].slot.start.astimezone(location.tz).date())


def _requested_monday(raw: str, this_monday: date, last_monday: date) -> date:
    try:
        wanted = _monday(date.fromisoformat(raw))
    except ValueError:
        return this_monday
    return min(max(wanted, this_monday), last_monday)


@require_http_methods(["GET", "POST"])
def times(request: HttpRequest) -> HttpResponse:
    """A week of available times in the clinic's zone. Choosing one holds it."""
    state, info, early = _guard(request, "site:book-time")
    if early:
        return early
    location = _location(state)
    if location is None:
        state.pop("location", None)
        _save(request, state)
        return redirect("site:book-place")
    specialist = _specialist(state)
    now = timezone.now()
    this_monday = _monday(now.astimezone(location.tz).date())
    last_monday = _monday((now + info.treatment.max_advance).astimezone(location.tz).date())
    problem: str | None = None
    alternatives: list[datetime] = []

    if request.method == "POST":
        starts_at = parse_offered_start(request.POST.get("start"))
        if starts_at is None:
            problem = _("Choose one of the times shown.")
        else:
            try:
                hold = slot_hold_create(
                    treatment=info.treatment,
                    starts_at=starts_at,
                    now=now,
                    held_by=state["owner"],
                    location=location,
                    specialist=specialist,
                    by=request.user if request.user.is_authenticated else None,
                )
            except SlotUnavailable as exc:
                problem = _(
                    "Sorry, that time has just been taken or is no longer available. "
                    "Here are the nearest times we can offer."
                )
                alternatives = [a.slot.start for a in exc.alternatives]
            except DomainError as exc:
                problem = exc.message
            else:
                state["start"] = hold.starts_at.isoformat()
                state["hold_id"] = str(hold.pk)
                state["hold_expires"] = hold.expires_at.isoformat()
                _save(request, state)
                return redirect(_next_step(request, state, info))
        monday = _requested_monday(request.POST.get("week", ""), this_monday, last_monday)
    elif request.GET.get("week") == "earliest":
        earliest = _earliest_monday(info, location, specialist, state, now)
        monday = min(earliest or this_monday, last_monday)
        if earliest is None:
            problem = _("There are no free times in the next few weeks. Please call us.")
    else:
        monday = _requested_monday(request.GET.get("week", ""), this_monday, last_monday)

    week = _week_slots(info, location, specialist, monday, state, now)
    ctx = _context(
        request,
        "site:book-time",
        state,
        info=info,
        week=week,
        monday=monday,
        sunday=monday + timedelta(days=6),
        prev_week=(monday - timedelta(days=7)) if monday > this_monday else None,
        next_week=(monday + timedelta(days=7)) if monday < last_monday else None,
        has_times=any(d["times"] for d in week),
        problem=problem,
        alternatives=alternatives,
        chosen=_start(state),
    )
    _save(request, state)
    template = "site/book/times.html"
    if request.htmx and request.method == "GET":
        template += "#week"
    return render(request, template, ctx, status=409 if alternatives else 200)


@require_http_methods(["GET", "POST"])
def details(request: HttpRequest) -> HttpResponse:
    state, info, early = _guard(request, "site:book-details")
    if early:
        return early
    client = _signed_in_client(request)
    if client is not None:
        return redirect(_next_step(request, state, info))
    today = timezone.localdate()
    initial = dict(state.get("details") or {})
    form = DetailsForm(request.POST or None, initial=initial, today=today)
    account_exists = False
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        owner = client_user_find(data["email"])
        if owner is not None and owner.pk != request.user.pk:
            # A booking made without signing in never lands in someone's existing account:
            # the answers and the appointment must be theirs (issue 4, item 9).
            account_exists = True
        else:
            state["details"] = {**data, "date_of_birth": data["date_of_birth"].isoformat()}
            _save(request, state)
            return redirect(_next_step(request, state, info))
    return render(
        request,
        "site/book/details.html",
        _context(
            request,
            "site:book-details",
            state,
            form=form,
            info=info,
            account_exists=account_exists,
            sign_in_url=reverse("accounts:sign-in") + "?next=" + reverse("site:book-details"),
        ),
    )


@require_http_methods(["GET", "POST"])
def check(request: HttpRequest) -> HttpResponse:
    """The pre-screen: DOMAIN.md 2.2 hard stops as yes/no questions. Any "yes" stops the
    booking here, kindly, and offers a free consultation instead."""
    state, info, early = _guard(request, "site:book-check")
    if early:
        return early
    if not info.treatment.requires_screening:
        return redirect(_next_step(request, state, info))
    form = PrescreenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        stops = form.hard_stops()
        if stops:
            # Nothing is booked and no answer is kept; the held time goes back at once.
            _release_hold(state)
            state.pop("screened", None)
            _save(request, state)
            return render(
                request,
                "site/book/not_suitable.html",
                _context(request, "site:book-check", state, info=info, stops=stops),
            )
        state["screened"] = True
        _save(request, state)
        return redirect(_next_step(request, state, info))
    return render(
        request,
        "site/book/check.html",
        _context(request, "site:book-check", state, form=form, info=info),
    )


@require_http_methods(["POST"])
def consultation(request: HttpRequest) -> HttpResponse:
    """Switch the booking to a free consultation, keeping the clinic and the details."""
    state = _state(request)
    _choose_treatment(state, CONSULTATION)
    _save(request, state)
    return redirect(_next_step(request, state, _info(state)))


@require_http_methods(["GET", "POST"])
def review(request: HttpRequest) -> HttpResponse:
    state, info, early = _guard(request, "site:book-review")
    if early:
        return early
    location = _location(state)
    if location is None:
        # The clinic stopped taking bookings while the client was filling in: choose again.
        state.pop("location", None)
        _save(request, state)
        return redirect("site:book-place")
    problem = None
    alternatives: list[datetime] = []
    offer_consultation = False
    if request.method == "POST":
        outcome = _confirm(request, state, info, location)
        if isinstance(outcome, HttpResponseRedirect):
            return outcome
        problem, alternatives, offer_consultation = outcome
    ctx = _context(
        request,
        "site:book-review",
        state,
        info=info,
        tp=info.page,
        details=state.get("details"),
        client=_signed_in_client(request),
        policy=site_page_get("booking"),
        problem=problem,
        alternatives=alternatives,
        offer_consultation=offer_consultation,
    )
    return render(request, "site/book/review.html", ctx, status=409 if problem else 200)


def _confirm(
    request: HttpRequest, state: dict[str, Any], info: TreatmentInfo, location: Any
) -> HttpResponseRedirect | tuple[str, list[datetime], bool]:
    now = timezone.now()
    client = _signed_in_client(request)
    created = False
    try:
        if client is None:
            d = state["details"]
            user, client, created = client_account_ensure(
                email=d["email"],
                first_name=d["first_name"],
                last_name=d["last_name"],
                phone=d["phone"],
                date_of_birth=date.fromisoformat(d["date_of_birth"]),
                now=now,
            )
        else:
            user = request.user
        notes = ""
        if state.get("areas"):
            notes = _("Areas to treat: %(areas)s") % {"areas": ", ".join(state["areas"])}
        try:
            result = appointment_book(
                client=client,
                treatment=info.treatment,
                starts_at=_start(state),
                booked_by=user,
                now=now,
                location=location,
                specialist=_specialist(state),
                # One key per held choice: a double-clicked confirm books once.
                idempotency_key=f"site-{state['owner']}-{state.get('hold_id', '')}",
                notes=notes,
                hold_id=state.get("hold_id"),
                held_by=state["owner"],
            )
        except DomainError:
            if created:  # a booking that did not go through leaves no account behind
                client_account_withdraw(user=user, now=now)
            raise
    except SlotUnavailable as exc:
        state.pop("hold_id", None)
        state.pop("hold_expires", None)
        _save(request, state)
        return (
            _(
                "Sorry, that time was taken by someone else a moment ago. Choose one of the "
                "nearest free times below; your details are kept."
            ),
            [a.slot.start for a in exc.alternatives],
            False,
        )
    except ClientContraindicated:
        return (
            _(
                "We cannot book this treatment online for you at the moment because of a note "
                "on your record from a previous visit. A free consultation is the right next "
                "step: a specialist will talk it through with you."
            ),
            [],
            True,
        )
    except DomainError as exc:
        return exc.message, [], False
    request.session.pop(SESSION_KEY, None)
    request.session[DONE_KEY] = {"appointment": str(result.appointment.pk), "created": created}
    return redirect("site:book-done")


def done(request: HttpRequest) -> HttpResponse:
    record = request.session.get(DONE_KEY)
    if not isinstance(record, dict):
        return redirect("site:book")
    try:
        appointment = appointment_get(record["appointment"])
    except NotFound:
        return redirect("site:book")
    try:
        info = treatment_info_get(appointment.treatment.slug)
    except NotFound:  # withdrawn since: the booking stands, without the treatment's page notes
        info = None
    return render(
        request,
        "site/book/done.html",
        {
            "appointment": appointment,
            "info": info,
            "tp": info.page if info else None,
            "account_created": record.get("created"),
        },
    )
