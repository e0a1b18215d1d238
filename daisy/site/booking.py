"""The booking flow at /book/: treatment -> areas -> clinic and specialist -> a week of times
(the chosen time is held) -> details -> pre-screen -> review -> confirm.

Every step is a plain GET/POST form that works without JavaScript; htmx only swaps the week of
times in place. What the client has chosen lives in their session, never in a URL (no personal
data in addresses or logs). The held time is owned by a random key kept in the session, so it
survives signing in mid-way (Django keeps session data when it rotates the session key).

Holds are bounded (DESIGN.md 4): a visitor who is not signed in holds their time for a few
minutes until they give their details, when the hold is extended (`_keep_time`); holds are
limited per client address, network and account; and staff may book over such a visitor's
hold, who is then told at their next step that the time went, with the nearest free times."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.dateformat import format as date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from daisy.aftercare.selectors import precare_ready_at, precare_steps_too_soon
from daisy.booking.eligibility import needling_session_days
from daisy.booking.services import (
    appointment_book,
    slot_hold_create,
    slot_hold_extend,
    slot_hold_limit,
    slot_hold_release,
)
from daisy.lib.addresses import client_address
from daisy.lib.errors import ClientContraindicated, DomainError, NotFound, SlotUnavailable
from daisy.lib.times import parse_offered_start
from daisy.scheduling.selectors import (
    appointment_get,
    availability_list,
)
from daisy.scheduling.services import DAY_SHARE_REACHED
from daisy.site.forms import (
    ANYONE,
    AreasForm,
    PlaceForm,
    TreatmentForm,
)
from daisy.site.selectors import TreatmentInfo, site_page_get, treatment_info_get
from daisy.site.selectors import treatment_info_list as _treatment_info_list
from daisy.site.templatetags.daisy_time import local_time, zone_name
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
from daisy.treatments.selectors import MIN_SESSION_GAP_DAYS

SESSION_KEY = "booking"
DONE_KEY = "booking_done"
CONSULTATION = "consultation"
# How far ahead the time step looks for the first day with free times.
EARLIEST_SEARCH = timedelta(weeks=8)
# How long before a hold ends the page warns, with a button to keep the time longer (WCAG 2.2.1).
HOLD_WARNING = timedelta(minutes=1)
HOLD_KEYS = ("start", "hold_id", "hold_expires", "hold_limit")

STEPS: list[tuple[str, Any]] = [
    ("site:book", gettext_lazy("Treatment")),
    ("site:book-areas", gettext_lazy("Areas")),
    ("site:book-place", gettext_lazy("Clinic")),
    ("site:book-time", gettext_lazy("Time")),
    ("site:book-details", gettext_lazy("Your details")),
    ("site:book-check", gettext_lazy("Health check")),
    ("site:book-review", gettext_lazy("Review")),
]


# --- the booking in the session ---------------------------------------------------------------


def _info(state: dict[str, Any]) -> TreatmentInfo | None:
    slug = state.get("treatment")
    if not slug:
        return None
    try:
        return treatment_info_get(slug)
    except NotFound:
        return None


def _next_step(request: HttpRequest, state: dict[str, Any], info: TreatmentInfo | None) -> str:
    """The first step that still needs an answer."""
    if info is None or not info.treatment.is_online_bookable:
        return "site:book"
    if areas_for(info) and not state.get("areas"):
        return "site:book-areas"
    if not state.get("location"):
        return "site:book-place"
    if not state.get("start"):
        return "site:book-time"
    if not state.get("details") and signed_in_client(request) is None:
        return "site:book-details"
    if info.treatment.requires_screening and not state.get("screened"):
        return "site:book-check"
    return "site:book-review"


def _hidden_steps(request: HttpRequest, info: TreatmentInfo | None) -> set[str]:
    if info is None:
        return set()
    hidden = set()
    if not areas_for(info):
        hidden.add("site:book-areas")
    if not info.treatment.requires_screening:
        hidden.add("site:book-check")
    return hidden


def _more_context(state: dict[str, Any]) -> dict[str, Any]:
    hold_expires = _when(state, "hold_expires")
    hold_limit = _when(state, "hold_limit")
    return {
        "hold_expires": hold_expires,
        # More time can be asked for while the hold has not reached its limit.
        "hold_can_extend": bool(hold_expires and hold_limit and hold_expires < hold_limit),
        "hold_warn_seconds": HOLD_WARNING.seconds,
        # Counted down from when the page was made, not by the device's clock (which may be off).
        "hold_seconds_left": max(0, int((hold_expires - timezone.now()).total_seconds()))
        if hold_expires
        else 0,
        "start": _start(state),
    }


def _when(state: dict[str, Any], key: str) -> datetime | None:
    raw = state.get(key)
    try:
        return datetime.fromisoformat(raw) if raw else None
    except (TypeError, ValueError):
        return None


def _start(state: dict[str, Any]) -> datetime | None:
    raw = state.get("start")
    return datetime.fromisoformat(raw) if raw else None


def _session_day(state: dict[str, Any]) -> date | None:
    start = _start(state)
    location = location_of(state)
    return start.astimezone(location.tz).date() if start and location else None


WIZARD = Wizard(
    session_key=SESSION_KEY,
    steps=STEPS,
    info=_info,
    next_step=_next_step,
    hidden_steps=_hidden_steps,
    more_context=_more_context,
    session_day=_session_day,
)


def _release_hold(state: dict[str, Any]) -> None:
    hold_id = state.get("hold_id")
    for key in HOLD_KEYS:
        state.pop(key, None)
    if hold_id:
        slot_hold_release(hold_id=hold_id, held_by=state["owner"], now=timezone.now())


def _is_staff(request: HttpRequest) -> bool:
    return bool(getattr(request.user, "is_clinic_staff", False))


def _hold(
    request: HttpRequest,
    state: dict[str, Any],
    info: TreatmentInfo,
    location: Any,
    starts_at: datetime,
    now: datetime,
) -> Any:
    """Hold `starts_at` for this visitor (raises what slot_hold_create raises)."""
    hold = slot_hold_create(
        treatment=info.treatment,
        starts_at=starts_at,
        now=now,
        held_by=state["owner"],
        location=location,
        specialist=specialist_of(state),
        by=request.user if request.user.is_authenticated else None,
        client=signed_in_client(request),
        address=client_address(request),
        has_details=bool(state.get("details")),
    )
    state["start"] = hold.starts_at.isoformat()
    state["hold_id"] = str(hold.pk)
    state["hold_expires"] = hold.expires_at.isoformat()
    state["hold_limit"] = slot_hold_limit(hold).isoformat()
    return hold


def _time_gone(location: Any, lost: datetime | None, lapsed_at: datetime | None = None) -> str:
    """What a visitor whose time went reads. `lapsed_at`: when their hold ran out, if it had
    (then the time was free for anyone to take); otherwise someone (the clinic, say) booked it
    while they were still holding it."""
    if lost is not None and lapsed_at is not None:
        return _(
            "We held %(when)s for you until %(until)s. Holds end after a few minutes so that "
            "others can book too, and once yours ended someone else booked that time. Please "
            "choose another time; here are the nearest free ones. Your details are kept."
        ) % {
            "when": local_time(lost, location),
            "until": local_time(lapsed_at, location),
        }
    if lost is None:
        return _(
            "Sorry, the time you chose is no longer free: someone else took it while you were "
            "filling in the form. Please choose another time; here are the nearest free ones. "
            "Your details are kept."
        )
    return _(
        "Sorry, the time you chose (%(when)s) is no longer free: someone else took it while you "
        "were filling in the form. Please choose another time; here are the nearest free ones. "
        "Your details are kept."
    ) % {"when": local_time(lost, location)}


def _keep_time(
    request: HttpRequest,
    state: dict[str, Any],
    info: TreatmentInfo,
    location: Any,
    *,
    renew: bool = False,
) -> tuple[str, list[datetime]] | None:
    """The chosen time is still this visitor's: their hold now runs its full time (they have
    given their details; with `renew`, they asked for more time), or, if it lapsed or was let
    go, the time is held again while it is still free. Otherwise the time is forgotten and
    (what to tell them, the nearest free times) returned; the caller shows it at once, so
    nobody fills in more for a time that went."""
    start = _start(state)
    if start is None:
        return None
    now = timezone.now()
    if state.get("hold_id"):
        kept = slot_hold_extend(
            hold_id=state["hold_id"],
            held_by=state["owner"],
            now=now,
            renew=renew,
            has_details=bool(state.get("details")),
        )
        if kept is not None:
            state["hold_expires"] = kept.expires_at.isoformat()
            return None
    expires = _when(state, "hold_expires")
    lapsed_at = expires if expires is not None and expires <= now else None
    try:
        _hold(request, state, info, location, start, now)
    except SlotUnavailable as exc:
        if exc.code == DAY_SHARE_REACHED:
            message = exc.message
        else:
            message = _time_gone(location, start, lapsed_at)
        outcome = (message, [a.slot.start for a in exc.alternatives])
    except DomainError as exc:
        outcome = (exc.message, [])
    else:
        return None
    for key in HOLD_KEYS:
        state.pop(key, None)
    return outcome


# --- steps -------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def book(request: HttpRequest) -> HttpResponse:
    """Step 1: the treatment. `?treatment=<slug>` (the "Book" button on a treatment page)
    preselects it and goes straight on."""
    state = WIZARD.state(request)
    treatments = _treatment_info_list(bookable_only=True)
    wanted = request.GET.get("treatment", "")
    if request.method == "GET" and wanted in {t.slug for t in treatments}:
        _choose_treatment(state, wanted)
        WIZARD.save(request, state)
        return WIZARD.go_on(request, state, _info(state))
    form = TreatmentForm(
        request.POST or None,
        treatments=treatments,
        initial={"treatment": state.get("treatment")},
    )
    if request.method == "POST" and form.is_valid():
        _choose_treatment(state, form.cleaned_data["treatment"])
        WIZARD.save(request, state)
        return WIZARD.go_on(request, state, _info(state))
    WIZARD.save(request, state)
    return render(
        request,
        "site/book/treatment.html",
        WIZARD.context(request, "site:book", state, form=form, info=_info(state)),
    )


def _choose_treatment(state: dict[str, Any], slug: str) -> None:
    if state.get("treatment") != slug:
        _release_hold(state)
        for key in ("areas", "screened"):
            state.pop(key, None)
    state["treatment"] = slug


@require_http_methods(["GET", "POST"])
def areas(request: HttpRequest) -> HttpResponse:
    state, info, early = WIZARD.guard(request, "site:book-areas")
    if early:
        return early
    choices = areas_for(info)
    if not choices:
        return redirect("site:book-place")
    form = AreasForm(request.POST or None, areas=choices, initial={"areas": state.get("areas")})
    if request.method == "POST" and form.is_valid():
        state["areas"] = form.cleaned_data["areas"]
        WIZARD.save(request, state)
        return WIZARD.go_on(request, state, info)
    return render(
        request,
        "site/book/areas.html",
        WIZARD.context(request, "site:book-areas", state, form=form, info=info),
    )


@require_http_methods(["GET", "POST"])
def place(request: HttpRequest) -> HttpResponse:
    state, info, early = WIZARD.guard(request, "site:book-place")
    if early:
        return early
    chosen = request.POST.get("location") or request.GET.get("location") or state.get("location")
    locations, specialists, current = place_choices(info, chosen)
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
        WIZARD.save(request, state)
        return WIZARD.go_on(request, state, info)
    return render(
        request,
        "site/book/place.html",
        WIZARD.context(
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


def _local_midnight(day: date, location: Any) -> datetime:
    return datetime.combine(day, time(0), location.tz)


@dataclass(frozen=True)
class Picker:
    """What the time step shows: a strip of seven days (Monday to Sunday, each with how many
    times are free), one chosen day's times, and what the date jump may reach."""

    strip: list[dict[str, Any]]
    day: date
    times: list[dict[str, Any]]
    first_day: date
    last_day: date
    moved_from: date | None  # the day asked for had no free times; `day` is the next that has
    # The first day that leaves room for all of the treatment's preparation (a client's own
    # booking); None when that is today. The strip opens there, and earlier days say why.
    ready_from: date | None = None
    # A signed-in client's other needling sessions whose 28-day gap takes days out of the
    # strip shown (DOMAIN.md 1.2): the page says why those days have no times.
    apart_from: tuple[date, ...] = ()


def _week_times(
    info: TreatmentInfo,
    location: Any,
    specialist: Any,
    monday: date,
    state: dict,
    now: datetime,
    for_staff: bool,
    apart_from: Sequence[date] = (),
) -> dict[date, list[datetime]]:
    """The free starts of one week (Monday to Sunday, local), one per time whoever is free,
    leaving out the days less than 28 days from a session in `apart_from` (DOMAIN.md 1.2)."""
    found = availability_list(
        treatment=info.treatment,
        location=location,
        window_start=_local_midnight(monday, location),
        window_end=_local_midnight(monday + timedelta(days=7), location),
        now=now,
        specialist_id=specialist.pk if specialist else None,
        held_by=state["owner"],
        # Staff book over the holds of visitors who are not signed in, so they see those times.
        over_anonymous_holds=for_staff,
    )
    days: dict[date, list[datetime]] = {monday + timedelta(days=i): [] for i in range(7)}
    seen: set[datetime] = set()
    for located in found:
        when = located.slot.start
        if when in seen:  # one button per time, whoever is free then
            continue
        seen.add(when)
        day = when.astimezone(location.tz).date()
        if _too_close(day, apart_from):
            continue
        days.setdefault(day, []).append(when)
    return days


def _join_days(days: Sequence[date]) -> str:
    words = [date_format(d, "l j F Y") for d in days]
    if len(words) < 2:
        return "".join(words)
    return _("%(days)s and %(last)s") % {"days": ", ".join(words[:-1]), "last": words[-1]}


def _too_close(day: date, apart_from: Sequence[date]) -> bool:
    return any(abs((day - other).days) < MIN_SESSION_GAP_DAYS for other in apart_from)


def _labelled(times: list[datetime], day: date, location: Any, chosen: datetime | None) -> list:
    """Each time's words, made once here rather than by a template filter per button: the
    clock ("10:00") and what a screen reader says ("Mon 7 Jan 2030, 10:00 London time")."""
    tz, zone = location.tz, zone_name(location)
    day_words = date_format(day, "D j M Y")
    out = []
    for when in times:
        clock = when.astimezone(tz).strftime("%H:%M")
        out.append(
            {
                "iso": when.isoformat(),
                "clock": clock,
                "label": _("%(day)s, %(time)s %(zone)s time")
                % {"day": day_words, "time": clock, "zone": zone},
                "is_chosen": when == chosen,
            }
        )
    return out


def _picker(
    info: TreatmentInfo,
    location: Any,
    specialist: Any,
    state: dict,
    now: datetime,
    wanted: date | None,
    for_staff: bool,
    client: Any = None,
) -> Picker:
    """The day asked for, or the first day from it that has free times (looking ahead up to
    EARLIEST_SEARCH), shown in its week's strip. Most questions read one week; a search past
    an empty week reads one more week at a time and stops at the first free day."""
    tz = location.tz
    first_day = now.astimezone(tz).date()
    last_day = (now + info.treatment.max_advance).astimezone(tz).date()
    ready_from: date | None = None
    if not for_staff:
        # A client's own booking opens on the first day that leaves every preparation step its
        # full time ("no sun from 2 weeks before"): the default path never lands on a time the
        # preparation rules forbid. Earlier days stay one tap away for a client who already
        # follows the steps (the review page then asks them to confirm each one).
        ready_at = precare_ready_at(treatment=info.treatment, now=now, tz=tz).astimezone(tz)
        # The first whole day: a time earlier on the ready day itself would still be too soon.
        ready = ready_at.date() + timedelta(days=1 if ready_at.time() != time.min else 0)
        if ready > first_day:
            ready_from = min(ready, last_day)
    # A signed-in client's own booking: no day less than 28 days from their other needling
    # sessions (the booking would refuse it; staff can book one with a clinician's reason).
    apart = (
        needling_session_days(client, treatment=info.treatment, tz=tz)
        if client is not None and not for_staff
        else []
    )
    day = min(max(wanted or ready_from or first_day, first_day), last_day)
    asked = day
    monday = _monday(day)
    weeks = _week_times(info, location, specialist, monday, state, now, for_staff, apart)
    strip_days = weeks
    found = next((d for d in sorted(weeks) if d >= day and weeks[d]), None)
    horizon = min(last_day, day + EARLIEST_SEARCH)
    while found is None and monday + timedelta(days=7) <= horizon:
        monday += timedelta(days=7)
        weeks = _week_times(info, location, specialist, monday, state, now, for_staff, apart)
        found = next((d for d in sorted(weeks) if weeks[d]), None)
        if found is not None:
            strip_days = weeks
    if found is not None:
        day = found
    chosen = _start(state)
    # Each day's words made once here, not by template filters (seven days, six words each).
    strip = [
        {
            "day": d,
            "iso": d.isoformat(),
            "dow": date_format(d, "D"),
            "month": date_format(d, "M"),
            "words": date_format(d, "l j F"),
            "count": len(strip_days[d]),
            "is_selected": d == day,
            "is_open": first_day <= d <= last_day,
        }
        for d in sorted(strip_days)
    ]
    return Picker(
        strip=strip,
        day=day,
        times=_labelled(strip_days.get(day, []), day, location, chosen),
        first_day=first_day,
        last_day=last_day,
        moved_from=asked if found is not None and found != asked and wanted else None,
        ready_from=ready_from,
        apart_from=tuple(
            other
            for other in apart
            if any(
                _too_close(d, [other]) for d in [asked, *strip_days] if first_day <= d <= last_day
            )
        ),
    )


def _wanted_day(raw: str | None) -> date | None:
    try:
        return date.fromisoformat((raw or "").strip()[:10])
    except ValueError:
        return None


@require_http_methods(["GET", "POST"])
def times(request: HttpRequest) -> HttpResponse:
    """One day's free times in the clinic's zone, under a strip of that week's days and a date
    jump; it opens on the first day with free times. Choosing a time holds it.

    `?day=YYYY-MM-DD` asks for a day (the strip's links, the date jump); a day with no free
    times shows the next one that has some, and says so. `?week=` is read the same way (older
    links), and `?week=earliest` as no day at all."""
    state, info, early = WIZARD.guard(request, "site:book-time")
    if early:
        return early
    location = WIZARD.location(request, state)
    specialist = WIZARD.specialist(request, state)
    now = timezone.now()
    problem: str | None = None
    alternatives: list[datetime] = []
    for_staff = _is_staff(request)
    status = 200
    source = request.POST if request.method == "POST" else request.GET
    wanted = _wanted_day(source.get("day") or source.get("week"))

    if request.method == "POST":
        starts_at = parse_offered_start(request.POST.get("start"))
        if starts_at is None:
            problem = _("Choose one of the times shown.")
        else:
            try:
                _hold(request, state, info, location, starts_at, now)
            except SlotUnavailable as exc:
                if exc.code == DAY_SHARE_REACHED:
                    problem = exc.message
                else:
                    problem = _(
                        "Sorry, that time has just been taken or is no longer available. "
                        "Here are the nearest times we can offer."
                    )
                alternatives = [a.slot.start for a in exc.alternatives]
                status = 409 if alternatives else 200
            except DomainError as exc:
                problem = exc.message
                status = exc.http_status if exc.http_status == 429 else 200
            else:
                WIZARD.save(request, state)
                return WIZARD.go_on(request, state, info)
    elif isinstance(state.get("time_gone"), dict):
        # The time chosen earlier went while the visitor filled in the form (_keep_time).
        gone = state.pop("time_gone")
        problem = str(gone.get("problem", ""))
        alternatives = [
            t for t in (parse_offered_start(raw) for raw in gone.get("alternatives", [])) if t
        ]
        lost = parse_offered_start(gone.get("start"))
        wanted = lost.astimezone(location.tz).date() if lost else None

    picker = _picker(
        info, location, specialist, state, now, wanted, for_staff, signed_in_client(request)
    )
    if not any(d["count"] for d in picker.strip) and not problem:
        problem = _(
            "There are no free times in the next few weeks. Please call us and we will find "
            "you a time."
        )
    day_words = date_format(picker.day, "l j F Y")
    ctx = WIZARD.context(
        request,
        "site:book-time",
        state,
        info=info,
        picker=picker,
        day_words=day_words,
        moved_from_words=date_format(picker.moved_from, "l j F") if picker.moved_from else "",
        ready_from_words=date_format(picker.ready_from, "l j F") if picker.ready_from else "",
        apart_from_words=_join_days(picker.apart_from),
        min_gap_days=MIN_SESSION_GAP_DAYS,
        prev_week=_monday(picker.day) - timedelta(days=7)
        if _monday(picker.day) > _monday(picker.first_day)
        else None,
        next_week=_monday(picker.day) + timedelta(days=7)
        if _monday(picker.day) < _monday(picker.last_day)
        else None,
        problem=problem,
        alternatives=_labelled_any(alternatives, location),
    )
    WIZARD.save(request, state)
    template = "site/book/times.html"
    if request.htmx and request.method == "GET":
        template += "#picker"
    return render(request, template, ctx, status=status)


def _labelled_any(times: list[datetime], location: Any) -> list[dict[str, Any]]:
    return [{"iso": t.isoformat(), "label": local_time(t, location)} for t in times]


@require_http_methods(["GET", "POST"])
def details(request: HttpRequest) -> HttpResponse:
    return WIZARD.details(
        request,
        "site:book-details",
        "site/book/details.html",
        invalid_status=200,
        then=_details_given,
    )


def _details_given(request: HttpRequest, state: dict[str, Any], info: Any) -> HttpResponse | None:
    """The details are in: the short hold of a visitor who is not signed in now runs its full
    time. If the time went meanwhile (booked by the clinic, say), they choose again now."""
    location = WIZARD.location(request, state)
    if location is None:
        return None
    return _time_kept_or_choose_again(request, state, info, location)


def _time_kept_or_choose_again(
    request: HttpRequest, state: dict[str, Any], info: Any, location: Any, *, renew: bool = False
) -> HttpResponse | None:
    """None when the visitor still has their time (_keep_time); else back to the times, which
    say plainly that it went and offer the nearest free ones."""
    lost = state.get("start")
    gone = _keep_time(request, state, info, location, renew=renew)
    if gone is not None:
        problem, alternatives = gone
        state["time_gone"] = {
            "problem": problem,
            "alternatives": [t.isoformat() for t in alternatives],
            "start": lost,
        }
    WIZARD.save(request, state)
    return None if gone is None else redirect("site:book-time")


# The steps a held time is shown on, with its countdown and "Keep this time for longer".
HOLD_STEPS = {
    "/book/details/": "site:book-details",
    "/book/health-check/": "site:book-check",
    "/book/review/": "site:book-review",
}


@require_http_methods(["POST"])
def hold_more(request: HttpRequest) -> HttpResponse:
    """More time on the held time (WCAG 2.2.1: a warning before it ends, and a way to extend
    it): a fresh hold time from now, up to the hold's limit. If the hold has already ended the
    time is held again while it is still free; if someone took it meanwhile, the times page says
    so and offers the nearest free ones. htmx gets the hold's notice back; without JavaScript
    the visitor returns to the step they were on."""
    state = WIZARD.state(request)
    info = _info(state)
    location = WIZARD.location(request, state)
    back = str(request.POST.get("step", ""))
    step = HOLD_STEPS.get(back, "site:book-details")
    if info is None or location is None or _start(state) is None:
        return redirect("site:book-time" if info is not None else "site:book")
    instead = _time_kept_or_choose_again(request, state, info, location, renew=True)
    if instead is not None:
        if request.htmx:
            # The notice cannot say this in place: the whole times page does.
            response = HttpResponse(status=204)
            response["HX-Redirect"] = instead["Location"]
            return response
        return instead
    if request.htmx:
        ctx = WIZARD.context(request, step, state, info=info, hold_step=back, hold_extended=True)
        return render(request, "site/book/_held.html", ctx)
    return redirect(step)


def _wait_for(
    request: HttpRequest, state: dict[str, Any], info: TreatmentInfo, until: date
) -> HttpResponse | None:
    """The answers call for a wait until `until`: a time held before it is let go, and the
    client chooses again in that week, told why; the answers are kept."""
    start = _start(state)
    location = WIZARD.location(request, state)
    if start is None or location is None or start.astimezone(location.tz).date() >= until:
        return None
    _release_hold(state)
    first = datetime.combine(until, time(9, 0), tzinfo=location.tz)
    state["time_gone"] = {
        "problem": _(
            "From your answers, your skin needs a little longer before this treatment: the "
            "first possible day is %(day)s. Please choose a time from then."
        )
        % {"day": formats.date_format(until, "l j F Y")},
        "alternatives": [],
        "start": first.isoformat(),
    }
    WIZARD.save(request, state)
    return redirect("site:book-time")


@require_http_methods(["GET", "POST"])
def check(request: HttpRequest) -> HttpResponse:
    """The pre-screen: DOMAIN.md 2.2 hard stops as yes/no questions. Any "yes" stops the
    booking here, kindly, and offers a free consultation instead."""
    # Nothing is booked and no answer is kept; the held time goes back at once.
    return WIZARD.check(
        request,
        "site:book-check",
        "site/book/check.html",
        "site/book/not_suitable.html",
        let_go=_release_hold,
        invalid_status=200,
        wait=_wait_for,
    )


@require_http_methods(["POST"])
def consultation(request: HttpRequest) -> HttpResponse:
    """Switch the booking to a free consultation, keeping the clinic and the details."""
    state = WIZARD.state(request)
    _choose_treatment(state, CONSULTATION)
    WIZARD.save(request, state)
    return WIZARD.go_on(request, state, _info(state))


@require_http_methods(["GET", "POST"])
def review(request: HttpRequest) -> HttpResponse:
    state, info, early = WIZARD.guard(request, "site:book-review")
    if early:
        return early
    location = WIZARD.location(request, state)
    problem = None
    alternatives: list[datetime] = []
    offer_consultation = False
    if request.method == "GET":
        # Told now, not after "Confirm", if the time went while they answered the questions.
        instead = _time_kept_or_choose_again(request, state, info, location)
        if instead is not None:
            return instead
    if request.method == "POST":
        outcome = _confirm(request, state, info, location)
        if isinstance(outcome, HttpResponseRedirect):
            return outcome
        problem, alternatives, offer_consultation = outcome
    precare = _precare(state, info, location)
    ctx = WIZARD.context(
        request,
        "site:book-review",
        state,
        info=info,
        tp=info.page,
        details=state.get("details"),
        client=signed_in_client(request),
        policy=site_page_get("booking"),
        problem=problem,
        alternatives=alternatives,
        offer_consultation=offer_consultation,
        precare_late=precare[0],
        precare_ready=precare[1],
        precare_checked=set(request.POST.getlist("precare")),
    )
    return render(request, "site/book/review.html", ctx, status=409 if problem else 200)


def _precare(state: dict[str, Any], info: Any, location: Any) -> tuple[list[Any], Any]:
    """The pre-care steps the chosen time is too soon for, and the first time that leaves
    room for all of them (issue 12): the review page asks the client about each."""
    start = state.get("start")
    if not start or location is None:
        return [], None
    now = timezone.now()
    late = precare_steps_too_soon(
        treatment=info.treatment, starts_at=_start(state), tz=location.tz, now=now
    )
    if not late:
        return [], None
    return late, precare_ready_at(treatment=info.treatment, now=now, tz=location.tz)


def _confirm(
    request: HttpRequest, state: dict[str, Any], info: TreatmentInfo, location: Any
) -> HttpResponseRedirect | tuple[str, list[datetime], bool]:
    now = timezone.now()
    client = signed_in_client(request)
    created = False
    try:
        notes = ""
        if state.get("areas"):
            notes = _("Areas to treat: %(areas)s") % {"areas": ", ".join(state["areas"])}
        # The guest's account and the booking commit together or not at all: a booking that
        # fails leaves no account and sends no "confirm your email".
        with transaction.atomic():
            user, client, created = booking_client(request, state, client, now)
            result = appointment_book(
                client=client,
                treatment=info.treatment,
                starts_at=_start(state),
                booked_by=user,
                now=now,
                location=location,
                specialist=specialist_of(state),
                # One key per held choice: a double-clicked confirm books once.
                idempotency_key=f"site-{state['owner']}-{state.get('hold_id', '')}",
                notes=notes,
                hold_id=state.get("hold_id"),
                held_by=state["owner"],
                prescreen=prescreen_answers(state),
                precare_confirmed=[k for k in request.POST.getlist("precare") if k.isdigit()],
            )
    except SlotUnavailable as exc:
        expires = _when(state, "hold_expires")
        for key in ("hold_id", "hold_expires", "hold_limit"):
            state.pop(key, None)
        WIZARD.save(request, state)
        return (
            _time_gone(location, _start(state), expires if expires and expires <= now else None),
            [a.slot.start for a in exc.alternatives],
            False,
        )
    except ClientContraindicated as exc:
        return stop_message(request, exc, course=False), [], True
    except DomainError as exc:
        return exc.message, [], False
    request.session.pop(SESSION_KEY, None)
    done_record_keep(
        request,
        DONE_KEY,
        client=client,
        user=user,
        appointment=str(result.appointment.pk),
        created=created,
    )
    return redirect("site:book-done")


def done(request: HttpRequest) -> HttpResponse:
    record = done_record(request, DONE_KEY)
    if record is None:
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


# --- "Book again": a returning client's shortcut from the portal ------------------------------

# How many of the nearest free times the portal offers on its "Book again" card.
AGAIN_TIMES = 4


def _again_choices(appointment: Any) -> dict[str, Any] | None:
    """What to book again: the same treatment, areas, clinic and specialist as `appointment`,
    or None when that treatment is no longer booked online (or the clinic no longer offers it)."""
    try:
        info = treatment_info_get(appointment.treatment.slug)
    except NotFound:
        return None
    if not info.treatment.is_online_bookable:
        return None
    locations, specialists, location = place_choices(info, str(appointment.location_id))
    if location is None or location.pk != appointment.location_id:
        return None
    areas: list[str] = []
    prefix = _("Areas to treat: %(areas)s") % {"areas": ""}
    if appointment.notes.startswith(prefix):
        offered = set(areas_for(info))
        areas = [a for a in appointment.notes[len(prefix) :].split(", ") if a in offered]
    specialist = ANYONE
    if appointment.specialist_id and appointment.specialist_id.hex in {s for s, _n in specialists}:
        specialist = appointment.specialist_id.hex
    if areas_for(info) and not areas:
        return None  # cannot say which areas: the client chooses them in the full flow
    return {
        "info": info,
        "location": location,
        "state": {
            "treatment": info.slug,
            "areas": areas,
            "location": str(location.pk),
            "specialist": specialist,
        },
    }


def again_offer(*, client: Any, appointments: list[Any], now: datetime) -> dict[str, Any] | None:
    """The portal's "Book again" card: the client's latest appointment that was not cancelled
    (the last past one, else the last upcoming), and the nearest free times for the same
    treatment at the same clinic with the same specialist (one day's, the first that has any)."""
    kept = [a for a in appointments if a.status != "cancelled"]
    past = [a for a in kept if a.starts_at < now]
    latest = (past or kept or [None])[-1]
    if latest is None:
        return None
    choices = _again_choices(latest)
    if choices is None:
        return None
    location = choices["location"]
    state = {"owner": "", **choices["state"]}
    specialist = specialist_of(state)
    picker = _picker(choices["info"], location, specialist, state, now, None, False, client)
    return {
        "appointment": latest,
        "treatment": choices["info"].treatment,
        "location": location,
        "specialist_name": specialist.name if specialist else None,
        "areas": choices["state"]["areas"],
        "day_words": date_format(picker.day, "l j F"),
        "times": picker.times[:AGAIN_TIMES],
    }


@require_http_methods(["GET", "POST"])
def again(request: HttpRequest) -> HttpResponse:
    """Book again what a signed-in client had before (the portal's "Book again"): the
    treatment, areas, clinic and specialist are filled in; a time chosen on the portal is held
    at once (then the health questions and Confirm: three clicks in all), and without one the
    client chooses on the times page."""
    client = signed_in_client(request)
    if client is None:
        return redirect(reverse("accounts:sign-in") + "?next=" + reverse("portal:home"))
    source = request.POST if request.method == "POST" else request.GET
    try:
        appointment = appointment_get(source.get("appointment", ""))
    except (NotFound, ValueError, ValidationError):
        raise Http404 from None
    if appointment.client_id != client.pk:
        raise Http404
    choices = _again_choices(appointment)
    if choices is None:
        return redirect("site:book")
    state = WIZARD.state(request)
    _release_hold(state)
    state = {"owner": state["owner"], **choices["state"]}
    starts_at = parse_offered_start(source.get("start"))
    if request.method == "POST" and starts_at is not None:
        try:
            _hold(request, state, choices["info"], choices["location"], starts_at, timezone.now())
        except SlotUnavailable as exc:
            state["time_gone"] = {
                "problem": exc.message
                if exc.code == DAY_SHARE_REACHED
                else _(
                    "Sorry, that time has just been taken. Here are the nearest times we can offer."
                ),
                "alternatives": [a.slot.start.isoformat() for a in exc.alternatives],
                "start": starts_at.isoformat(),
            }
        except DomainError as exc:
            state["time_gone"] = {"problem": exc.message, "alternatives": [], "start": None}
    WIZARD.save(request, state)
    if state.get("time_gone"):
        return redirect("site:book-time")
    return WIZARD.go_on(request, state, choices["info"])
