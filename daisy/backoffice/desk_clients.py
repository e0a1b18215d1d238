"""The desk's client pages (issue 13, item 4): search at /desk/clients/, a client's file at
/desk/clients/<id>/, and clearing a clinical hold from the file (clinicians, with a reason)."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from daisy.aftercare.history import alert_for_hold
from daisy.aftercare.services import alert_clear
from daisy.audit.selectors import client_trail
from daisy.backoffice.access import manager_required, staff_required
from daisy.backoffice.client_file import client_file_read
from daisy.backoffice.desk_records import FindingForm
from daisy.clients.selectors import client_get, client_search, holds_for_client
from daisy.clients.services import client_hold_clear, client_view_record
from daisy.clinic.selectors import clinic_zone
from daisy.lib.errors import DomainError, NotFound
from daisy.notifications.services import message_resend_by_staff
from daisy.records.photos import photo_sessions, photos_count_for_client, photos_staff_may_view


class SearchForm(forms.Form):
    q = forms.CharField(
        label=gettext_lazy("Name, email or phone"), max_length=200, required=False, strip=True
    )


class HoldClearForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("What you reviewed, and why the client can be treated again"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        error_messages={"required": gettext_lazy("Say why the hold can be cleared.")},
    )


def _client(client_id: Any) -> Any:
    try:
        return client_get(client_id)
    except NotFound:
        raise Http404(_("That client does not exist.")) from None


@staff_required
def client_list(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET or None)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    found = client_search(query) if query else []
    context = {"form": form, "query": query, "found": found, "desk_section": "clients"}
    template = "backoffice/clients.html"
    if request.htmx:
        template += "#results"
    return render(request, template, context)


@staff_required
def client_file(request: HttpRequest, client_id: Any) -> HttpResponse:
    client = _client(client_id)
    zone: ZoneInfo = clinic_zone()
    the_file = client_file_read(client=client, viewer=request.user, now=timezone.now(), zone=zone)
    return render(
        request,
        "backoffice/client_file.html",
        {
            "file": the_file,
            "client": client,
            "hold_form": HoldClearForm(),
            "photos": _photos_summary(client, request.user),
            "finding_form": FindingForm(),
            "desk_section": "clients",
        },
    )


def _photos_summary(client: Any, viewer: Any) -> dict[str, Any]:
    """The file's photo section: for clinicians the latest session's photos (thumbnails, each
    fetched through the audited photo view); for reception only how many there are."""
    if not photos_staff_may_view(viewer):
        return {"count": photos_count_for_client(client), "clinical": False}
    sessions = photo_sessions(client)
    count = sum(len(s.photos) for s in sessions)
    latest = sessions[-1] if sessions else None
    return {
        "clinical": True,
        "count": count,
        "sessions": len(sessions),
        "latest": latest,
        "latest_photos": list(latest.photos.values()) if latest else [],
    }


@staff_required
def message_resend(request: HttpRequest, client_id: Any, message_id: Any) -> HttpResponse:
    """Send again a message of this client whose delivery was not confirmed (audited)."""
    client = _client(client_id)
    if request.method != "POST":
        return redirect("desk:client", client_id=client.pk)
    try:
        message_resend_by_staff(
            message_id=message_id, by=request.user, now=timezone.now(), client_id=client.pk
        )
    except NotFound:
        raise Http404(_("That message does not exist.")) from None
    except DomainError as exc:
        messages.info(request, exc.message)
    else:
        messages.success(request, _("The message will be sent again in a moment."))
    return redirect("desk:client", client_id=client.pk)


@staff_required
def hold_clear(request: HttpRequest, client_id: Any, hold_id: int) -> HttpResponse:
    client = _client(client_id)
    if not request.user.is_clinician:
        return render(request, "backoffice/not_allowed.html", status=403)
    if request.method != "POST":
        return redirect("desk:client", client_id=client.pk)
    hold = holds_for_client(client.pk).filter(pk=hold_id, cleared_at__isnull=True).first()
    if hold is None:
        messages.info(request, _("That hold was already cleared."))
        return redirect("desk:client", client_id=client.pk)
    form = HoldClearForm(request.POST)
    if form.is_valid():
        reason = form.cleaned_data["reason"]
        now = timezone.now()
        try:
            alert = alert_for_hold(hold)
            if alert is not None and alert.is_open:
                alert_clear(alert=alert, by=request.user, reason=reason, now=now)
            else:
                client_hold_clear(
                    client=client, source=hold.source, by=request.user, reason=reason, now=now
                )
        except DomainError as exc:
            form.add_error("reason", str(exc))
        else:
            messages.success(
                request,
                _("The hold is cleared: %(client)s can be booked and treated again.")
                % {"client": client.full_name},
            )
            return redirect("desk:client", client_id=client.pk)
    the_file = client_file_read(
        client=client, viewer=request.user, now=timezone.now(), zone=clinic_zone()
    )
    return render(
        request,
        "backoffice/client_file.html",
        {
            "file": the_file,
            "client": client,
            "hold_form": form,
            "finding_form": FindingForm(),
            "failed_hold": hold.pk,
            "photos": _photos_summary(client, request.user),
            "desk_section": "clients",
        },
        status=422,
    )


@manager_required()
def client_audit(request: HttpRequest, client_id: Any) -> HttpResponse:
    """Who saw and changed what in one client's record: for the clinic manager only."""
    client = _client(client_id)
    trail = client_trail(client_id=client.pk)
    # What the manager reads here (findings and their changes) is the health record too.
    client_view_record(client=client, by=request.user, now=timezone.now(), via="desk, audit")
    seen: dict[str, int] = {}
    for line in trail:
        if line.is_view:
            seen[line.who] = seen.get(line.who, 0) + 1
    return render(
        request,
        "backoffice/client_audit.html",
        {
            "client": client,
            "trail": trail,
            "seen_by": sorted(seen.items(), key=lambda item: (-item[1], item[0])),
            "zone": clinic_zone(),
            "desk_section": "clients",
        },
    )
