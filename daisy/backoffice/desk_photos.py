"""Clinical photos at the desk (issue 14, item 7): taking a session's photos by view, with the
baseline as a ghost to line up with; comparing session 1 with session N per view; and the one
way a photo's bytes leave the server for staff (access-checked, audited, never cached).

Clinicians only (specialists and the manager; docs/roles.md): reception is refused every page
here, as it is the clinical detail of a client's file."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from daisy.backoffice.access import staff_required
from daisy.clients.selectors import client_get
from daisy.clients.services import client_view_record
from daisy.lib.errors import DomainError, NotFound
from daisy.lib.private_files import private_file_response
from daisy.records.photos import (
    SOURCE_CAMERA,
    SOURCE_UPLOAD,
    VIEW_CHOICES,
    photo_add,
    photo_baselines,
    photo_comparison,
    photo_get,
    photo_open,
    photo_sessions,
    photo_views_for_session,
    photos_staff_may_take,
    photos_staff_may_view,
    view_label,
)
from daisy.scheduling.selectors import appointment_get

NOT_FOR_ROLE = "backoffice/not_allowed.html"


def clinicians_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Staff who may see clinical photos (before anything else, the method included: reception
    is told this is not for their role, whatever it asked)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not photos_staff_may_view(request.user):
            return render(request, NOT_FOR_ROLE, status=403)
        return view(request, *args, **kwargs)

    return staff_required(wrapper)


class PhotoForm(forms.Form):
    view = forms.ChoiceField(
        label=gettext_lazy("View"),
        choices=VIEW_CHOICES,
        error_messages={"required": gettext_lazy("Choose which view this photo is.")},
    )
    # Two inputs for one photo: the tablet's camera (capture), or a file already taken.
    image = forms.FileField(required=False)
    image_file = forms.FileField(required=False)


def _appointment(appointment_id: Any) -> Any:
    try:
        return appointment_get(appointment_id)
    except NotFound:
        raise Http404(_("That appointment does not exist.")) from None


def _session_context(request: HttpRequest, appt: Any) -> dict[str, Any]:
    sessions = photo_sessions(appt.client)
    baselines = photo_baselines(sessions, before=appt)
    this = next((s for s in sessions if s.appointment.pk == appt.pk), None)
    number = this.number if this else len([s for s in sessions if s.starts_at < appt.starts_at]) + 1
    cards = [
        {
            "view": value,
            "label": label,
            "is_standard": standard,
            "baseline": baselines.get(value),
            "current": this.photos.get(value) if this else None,
        }
        for value, label, standard in photo_views_for_session()
    ]
    return {
        "appt": appt,
        "client": appt.client,
        "session_number": number,
        "standard_cards": [c for c in cards if c["is_standard"]],
        "closeup_cards": [
            c for c in cards if not c["is_standard"] and (c["baseline"] or c["current"])
        ],
        "closeup_choices": [(c["view"], c["label"]) for c in cards if not c["is_standard"]],
        "has_baseline": bool(baselines),
        "desk_section": "diary",
    }


@clinicians_only
def appointment_photos(request: HttpRequest, appointment_id: Any) -> HttpResponse:
    """The session's photo page: one card per view, the baseline as a ghost over the camera's
    photo, saved one view at a time (a retake of a view is kept too; the latest is shown)."""
    appt = _appointment(appointment_id)
    now = timezone.now()
    if request.method == "POST":
        if not photos_staff_may_take(request.user):
            return render(request, NOT_FOR_ROLE, status=403)
        form = PhotoForm(request.POST, request.FILES)
        error, failed_view = "", request.POST.get("view", "")
        if form.is_valid():
            camera = form.cleaned_data["image"]
            upload = camera or form.cleaned_data["image_file"]
            try:
                photo = photo_add(
                    appointment=appt,
                    view=form.cleaned_data["view"],
                    upload=upload,
                    source=SOURCE_CAMERA if camera else SOURCE_UPLOAD,
                    by=request.user,
                    now=now,
                )
            except DomainError as exc:
                error = exc.message
            else:
                messages.success(
                    request,
                    _("Saved: %(view)s, session %(n)s.")
                    % {
                        "view": view_label(photo.view),
                        "n": _session_context(request, appt)["session_number"],
                    },
                )
                url = reverse("desk:appointment-photos", kwargs={"appointment_id": appt.pk})
                return redirect(f"{url}#view-{photo.view}")
        else:
            error = " ".join(" ".join(e) for e in form.errors.values())
        context = _session_context(request, appt)
        context.update({"error": error, "failed_view": failed_view})
        client_view_record(client=appt.client, by=request.user, now=now, via="desk, photos")
        with timezone.override(appt.location.tz):
            return render(request, "backoffice/photos_session.html", context, status=422)
    context = _session_context(request, appt)
    client_view_record(client=appt.client, by=request.user, now=now, via="desk, photos")
    with timezone.override(appt.location.tz):
        return render(request, "backoffice/photos_session.html", context)


@clinicians_only
@require_GET
def client_photos(request: HttpRequest, client_id: Any) -> HttpResponse:
    """Session 1 against session N, per view: side by side and with a slider."""
    try:
        client = client_get(client_id)
    except NotFound:
        raise Http404(_("That client does not exist.")) from None
    sessions = photo_sessions(client)
    try:
        wanted = int(request.GET.get("session", "") or 0) or None
    except ValueError:
        wanted = None
    if wanted is not None and not any(s.number == wanted and s.number > 1 for s in sessions):
        wanted = None
    rows = photo_comparison(sessions, compare_with=wanted)
    client_view_record(client=client, by=request.user, now=timezone.now(), via="desk, photos")
    return render(
        request,
        "backoffice/photos_client.html",
        {
            "client": client,
            "sessions": sessions,
            "rows": rows,
            "wanted": wanted,
            "photo_url": "desk:photo-file",
            "thumb_url": "desk:photo-thumb",
            "desk_section": "clients",
        },
    )


def _file(request: HttpRequest, photo_id: Any, *, thumb: bool) -> HttpResponse:
    try:
        photo = photo_get(photo_id)
        handle = photo_open(
            photo=photo, viewer=request.user, thumb=thumb, via="desk", now=timezone.now()
        )
    except NotFound:
        raise Http404(_("That photo does not exist.")) from None
    return private_file_response(handle, content_type="image/jpeg", filename="photo.jpg")


@clinicians_only
@require_GET
def photo_file(request: HttpRequest, photo_id: Any) -> HttpResponse:
    return _file(request, photo_id, thumb=False)


@clinicians_only
@require_GET
def photo_thumb(request: HttpRequest, photo_id: Any) -> HttpResponse:
    return _file(request, photo_id, thumb=True)
