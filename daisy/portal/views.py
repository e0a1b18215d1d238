"""The client portal (issue 4, item 4): a signed-in client's own appointments, profile and data.

Every object is reached through the signed-in client: another client's appointment id is a 404,
exactly like an id that does not exist, so ids tell a visitor nothing. Staff are sent to the
back-office. Each page that shows the client's record writes an audit entry (DESIGN.md 5: one
row per view of a health record)."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
import zoneinfo
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from daisy.aftercare.ics import CONTENT_TYPE as ICS_CONTENT_TYPE
from daisy.aftercare.ics import appointment_ics
from daisy.aftercare.selectors import aftercare_today_for_client
from daisy.booking.services import appointment_cancel, appointment_reschedule
from daisy.clients.selectors import client_for_user
from daisy.clients.services import client_preferences_update, client_update, client_view_record
from daisy.clinic.selectors import specialist_get
from daisy.courses.selectors import course_get_for_client, course_list_for_client
from daisy.lib.errors import DomainError, NotFound, SlotUnavailable
from daisy.lib.forms import form_add_domain_error
from daisy.portal.charts import severity_svg
from daisy.portal.forms import CancelForm, PreferencesForm, ProfileForm, StartForm
from daisy.records.client_export import client_data_export
from daisy.records.export import records_files_for_client
from daisy.scheduling.selectors import appointment_get, appointment_list, availability_list
from daisy.site.booking import again_offer

BOOKED = "booked"
UPCOMING_STATUSES = {"booked", "checked_in", "in_treatment"}
WEEK = timedelta(days=7)


def client_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed-in clients only: visitors go to sign in, staff to a page pointing at /admin/."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if getattr(user, "is_clinic_staff", False) or user.is_staff:
            return render(request, "portal/staff.html", status=403)
        client = client_for_user(user)
        if client is None:
            return render(request, "portal/no_record.html", status=403)
        request.client = client  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    return never_cache(wrapper)


def _own_appointment(request: HttpRequest, pk: Any) -> Any:
    try:
        appointment = appointment_get(pk)
    except NotFound:
        raise Http404 from None
    if appointment.client_id != request.client.pk:  # type: ignore[attr-defined]
        raise Http404
    return appointment


def _policy(appointment: Any, now: datetime) -> dict[str, Any]:
    """What the treatment's cancellation window means for this appointment right now."""
    deadline = appointment.starts_at - appointment.treatment.cancellation_window
    is_booked = appointment.status == BOOKED
    return {
        "deadline": deadline,
        "hours": appointment.treatment.cancellation_window_hours,
        "is_late": now > deadline,
        "can_move": is_booked and now <= deadline,
        "can_cancel": is_booked and appointment.starts_at > now,
    }


@client_required
def home(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    client = request.client  # type: ignore[attr-defined]
    client_view_record(client=client, by=request.user, now=now, via="portal:home")
    mine = list(appointment_list(client_id=client.pk))
    upcoming = [a for a in mine if a.starts_at >= now and a.status in UPCOMING_STATUSES]
    past = [a for a in reversed(mine) if a not in upcoming]
    aftercare = aftercare_today_for_client(client, now)
    return render(
        request,
        "portal/home.html",
        {
            "client": client,
            "upcoming": upcoming,
            "past": past,
            "now": now,
            # Only when something applies today: an old session's timeline is on its own page.
            "aftercare": aftercare
            if aftercare and (aftercare.avoid or aftercare.allowed)
            else None,
            "courses": course_list_for_client(client),
            # "Book again": the last treatment, its nearest free times one click away.
            "again": again_offer(client=client, appointments=mine, now=now),
        },
    )


@client_required
def appointment_detail(request: HttpRequest, pk: Any) -> HttpResponse:
    now = timezone.now()
    appointment = _own_appointment(request, pk)
    client_view_record(
        client=request.client,  # type: ignore[attr-defined]
        by=request.user,
        now=now,
        via=f"portal:appointment:{appointment.pk}",
    )
    return render(
        request,
        "portal/appointment_detail.html",
        {"appointment": appointment, "policy": _policy(appointment, now)},
    )


def _week_start(request: HttpRequest, appointment: Any, now: datetime) -> date:
    today = now.astimezone(appointment.location.tz).date()
    try:
        chosen = date.fromisoformat(request.GET.get("week", ""))
    except ValueError:
        chosen = today
    # Weeks before this one have nothing to offer; more than a year ahead is never bookable.
    return min(max(chosen, today), today + timedelta(days=366))


def _days(slots: list[Any], tz: Any) -> list[dict[str, Any]]:
    days: dict[date, list[Any]] = {}
    for located in slots:
        days.setdefault(located.slot.start.astimezone(tz).date(), []).append(located.slot.start)
    return [{"day": day, "starts": starts} for day, starts in sorted(days.items())]


def specialist_find(specialist_id: Any) -> Any:
    """The specialist with this id, or None for an id that is not one (a tampered form)."""
    try:
        return specialist_get(uuid.UUID(str(specialist_id)))
    except (ValueError, NotFound):
        return None


def _move_terms(appointment: Any, starts_at: datetime, now: datetime) -> dict[str, Any]:
    """What the no-change window means for the appointment at a new time (issue 12, item 3):
    the moment online changes end, and whether the new time is already inside the window, so
    the client reads it before confirming, not after."""
    deadline = starts_at - appointment.treatment.cancellation_window
    return {"deadline": deadline, "is_late": deadline <= now}


def _specialist_at(appointment: Any, starts_at: datetime, now: datetime) -> Any:
    """The specialist a move to `starts_at` with "any specialist" would get: the slot finder's
    choice for that very start (None when the time is not free)."""
    tz = appointment.location.tz
    day = starts_at.astimezone(tz).date()
    found = availability_list(
        treatment=appointment.treatment,
        location=appointment.location,
        window_start=datetime.combine(day, time.min, tz),
        window_end=datetime.combine(day + timedelta(days=1), time.min, tz),
        now=now,
    )
    for located in found:
        if located.slot.start == starts_at:
            info = located.resource("specialist")
            return specialist_find(info.id) if info is not None else None
    return None


@client_required
@require_http_methods(["GET", "POST"])
def appointment_reschedule_view(request: HttpRequest, pk: Any) -> HttpResponse:
    now = timezone.now()
    appointment = _own_appointment(request, pk)
    policy = _policy(appointment, now)
    location = appointment.location
    tz = location.tz
    current = appointment.specialist
    # Times with the client's own specialist first; "any specialist" only when they ask.
    any_specialist = current is None or request.GET.get("who", request.POST.get("who")) == "any"
    alternatives: list[datetime] = []
    error = ""
    chosen: datetime | None = None
    chosen_specialist: Any = None
    if request.method == "POST" and policy["can_move"]:
        form = StartForm(request.POST)
        if not form.is_valid():
            error = _("Choose one of the times offered.")
        elif request.POST.get("confirm") != "yes":
            # First press picks the time; the move happens once the client confirms it.
            chosen = form.cleaned_data["start"]
            chosen_specialist = (
                _specialist_at(appointment, chosen, now) if any_specialist else current
            )
            if chosen_specialist is None:
                error = _("That time is no longer free. Please choose another.")
                chosen = None
        else:
            specialist = current if not any_specialist else None
            wanted = request.POST.get("specialist", "")
            if any_specialist and wanted:
                specialist = specialist_find(wanted)
            try:
                appointment_reschedule(
                    appointment=appointment,
                    starts_at=form.cleaned_data["start"],
                    by=request.user,
                    now=now,
                    specialist=specialist,
                )
            except SlotUnavailable as exc:
                error = exc.message
                alternatives = [ls.slot.start for ls in exc.alternatives]
            except DomainError as exc:
                error = exc.message
            else:
                messages.success(request, _("Your appointment has been moved."))
                return redirect("portal:appointment-detail", pk=appointment.pk)
    week_start = _week_start(request, appointment, now)
    days: list[dict[str, Any]] = []
    if policy["can_move"]:
        window_start = datetime.combine(week_start, time.min, tz)
        try:
            found = availability_list(
                treatment=appointment.treatment,
                location=location,
                window_start=window_start,
                window_end=datetime.combine(week_start + WEEK, time.min, tz),
                now=now,
                specialist_id=None if any_specialist else current.pk,
            )
        except DomainError as exc:
            found, error = [], error or exc.message
        days = _days([s for s in found if s.slot.start != appointment.starts_at], tz)
    return render(
        request,
        "portal/appointment_reschedule.html",
        {
            "appointment": appointment,
            "policy": policy,
            "days": days,
            "week_start": week_start,
            "previous_week": week_start - WEEK,
            "next_week": week_start + WEEK,
            "has_previous": week_start > now.astimezone(tz).date(),
            "alternatives": alternatives,
            "chosen": chosen,
            "chosen_specialist": chosen_specialist,
            "specialist_changes": chosen_specialist is not None
            and current is not None
            and chosen_specialist.pk != current.pk,
            "move_terms": _move_terms(appointment, chosen, now) if chosen else None,
            "any_specialist": any_specialist,
            "who": "any" if any_specialist and current is not None else "",
            "error": error,
        },
        status=409 if error and request.method == "POST" else 200,
    )


@client_required
@require_http_methods(["GET", "POST"])
def appointment_cancel_view(request: HttpRequest, pk: Any) -> HttpResponse:
    now = timezone.now()
    appointment = _own_appointment(request, pk)
    form = CancelForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            cancelled = appointment_cancel(
                appointment=appointment,
                by=request.user,
                now=now,
                reason=form.cleaned_data["reason"],
            )
        except DomainError as exc:
            error = exc.message
        else:
            if cancelled.is_late_cancellation:
                messages.warning(
                    request,
                    _(
                        "Your appointment is cancelled. It was less than %(hours)s hours "
                        "before the start, so it counts as a late cancellation."
                    )
                    % {"hours": appointment.treatment.cancellation_window_hours},
                )
            else:
                messages.success(request, _("Your appointment is cancelled."))
            return redirect("portal:appointment-detail", pk=appointment.pk)
    return render(
        request,
        "portal/appointment_cancel.html",
        {
            "appointment": appointment,
            "policy": _policy(appointment, now),
            "form": form,
            "error": error,
        },
        status=409 if error else 200,
    )


@client_required
def appointment_calendar(request: HttpRequest, pk: Any) -> HttpResponse:
    now = timezone.now()
    appointment = _own_appointment(request, pk)
    body = appointment_ics(
        appointment=appointment,
        sequence=appointment.messages_version,
        now=now,
        cancelled=appointment.status == "cancelled",
    )
    response = HttpResponse(body, content_type=f"{ICS_CONTENT_TYPE}; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="appointment.ics"'
    return response


@client_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    client = request.client  # type: ignore[attr-defined]
    initial = {
        "first_name": client.first_name,
        "last_name": client.last_name,
        "phone": client.phone,
        "date_of_birth": client.date_of_birth,
    }
    form = ProfileForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            client_update(client=client, by=request.user, now=now, **form.cleaned_data)
        except DomainError as exc:
            form_add_domain_error(form, exc)
        else:
            messages.success(request, _("Your details have been saved."))
            return redirect("portal:profile")
    elif request.method == "GET":
        client_view_record(client=client, by=request.user, now=now, via="portal:profile")
    return render(request, "portal/profile.html", {"form": form, "client": client})


@client_required
def data_page(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/data.html")


@client_required
@require_POST
def data_download(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    client = request.client  # type: ignore[attr-defined]
    client_view_record(client=client, by=request.user, now=now, via="portal:data-download")
    data = client_data_export(client=client, now=now)
    # One archive: the data as JSON, each signed consent as its PDF, each photo as its JPEG
    # (issue 14, item 8; DOMAIN.md 6.6).
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "my-data.json", json.dumps(data, indent=2, ensure_ascii=False, default=str)
        )
        for name, content in records_files_for_client(client, viewer=request.user, now=now):
            archive.writestr(name, content)
    response = HttpResponse(buffer.getvalue(), content_type="application/zip")
    response["Content-Disposition"] = (
        f'attachment; filename="my-data-{now.astimezone().date().isoformat()}.zip"'
    )
    return response


@client_required
@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    client = request.client  # type: ignore[attr-defined]
    initial = {
        "contact_channel": client.contact_channel,
        "marketing_consent": client.marketing_consent,
    }
    form = PreferencesForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            client_preferences_update(client=client, by=request.user, now=now, **form.cleaned_data)
        except DomainError as exc:
            form_add_domain_error(form, exc)
        else:
            messages.success(request, _("Your preferences have been saved."))
            return redirect("portal:preferences")
    return render(request, "portal/preferences.html", {"form": form, "client": client})


@client_required
def aftercare(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    client = request.client  # type: ignore[attr-defined]
    today = aftercare_today_for_client(client, now)
    if today is None:
        raise Http404
    client_view_record(client=client, by=request.user, now=now, via="portal:aftercare")
    return render(request, "portal/aftercare.html", {"aftercare": today})


@client_required
def course_list(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    client = request.client  # type: ignore[attr-defined]
    client_view_record(client=client, by=request.user, now=now, via="portal:courses")
    return render(request, "portal/course_list.html", {"courses": course_list_for_client(client)})


@client_required
def course_detail(request: HttpRequest, pk: Any) -> HttpResponse:
    now = timezone.now()
    client = request.client  # type: ignore[attr-defined]
    try:
        course = course_get_for_client(client, pk)
    except NotFound:
        raise Http404 from None
    client_view_record(client=client, by=request.user, now=now, via=f"portal:course:{course.id}")
    # Grading dates as the client lived them: in the zone of the course's location.
    tz = zoneinfo.ZoneInfo(course.sessions[0].time_zone) if course.sessions else UTC
    charts = [
        {
            "area": area,
            "svg": severity_svg(
                ident=f"area-{n}",
                title=_("%(area)s: %(concern)s, grade over time (4 is the most severe)")
                % {"area": area.area, "concern": area.concern_label},
                points=[(g.graded_at.astimezone(tz), g.grade) for g in area.grades],
            ),
        }
        for n, area in enumerate(course.areas, start=1)
        if area.grades
    ]
    return render(request, "portal/course_detail.html", {"course": course, "charts": charts})
