"""Products, lots and recall at the desk (issue 14 item 6), for specialists and the manager:

* /desk/lots/: the lots received and charted, found by number or product;
* /desk/lots/<id>/: every client treated with the lot (client, appointment, date, zones), a CSV
  of the same, and one recall message to each of them in one action.

Reading the list is reading health records: each opening and export is audited."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from daisy.backoffice.access import clinician_required
from daisy.lib.errors import DomainError, NotFound
from daisy.records.recall import (
    MAX_MESSAGE,
    default_recall_text,
    lot_get,
    lot_list,
    lot_recall_record_view,
    lot_recall_send,
    lot_treatments,
    lot_treatments_csv,
)


class LotSearchForm(forms.Form):
    q = forms.CharField(
        label=gettext_lazy("Lot number or product"), max_length=120, required=False, strip=True
    )


class RecallForm(forms.Form):
    text = forms.CharField(
        label=gettext_lazy("Message to every client treated with this lot"),
        max_length=MAX_MESSAGE,
        widget=forms.Textarea({"rows": 5}),
        error_messages={"required": gettext_lazy("Write the message to send.")},
    )


def _lot(lot_id: Any) -> Any:
    try:
        return lot_get(lot_id)
    except NotFound:
        raise Http404(_("That lot does not exist.")) from None


@clinician_required
def lots(request: HttpRequest) -> HttpResponse:
    form = LotSearchForm(request.GET or None)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    return render(
        request,
        "backoffice/lots.html",
        {"form": form, "query": query, "lots": lot_list(query), "desk_section": "lots"},
    )


def _detail(request: HttpRequest, lot: Any, form: RecallForm, status: int = 200) -> HttpResponse:
    rows = lot_treatments([lot])
    lot_recall_record_view(
        lot=lot, by=request.user, now=timezone.now(), via="desk", count=len(rows)
    )
    return render(
        request,
        "backoffice/lot.html",
        {
            "lot": lot,
            "rows": rows,
            "clients": len({r.client_id for r in rows}),
            "form": form,
            "desk_section": "lots",
        },
        status=status,
    )


@clinician_required
def lot_detail(request: HttpRequest, lot_id: Any) -> HttpResponse:
    lot = _lot(lot_id)
    return _detail(request, lot, RecallForm(initial={"text": default_recall_text(lot)}))


@clinician_required
def lot_csv(request: HttpRequest, lot_id: Any) -> HttpResponse:
    lot = _lot(lot_id)
    rows = lot_treatments([lot])
    lot_recall_record_view(lot=lot, by=request.user, now=timezone.now(), via="csv", count=len(rows))
    response = HttpResponse(lot_treatments_csv(rows), content_type="text/csv; charset=utf-8")
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in lot.number)[:60]
    response["Content-Disposition"] = f'attachment; filename="lot-{safe}-treatments.csv"'
    return response


@clinician_required
def lot_recall(request: HttpRequest, lot_id: Any) -> HttpResponse:
    lot = _lot(lot_id)
    if request.method != "POST":
        return redirect("desk:lot", lot_id=lot.pk)
    form = RecallForm(request.POST)
    if not form.is_valid():
        return _detail(request, lot, form, status=422)
    try:
        told = lot_recall_send(
            lot=lot, text=form.cleaned_data["text"], by=request.user, now=timezone.now()
        )
    except DomainError as exc:
        form.add_error("text", exc.message)
        return _detail(request, lot, form, status=exc.http_status)
    messages.success(
        request,
        _("Recall message queued for %(n)s client(s); anyone already told is not told twice.")
        % {"n": told},
    )
    return redirect("desk:lot", lot_id=lot.pk)
