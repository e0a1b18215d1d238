"""The front desk (issue 13): the diary and the desk's actions, for clinic staff.

Views are thin (DESIGN.md 6): they read the request, call one selector or one service from
`daisy.booking`, and render; a refusal becomes a message on the page. Every page works without
JavaScript; with htmx, the diary redraws itself when another desk changes something."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from daisy.backoffice.access import staff_required
from daisy.backoffice.desk_consent import panel_consent
from daisy.backoffice.forms import (
    BookForm,
    CancelForm,
    ChoiceForm,
    MoveForm,
    NewClientForm,
    NoteForm,
    StatusForm,
)
from daisy.booking import services as booking
from daisy.booking.diary import (
    DESK_STATUS_LABELS,
    DESK_STATUSES,
    MODE_ROOMS,
    MODE_SPECIALISTS,
    NEXT_STATUSES,
    desk_client_search,
    desk_default_location,
    desk_free_times,
    desk_locations,
    desk_next_open_day,
    desk_specialist_of,
    desk_specialists,
    diary_appointment,
    diary_day,
    diary_version,
    diary_week,
    free_time_of,
)
from daisy.clients.selectors import client_get, client_possible_duplicates
from daisy.clients.services import client_view_record
from daisy.clinic.selectors import specialist_get
from daisy.courses.selectors import plan_for_appointment
from daisy.lib.errors import DomainError, NotFound, SlotUnavailable
from daisy.records.charting import CHARTABLE, chart_states_for
from daisy.records.gate import needling_gate
from daisy.records.selectors import needling_overrides_list, rescreen_for_appointment
from daisy.scheduling.selectors import location_get
from daisy.treatments.selectors import treatment_list_public

# How often an open diary asks whether anything changed (issue 13, item 7: within 5 seconds).
POLL_SECONDS = 4
EVERYONE = "all"


def _day(raw: str | None, location: Any) -> date:
    if raw is None:
        return timezone.now().astimezone(location.tz).date()
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise Http404 from None


def _location(request: HttpRequest) -> Any:
    raw = request.GET.get("location") or request.POST.get("location")
    if raw:
        try:
            return location_get(raw)
        except (NotFound, ValueError, Exception):
            raise Http404 from None
    location = desk_default_location(request.user)
    if location is None:
        raise Http404
    return location


def _who(request: HttpRequest) -> str:
    """Whose column(s): a specialist opens on their own, everyone else on everyone."""
    raw = request.GET.get("who")
    if raw:
        return raw
    own = desk_specialist_of(request.user)
    return str(own) if own else EVERYONE


def _query(location: Any, mode: str, who: str) -> str:
    parts = [f"location={location.pk}"]
    if mode != MODE_SPECIALISTS:
        parts.append(f"view={mode}")
    if who != EVERYONE:
        parts.append(f"who={who}")
    return "?" + "&".join(parts)


def _diary_context(request: HttpRequest, on: str | None) -> dict[str, Any]:
    location = _location(request)
    day = _day(on, location)
    mode = MODE_ROOMS if request.GET.get("view") == MODE_ROOMS else MODE_SPECIALISTS
    who = _who(request)
    now = timezone.now()
    data = diary_day(location=location, on=day, now=now, mode=mode)
    everyone = [(c.id, c.name) for c in data.columns if c.kind == "specialist"]
    if mode == MODE_SPECIALISTS and who != EVERYONE:
        shown = [c for c in data.columns if str(c.id) == who]
        if shown:
            data.columns = shown
            for i, column in enumerate(shown, start=2):
                column.index = i
        else:
            who = EVERYONE
    query = _query(location, mode, who)
    today = now.astimezone(location.tz).date()
    return {
        "diary": data,
        "day": day,
        "today": today,
        "is_today": day == today,
        "mode": mode,
        "who": who,
        "everyone": everyone,
        "own_specialist": desk_specialist_of(request.user),
        "locations": desk_locations(),
        "location": location,
        "query": query,
        "prev_day": day - timedelta(days=1),
        "next_day": day + timedelta(days=1),
        "poll_seconds": POLL_SECONDS,
        "desk_section": "diary",
        "grid_url": reverse("desk:diary-grid", args=[day.isoformat()]) + query,
    }


@staff_required
def diary(request: HttpRequest, on: str | None = None) -> HttpResponse:
    if on is None and request.GET.get("on"):
        # The "Day" field of the filter form: the day's own address.
        query = request.GET.copy()
        picked = query.pop("on")[-1]
        try:
            date.fromisoformat(picked)
        except ValueError:
            raise Http404 from None
        target = reverse("desk:diary-day", args=[picked])
        return redirect(f"{target}?{query.urlencode()}" if query else target)
    if on is None:
        # A closed day with nothing on it is no use at the desk: open on the next working day.
        location = _location(request)
        today = timezone.now().astimezone(location.tz).date()
        working = desk_next_open_day(location, today)
        if working != today and not diary_version(
            location=location, first_day=today, last_day=today
        ).startswith("0."):
            working = today
        if working != today:
            messages.info(
                request,
                _("The clinic is closed today; this is the next day it is open."),
            )
            on = working.isoformat()
    context = _diary_context(request, on)
    return render(request, "backoffice/diary_day.html", context)


@staff_required
def diary_grid(request: HttpRequest, on: str) -> HttpResponse:
    """The diary's grid alone, for htmx. Polled with the version the page shows: unchanged,
    it answers 204 (no body, nothing redrawn) after one cheap query."""
    since = request.GET.get("since")
    if since:
        location = _location(request)
        day = _day(on, location)
        if diary_version(location=location, first_day=day, last_day=day) == since:
            return HttpResponse(status=204)
    context = _diary_context(request, on)
    return render(request, "backoffice/diary_day.html#grid", context)


@staff_required
def diary_week_view(request: HttpRequest, on: str) -> HttpResponse:
    location = _location(request)
    day = _day(on, location)
    who = _who(request)
    now = timezone.now()
    data = diary_week(
        location=location, on=day, now=now, specialist_id=None if who == EVERYONE else who
    )
    if who != EVERYONE and not data.rows:
        who = EVERYONE
        data = diary_week(location=location, on=day, now=now)
    return render(
        request,
        "backoffice/diary_week.html",
        {
            "week": data,
            "location": location,
            "locations": desk_locations(),
            "who": who,
            "own_specialist": desk_specialist_of(request.user),
            "query": _query(location, MODE_SPECIALISTS, who),
            "prev_week": data.first_day - timedelta(days=7),
            "next_week": data.first_day + timedelta(days=7),
            "today": now.astimezone(location.tz).date(),
            "desk_section": "diary",
        },
    )


# --- one appointment: the panel beside the diary, and the desk's actions on it ------------------

# The next course session is looked for this long after the current one when the course does
# not say (DOMAIN.md 1.2: default interval 28 days), over a week.
DEFAULT_NEXT_SESSION_DAYS = 28
# The diary listens for this event and redraws at once after the desk's own action.
CHANGED_EVENT = "desk-changed"


def _load(pk: Any) -> tuple[Any, Any]:
    try:
        return diary_appointment(pk)
    except (ObjectDoesNotExist, ValueError):
        raise Http404 from None


def _move_options(request: HttpRequest, view: Any, appt: Any, now: Any) -> dict[str, Any]:
    tz = appt.location.tz
    raw_day = request.GET.get("move_on") or ""
    try:
        on = date.fromisoformat(raw_day) if raw_day else view.starts_at.date()
    except ValueError:
        on = view.starts_at.date()
    who = request.GET.get("move_specialist")
    if who is None:
        who = str(appt.specialist_id or "")
    try:
        times = desk_free_times(
            treatment=appt.treatment,
            location=appt.location,
            now=now,
            first_day=on,
            specialist_id=who or None,
            limit=16,
        )
        problem = ""
    except DomainError as exc:
        times, problem = [], exc.message
    return {
        "move_on": on,
        "move_specialist": who,
        "move_times": [t for t in times if t.starts_at != view.starts_at],
        "move_problem": problem,
        "move_today": now.astimezone(tz).date(),
    }


def _next_session(view: Any, appt: Any, now: Any) -> dict[str, Any]:
    """Free times for the client's next session with the same specialist: one tap on the
    appointment, one on a time (issue 13: rebook in at most 3 taps)."""
    plan = plan_for_appointment(appt.pk)
    days = plan.interval_days if plan is not None else DEFAULT_NEXT_SESSION_DAYS
    first_day = view.starts_at.date() + timedelta(days=days)
    try:
        times = desk_free_times(
            treatment=appt.treatment,
            location=appt.location,
            now=now,
            first_day=first_day,
            days=7,
            specialist_id=appt.specialist_id,
            limit=4,
        )
    except DomainError:
        times = []
    return {"next_times": times, "next_from": first_day, "next_is_course": plan is not None}


def _panel(
    request: HttpRequest,
    pk: Any,
    *,
    error: str = "",
    forms: dict[str, Any] | None = None,
    status: int = 200,
    alternatives: list[Any] | None = None,
    alt_action: str = "",
    done: str = "",
) -> HttpResponse:
    view, appt = _load(pk)
    now = timezone.now()
    tz = appt.location.tz
    initial = {"version": view.version}
    context: dict[str, Any] = {
        "a": view,
        "error": error,
        "done": done,
        "alternatives": [free_time_of(ls, tz) for ls in alternatives or []],
        "alt_action": alt_action,
        "next_actions": [
            (code, DESK_STATUS_LABELS[code]) for code in NEXT_STATUSES.get(appt.status, ())
        ],
        "cancel_form": CancelForm(initial=initial),
        "note_form": NoteForm(initial={**initial, "notes": view.notes}),
        "is_booked": appt.status == "booked",
        "day_url": reverse("desk:diary-day", args=[view.starts_at.date().isoformat()])
        + f"?location={appt.location_id}",
        "everyone": _specialists_for(appt),
        "desk_section": "diary",
        # The treatment chart (issue 14 item 5): its state, and whether this user may open it.
        "chart_state": chart_states_for([appt.pk]).get(appt.pk, "none"),
        "next_action_codes": NEXT_STATUSES.get(appt.status, ()),
        "chart_expected": appt.treatment.requires_screening,
        "can_chart": request.user.is_clinician and appt.status in CHARTABLE,
    }
    context.update(_before_needling(request, appt, now))
    context.update(forms or {})
    context.update(panel_consent(appt, request.user))
    if appt.status == "booked":
        context.update(_move_options(request, view, appt, now))
    if appt.status in ("booked", "checked_in", "in_treatment", "completed"):
        context.update(_next_session(view, appt, now))
    template = "backoffice/appointment.html"
    if request.htmx and not request.htmx.boosted:
        template += "#panel"
    # The panel's times (and the zone named beside them) in the location's zone, not the
    # server's: Django's date and time filters read the current time zone.
    with timezone.override(tz):
        response = render(request, template, context, status=status)
    if done:
        response["HX-Trigger"] = CHANGED_EVENT
    return response


def _before_needling(request: HttpRequest, appt: Any, now: Any) -> dict[str, Any]:
    """The start-of-needling gate on the panel (issue 14): this session's health questions,
    what stands in the way (clinical detail for clinicians only), the way to the tablet, and a
    clinician's override with its reason."""
    if appt.status not in ("booked", "checked_in", "in_treatment", "completed"):
        return {}
    gate = needling_gate(appt, now=now)
    if not gate.applies:
        return {}
    user = request.user
    clinical = bool(getattr(user, "is_clinician", False))
    rescreen = rescreen_for_appointment(appt)
    overrides = needling_overrides_list(appt)
    if clinical and (rescreen is not None or gate.blockers or overrides):
        # A clinician reads health answers and findings here: a view of the record.
        client_view_record(client=appt.client, by=user, now=now, via="desk, appointment panel")
    return {
        "gate": gate,
        "gate_lines": [b.message_for(user) for b in gate.open_blockers],
        "gate_rescreen": rescreen,
        "gate_overrides": overrides,
        "gate_can_ask": appt.status in ("booked", "checked_in"),
        "gate_can_override": clinical and gate.can_override,
        "gate_clinical": clinical,
    }


def _specialists_for(appt: Any) -> list[tuple[Any, str]]:
    return desk_specialists(appt.location)


@staff_required
def appointment_detail(request: HttpRequest, appointment_id: Any) -> HttpResponse:
    pk = appointment_id
    return _panel(request, pk)


def _after(request: HttpRequest, pk: Any, message: str) -> HttpResponse:
    if request.htmx:
        return _panel(request, pk, done=message)
    messages.success(request, message)
    return redirect("desk:appointment", appointment_id=pk)


def _refused(
    request: HttpRequest, pk: Any, exc: DomainError, alt_action: str = "", retry: str = ""
) -> HttpResponse:
    alternatives = exc.alternatives if isinstance(exc, SlotUnavailable) else []
    # Less than 28 days from another session (DOMAIN.md 1.2): a clinician may give a reason
    # and try the same time again; others read who can.
    gap = exc.code == "interval_too_short" and getattr(request.user, "is_clinician", False)
    return _panel(
        request,
        pk,
        error=exc.message,
        status=exc.http_status,
        alternatives=alternatives,
        alt_action=alt_action,
        forms={"gap_retry": retry if gap and retry else "", "gap_action": alt_action},
    )


@staff_required
@require_POST
def appointment_status(request: HttpRequest, appointment_id: Any) -> HttpResponse:
    pk = appointment_id
    _view, appt = _load(pk)
    form = StatusForm(request.POST)
    if not form.is_valid():
        return _panel(request, pk, error=_("Choose what happened."), status=422)
    code = form.cleaned_data["status"]
    try:
        booking.appointment_set_status(
            appointment=appt,
            status=DESK_STATUSES[code],
            by=request.user,
            now=timezone.now(),
            seen=form.cleaned_data["version"],
        )
    except DomainError as exc:
        return _refused(request, pk, exc)
    done = _("Marked as %(status)s.") % {"status": str(DESK_STATUS_LABELS[code]).lower()}
    if code == "completed" and appt.treatment.requires_screening:
        state = chart_states_for([appt.pk]).get(appt.pk, "none")
        if state in ("none", "draft"):
            done += " " + _("The treatment chart is not signed yet: please sign it.")
        elif state == "awaiting_cosign":
            done += " " + _("The treatment chart still needs a clinician's co-signature.")
    return _after(request, pk, done)


@staff_required
@require_POST
def appointment_cancel(request: HttpRequest, appointment_id: Any) -> HttpResponse:
    pk = appointment_id
    _view, appt = _load(pk)
    form = CancelForm(request.POST)
    if not form.is_valid():
        return _panel(request, pk, forms={"cancel_form": form}, status=422)
    try:
        booking.appointment_cancel(
            appointment=appt,
            by=request.user,
            now=timezone.now(),
            reason=form.cleaned_data["reason"],
            by_clinic=form.cleaned_data["by_clinic"],
            notify_client=form.cleaned_data["notify_client"],
            seen=form.cleaned_data["version"],
        )
    except DomainError as exc:
        return _refused(request, pk, exc)
    told = form.cleaned_data["notify_client"]
    return _after(
        request,
        pk,
        _("Cancelled; the client will get a message.")
        if told
        else _("Cancelled; no message sent."),
    )


@staff_required
@require_POST
def appointment_note(request: HttpRequest, appointment_id: Any) -> HttpResponse:
    pk = appointment_id
    _view, appt = _load(pk)
    form = NoteForm(request.POST)
    if not form.is_valid():
        return _panel(request, pk, forms={"note_form": form}, status=422)
    try:
        booking.appointment_note(
            appointment=appt,
            notes=form.cleaned_data["notes"],
            by=request.user,
            now=timezone.now(),
            seen=form.cleaned_data["version"],
        )
    except DomainError as exc:
        return _refused(request, pk, exc)
    return _after(request, pk, _("Note saved."))


def _specialist_or_none(raw: str) -> Any:
    if not raw:
        return None
    try:
        return specialist_get(raw)
    except (NotFound, ValueError, Exception):
        raise DomainError(
            _("That specialist is not available; choose another time."),
            fields={"choice": "unknown specialist"},
        ) from None


@staff_required
@require_POST
def appointment_move(request: HttpRequest, appointment_id: Any) -> HttpResponse:
    pk = appointment_id
    _view, appt = _load(pk)
    form = MoveForm(request.POST)
    if not form.is_valid():
        return _panel(request, pk, error=_("Choose one of the times offered."), status=422)
    starts_at, specialist_raw = form.cleaned_data["choice"]
    try:
        moved = booking.appointment_reschedule(
            appointment=appt,
            starts_at=starts_at,
            specialist=_specialist_or_none(specialist_raw),
            by=request.user,
            now=timezone.now(),
            seen=form.cleaned_data["version"],
            gap_reason=form.cleaned_data["gap_reason"],
        )
    except DomainError as exc:
        return _refused(request, pk, exc, "move", retry=request.POST.get("choice", ""))
    local = moved.starts_at.astimezone(moved.location.tz)
    return _after(
        request,
        pk,
        _("Moved to %(day)s at %(time)s.")
        % {"day": local.strftime("%A %d %B"), "time": local.strftime("%H:%M")},
    )


@staff_required
@require_POST
def appointment_rebook(request: HttpRequest, appointment_id: Any) -> HttpResponse:
    """Book the client's next session at one of the offered times."""
    pk = appointment_id
    _view, appt = _load(pk)
    form = ChoiceForm(request.POST)
    if not form.is_valid():
        return _panel(request, pk, error=_("Choose one of the times offered."), status=422)
    starts_at, specialist_raw = form.cleaned_data["choice"]
    try:
        result = booking.desk_book(
            client=appt.client,
            treatment=appt.treatment,
            starts_at=starts_at,
            location=appt.location,
            specialist=_specialist_or_none(specialist_raw),
            by=request.user,
            now=timezone.now(),
            gap_reason=form.cleaned_data["gap_reason"],
        )
    except DomainError as exc:
        return _refused(request, pk, exc, "rebook", retry=request.POST.get("choice", ""))
    new = result.appointment
    local = new.starts_at.astimezone(new.location.tz)
    message = _("Next session booked: %(day)s at %(time)s.") % {
        "day": local.strftime("%A %d %B"),
        "time": local.strftime("%H:%M"),
    }
    if request.htmx:
        return _panel(request, new.pk, done=message)
    messages.success(request, message)
    return redirect("desk:appointment", appointment_id=new.pk)


# --- book a caller or a walk-in ------------------------------------------------------------------


def _book_state(request: HttpRequest) -> dict[str, Any]:
    """What the booking page knows so far, from its query (or the posted form)."""
    data = request.POST if request.method == "POST" else request.GET
    location = _location(request)
    now = timezone.now()
    tz = location.tz
    today = now.astimezone(tz).date()
    walk_in = data.get("walk_in") == "1"
    raw_day = data.get("on") or ""
    try:
        on = date.fromisoformat(raw_day) if raw_day and not walk_in else today
    except ValueError:
        on = today
    on = max(on, today)
    client = None
    if data.get("client"):
        try:
            client = client_get(data["client"])
        except (NotFound, ValueError, ValidationError):  # unknown, or not an id at all
            client = None
    new_form = None
    if client is None and (data.get("first_name") or data.get("last_name")):
        new_form = NewClientForm(data)
    treatments = list(treatment_list_public())
    slug = data.get("treatment") or (treatments[0].slug if len(treatments) == 1 else "")
    treatment = next((t for t in treatments if t.slug == slug), None)
    return {
        "location": location,
        "locations": desk_locations(),
        "now": now,
        "today": today,
        "on": on,
        "walk_in": walk_in,
        "query_text": (data.get("q") or "").strip(),
        "client": client,
        "new_form": new_form or NewClientForm(),
        "new_given": new_form is not None,
        "treatments": treatments,
        "treatment": treatment,
        "specialist": data.get("specialist") or "",
        "everyone": desk_specialists(location),
        "desk_section": "book",
    }


def _new_client_details(state: dict[str, Any]) -> dict[str, Any] | None:
    form = state["new_form"]
    if not state["new_given"] or not form.is_valid():
        return None
    return dict(form.cleaned_data)


@staff_required
def book(request: HttpRequest) -> HttpResponse:
    """Book a phone caller or a walk-in: find the client (or enter a new one, with a warning
    about possible duplicates), choose the treatment and, if they like, the specialist, then
    one of the next free times. A walk-in looks from now."""
    state = _book_state(request)
    context: dict[str, Any] = {**state, "error": "", "duplicates": [], "times": []}
    if state["query_text"] and state["client"] is None:
        context["found"] = desk_client_search(state["query_text"])
    details = _new_client_details(state)
    if details is not None:
        context["duplicates"] = client_possible_duplicates(
            email=details.get("email") or "",
            phone=details.get("phone") or "",
            first_name=details["first_name"],
            last_name=details["last_name"],
            date_of_birth=details.get("date_of_birth"),
        )
    if request.method == "POST":
        return _book_post(request, context, details)
    _add_times(context)
    return render(request, "backoffice/book.html", context)


def _add_times(context: dict[str, Any]) -> None:
    who_ready = context["client"] is not None or (
        context["new_given"] and context["new_form"].is_valid()
    )
    context["who_ready"] = who_ready
    if not who_ready or context["treatment"] is None:
        return
    try:
        context["times"] = desk_free_times(
            treatment=context["treatment"],
            location=context["location"],
            now=context["now"],
            first_day=context["on"],
            days=1 if context["walk_in"] else 7,
            specialist_id=context["specialist"] or None,
            limit=12,
        )
    except DomainError as exc:
        context["times_problem"] = exc.message


def _book_post(
    request: HttpRequest, context: dict[str, Any], details: dict[str, Any] | None
) -> HttpResponse:
    form = BookForm(request.POST)
    if not form.is_valid() or context["treatment"] is None:
        context["error"] = _("Choose the treatment and one of the times offered.")
        _add_times(context)
        return render(request, "backoffice/book.html", context, status=422)
    if context["client"] is None and details is None:
        context["error"] = _("Choose the client, or enter a new client's name and contact.")
        _add_times(context)
        return render(request, "backoffice/book.html", context, status=422)
    starts_at, specialist_raw = form.cleaned_data["choice"]
    try:
        result = booking.desk_book(
            client=context["client"],
            new_client=details if context["client"] is None else None,
            confirm_duplicate=form.cleaned_data["confirm_duplicate"],
            treatment=context["treatment"],
            starts_at=starts_at,
            location=context["location"],
            specialist=_specialist_or_none(specialist_raw),
            notes=form.cleaned_data["notes"],
            by=request.user,
            now=timezone.now(),
            gap_reason=form.cleaned_data["gap_reason"],
        )
    except DomainError as exc:
        context["error"] = exc.message
        context["is_duplicate"] = exc.code == "client_exists"
        # Less than 28 days from another needling session (DOMAIN.md 1.2): a clinician may give
        # a reason and book the same time; others read who can.
        if exc.code == "interval_too_short" and getattr(request.user, "is_clinician", False):
            context["gap_retry"] = request.POST.get("choice", "")
            context["notes_given"] = form.cleaned_data["notes"]
        if isinstance(exc, SlotUnavailable):
            tz = context["location"].tz
            context["alternatives"] = [free_time_of(ls, tz) for ls in exc.alternatives]
        _add_times(context)
        return render(request, "backoffice/book.html", context, status=exc.http_status)
    appt = result.appointment
    local = appt.starts_at.astimezone(appt.location.tz)
    messages.success(
        request,
        _("Booked: %(client)s, %(day)s at %(time)s.")
        % {
            "client": f"{appt.client.first_name} {appt.client.last_name}",
            "day": local.strftime("%A %d %B"),
            "time": local.strftime("%H:%M"),
        },
    )
    return redirect(
        reverse("desk:diary-day", args=[local.date().isoformat()])
        + f"?location={appt.location_id}&who=all"
    )
