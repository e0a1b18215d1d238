"""The consultation at the desk (issue 14, item 2), for specialists and the manager, tablet
first: /desk/clients/<id>/consultation/.

One page per consultation, in the order it is held: the skin type and the concerns by area
with the client's goals and the course plan; the medical history (every question of the
health questionnaire, the ones only asked in person first, the online answers offered again
to be checked); then Sign. A signed consultation is read-only; a change is an amendment with a
reason. Every opening is audited (consultation.view), as is every change."""

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
from daisy.clients.selectors import client_get
from daisy.clinic.selectors import clinic_zone
from daisy.courses.selectors import course_list_for_client, plan_get
from daisy.lib.errors import DomainError, NotFound
from daisy.lib.times import is_sane_year
from daisy.records.consultations import (
    CONCERN_CHOICES,
    CONCERN_ZONES,
    DARK_SKIN_QUESTION,
    SKIN_TYPE_CHOICES,
    UNSET,
    concern_zone_label,
    consultation_amend,
    consultation_current,
    consultation_get_for_client,
    consultation_history_record,
    consultation_list_for_client,
    consultation_prefill,
    consultation_questionnaire,
    consultation_sign,
    consultation_start,
    consultation_update,
    consultation_view_record,
)
from daisy.records.selectors import screening_list_for_client
from daisy.scheduling.selectors import appointment_list

YES_NO = [("no", gettext_lazy("No")), ("yes", gettext_lazy("Yes"))]


def _client(client_id: Any) -> Any:
    try:
        return client_get(client_id)
    except NotFound:
        raise Http404(_("That client does not exist.")) from None


def _consultation(client: Any, consultation_id: Any) -> Any:
    try:
        return consultation_get_for_client(client, consultation_id)
    except NotFound:
        raise Http404(_("That consultation does not exist.")) from None


def _plan_choices(client: Any, keep: Any = None) -> list[tuple[str, str]]:
    out = [("", gettext_lazy("No course yet"))]
    for course in course_list_for_client(client):
        label = f"{course.treatment_name}: {course.progress_label} ({course.status_label})"
        out.append((str(course.id), label))
    return out


def _visit_choices(client: Any) -> list[tuple[str, str]]:
    out = [("", gettext_lazy("Not at a booked visit"))]
    for appt in appointment_list(client_id=client.pk).select_related("treatment", "location"):
        local = appt.starts_at.astimezone(appt.location.tz)
        out.append((str(appt.pk), f"{local:%a %-d %b %Y, %H:%M} · {appt.treatment.name}"))
    return out


class StartForm(forms.Form):
    plan = forms.ChoiceField(label=gettext_lazy("Course plan"), required=False)
    appointment = forms.ChoiceField(label=gettext_lazy("Held at the visit"), required=False)

    def __init__(self, *args: Any, client: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["plan"].choices = _plan_choices(client)
        self.fields["appointment"].choices = _visit_choices(client)


class DetailsForm(forms.Form):
    """Skin type, concerns by area (one row per zone: a concern, a note), goals, notes, plan."""

    skin_type = forms.TypedChoiceField(
        label=gettext_lazy("Skin type (Fitzpatrick)"),
        required=False,
        coerce=int,
        empty_value=None,
        widget=forms.RadioSelect,
        help_text=gettext_lazy("How the skin reacts to the sun, as the client describes it."),
    )
    goals = forms.CharField(
        label=gettext_lazy("The client's goals, in their words"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    notes = forms.CharField(
        label=gettext_lazy("Clinician's notes"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    plan = forms.ChoiceField(label=gettext_lazy("Course plan"), required=False)

    def __init__(self, *args: Any, client: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["skin_type"].choices = SKIN_TYPE_CHOICES
        self.fields["plan"].choices = _plan_choices(client)
        for key in CONCERN_ZONES:
            self.fields[f"c_{key}"] = forms.ChoiceField(
                label=gettext_lazy("Concern"),
                required=False,
                choices=[("", gettext_lazy("None"))] + list(CONCERN_CHOICES),
            )
            self.fields[f"n_{key}"] = forms.CharField(
                label=gettext_lazy("Note"), required=False, max_length=300
            )

    @property
    def zone_rows(self) -> list[dict[str, Any]]:
        return [
            {"key": k, "label": concern_zone_label(k), "concern": self[f"c_{k}"],
             "note": self[f"n_{k}"]}
            for k in CONCERN_ZONES
        ]  # fmt: skip

    def concerns(self) -> list[dict[str, str]]:
        out = []
        for key in CONCERN_ZONES:
            concern = self.cleaned_data.get(f"c_{key}") or ""
            note = (self.cleaned_data.get(f"n_{key}") or "").strip()
            if concern or note:
                out.append({"zone": key, "concern": concern, "note": note})
        return out


def _details_initial(current: Any) -> dict[str, Any]:
    initial: dict[str, Any] = {
        "skin_type": current.skin_type,
        "goals": current.goals,
        "notes": current.notes,
        "plan": current.plan_id or "",
    }
    for item in current.concerns:
        initial[f"c_{item['zone']}"] = item.get("concern", "")
        initial[f"n_{item['zone']}"] = item.get("note", "")
    return initial


class HistoryForm(forms.Form):
    """Every question of the questionnaire, each a required yes/no (a "when" question also
    takes the date); the skin type answers the skin-type question, so it is not asked."""

    def __init__(self, *args: Any, questions: list[Any], today: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        self.questions = questions
        for q in questions:
            self.fields[q.key] = forms.ChoiceField(
                label=q.text,
                choices=YES_NO,
                widget=forms.RadioSelect,
                error_messages={"required": gettext_lazy("Answer yes or no.")},
            )
            if q.asks_when:
                self.fields[f"{q.key}_on"] = forms.DateField(
                    label=gettext_lazy("If yes, when was the last time?"),
                    required=False,
                    widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                    error_messages={"invalid": gettext_lazy("Enter a date, e.g. 2030-01-31.")},
                )
        self.fields["reason"] = forms.CharField(
            label=gettext_lazy("Why the history is asked again (the consultation is signed)"),
            required=False,
            max_length=2000,
            widget=forms.Textarea(attrs={"rows": 2}),
        )

    def groups(self) -> list[tuple[str, list[tuple[Any, Any]]]]:
        in_person = [q for q in self.questions if not q.is_online]
        online = [q for q in self.questions if q.is_online]

        def items(qs: list[Any]) -> list[tuple[Any, Any]]:
            return [(self[q.key], self[f"{q.key}_on"] if q.asks_when else None) for q in qs]

        return [
            (_("Asked only here, in person"), items(in_person)),
            (_("Also asked online before booking: go through them again"), items(online)),
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for q in self.questions:
            on = data.get(f"{q.key}_on")
            if on is not None and not is_sane_year(on):
                self.add_error(f"{q.key}_on", _("Give a real date."))
            elif q.asks_when and data.get(q.key) == "yes" and on is None:
                if f"{q.key}_on" not in self.errors:
                    self.add_error(f"{q.key}_on", _("Give the date (a close guess is fine)."))
            elif on is not None and on > self.today:
                self.add_error(f"{q.key}_on", _("Give the last time, not a date ahead."))
        return data

    def answers(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for q in self.questions:
            yes = self.cleaned_data.get(q.key) == "yes"
            out[q.key] = yes
            on = self.cleaned_data.get(f"{q.key}_on")
            if q.asks_when and yes and on is not None:
                out[f"{q.key}_on"] = on.isoformat()
        return out


def _history_initial(prefill: dict[str, object]) -> dict[str, Any]:
    return {k: ("yes" if v else "no") if isinstance(v, bool) else v for k, v in prefill.items()}


class AmendForm(DetailsForm):
    reason = forms.CharField(
        label=gettext_lazy("Why it is amended"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": gettext_lazy("Say why the signed consultation changes.")},
    )


def _history_questions(consultation: Any) -> list[Any]:
    asked = consultation_questionnaire(consultation)
    if asked is None:
        return []
    return [q for q in asked.questions if q.key != DARK_SKIN_QUESTION]


def _page(
    request: HttpRequest,
    client: Any,
    consultation: Any,
    *,
    details: DetailsForm | None = None,
    history: HistoryForm | None = None,
    status: int = 200,
    error: str = "",
) -> HttpResponse:
    now = timezone.now()
    today = timezone.localdate(now, clinic_zone())
    current = consultation_current(consultation)
    questions = _history_questions(consultation)
    if details is None and not consultation.is_signed:
        details = DetailsForm(initial=_details_initial(current), client=client)
    if history is None:
        prefill = consultation_prefill(client, consultation_questionnaire(consultation))
        history = HistoryForm(initial=_history_initial(prefill), questions=questions, today=today)
    screening = None
    if current.screening_id:
        screening = screening_list_for_client(client).filter(pk=current.screening_id).first()
    plan_label = dict(_plan_choices(client)).get(str(current.plan_id or ""), "")
    return render(
        request,
        "backoffice/consultation.html",
        {
            "client": client,
            "c": consultation,
            "current": current,
            "details": details,
            "history": history,
            "screening": screening,
            "plan_label": plan_label,
            "concerns": [
                {
                    **item,
                    "zone_label": concern_zone_label(item["zone"]),
                    "concern_label": dict(CONCERN_CHOICES).get(item.get("concern", ""), ""),
                }
                for item in current.concerns
            ],  # fmt: skip
            "zone": clinic_zone(),
            "error": error,
            "desk_section": "clients",
        },
        status=status,
    )


@clinician_required
def consultation_list(request: HttpRequest, client_id: Any) -> HttpResponse:
    client = _client(client_id)
    items = consultation_list_for_client(client)
    for item in items:
        consultation_view_record(
            consultation=item, by=request.user, now=timezone.now(), via="desk, list"
        )
    return render(
        request,
        "backoffice/consultations.html",
        {
            "client": client,
            "items": items,
            "form": StartForm(client=client),
            "zone": clinic_zone(),
            "desk_section": "clients",
        },
    )


@clinician_required
def consultation_new(request: HttpRequest, client_id: Any) -> HttpResponse:
    client = _client(client_id)
    if request.method != "POST":
        return redirect("desk:consultations", client_id=client.pk)
    form = StartForm(request.POST, client=client)
    if form.is_valid():
        plan = appointment = None
        try:
            if form.cleaned_data["plan"]:
                plan = plan_get(form.cleaned_data["plan"])
            if form.cleaned_data["appointment"]:
                appointment = next(
                    a
                    for a in appointment_list(client_id=client.pk)
                    if str(a.pk) == form.cleaned_data["appointment"]
                )
            consultation = consultation_start(
                client=client, by=request.user, now=timezone.now(), plan=plan,
                appointment=appointment,
            )  # fmt: skip
        except (DomainError, StopIteration) as exc:
            form.add_error(None, str(exc) if isinstance(exc, DomainError) else _("Not found."))
        else:
            return redirect(
                "desk:consultation", client_id=client.pk, consultation_id=consultation.pk
            )
    return render(
        request,
        "backoffice/consultations.html",
        {
            "client": client,
            "items": consultation_list_for_client(client),
            "form": form,
            "zone": clinic_zone(),
            "desk_section": "clients",
        },
        status=422,
    )


@clinician_required
def consultation_page(request: HttpRequest, client_id: Any, consultation_id: Any) -> HttpResponse:
    client = _client(client_id)
    consultation = _consultation(client, consultation_id)
    consultation_view_record(
        consultation=consultation, by=request.user, now=timezone.now(), via="desk"
    )
    return _page(request, client, consultation)


def _plan_of(value: str) -> Any:
    return plan_get(value) if value else None


@clinician_required
def consultation_details(
    request: HttpRequest, client_id: Any, consultation_id: Any
) -> HttpResponse:
    client = _client(client_id)
    consultation = _consultation(client, consultation_id)
    if request.method != "POST":
        return redirect("desk:consultation", client_id=client.pk, consultation_id=consultation.pk)
    form = DetailsForm(request.POST, client=client)
    if form.is_valid():
        data = form.cleaned_data
        try:
            consultation_update(
                consultation=consultation,
                by=request.user,
                now=timezone.now(),
                skin_type=data["skin_type"],
                concerns=form.concerns(),
                goals=data["goals"],
                notes=data["notes"],
                plan=_plan_of(data["plan"]),
            )
        except DomainError as exc:
            for field, message in exc.fields.items():
                if field in form.fields:
                    form.add_error(field, message)
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Saved."))
            return redirect(
                "desk:consultation", client_id=client.pk, consultation_id=consultation.pk
            )
    consultation = _consultation(client, consultation_id)
    return _page(
        request, client, consultation, details=form, status=422, error=_("Nothing was saved.")
    )


@clinician_required
def consultation_history(
    request: HttpRequest, client_id: Any, consultation_id: Any
) -> HttpResponse:
    client = _client(client_id)
    consultation = _consultation(client, consultation_id)
    if request.method != "POST":
        return redirect("desk:consultation", client_id=client.pk, consultation_id=consultation.pk)
    now = timezone.now()
    today = timezone.localdate(now, clinic_zone())
    form = HistoryForm(request.POST, questions=_history_questions(consultation), today=today)
    if form.is_valid():
        try:
            response = consultation_history_record(
                consultation=consultation,
                answers=form.answers(),
                by=request.user,
                now=now,
                today=today,
                reason=form.cleaned_data.get("reason") or "",
            )
        except DomainError as exc:
            for field, message in exc.fields.items():
                if field in form.fields:
                    form.add_error(field, message)
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                _("Medical history recorded: %(outcome)s.")
                % {"outcome": response.get_outcome_display().lower()},
            )
            return redirect(
                "desk:consultation", client_id=client.pk, consultation_id=consultation.pk
            )
    return _page(
        request,
        client,
        consultation,
        history=form,
        status=422,
        error=_("The medical history was not recorded: answer every question."),
    )


@clinician_required
def consultation_sign_view(
    request: HttpRequest, client_id: Any, consultation_id: Any
) -> HttpResponse:
    client = _client(client_id)
    consultation = _consultation(client, consultation_id)
    if request.method != "POST":
        return redirect("desk:consultation", client_id=client.pk, consultation_id=consultation.pk)
    try:
        consultation_sign(consultation=consultation, by=request.user, now=timezone.now())
    except DomainError as exc:
        return _page(request, client, consultation, status=422, error=str(exc))
    messages.success(request, _("Consultation signed. Later changes are amendments."))
    return redirect("desk:consultation", client_id=client.pk, consultation_id=consultation.pk)


@clinician_required
def consultation_amend_view(
    request: HttpRequest, client_id: Any, consultation_id: Any
) -> HttpResponse:
    client = _client(client_id)
    consultation = _consultation(client, consultation_id)
    if not consultation.is_signed:
        return redirect("desk:consultation", client_id=client.pk, consultation_id=consultation.pk)
    current = consultation_current(consultation)
    initial = _details_initial(current)
    status = 200
    if request.method == "POST":
        form = AmendForm(request.POST, client=client)
        if form.is_valid():
            data = form.cleaned_data
            changes: dict[str, Any] = {
                "skin_type": data["skin_type"],
                "concerns": form.concerns(),
                "goals": data["goals"],
                "notes": data["notes"],
            }
            if (data["plan"] or None) != (str(current.plan_id) if current.plan_id else None):
                changes["plan"] = _plan_of(data["plan"])
            else:
                changes["plan"] = UNSET
            # Only what differs from the record as it reads now becomes an amendment.
            try:
                made = consultation_amend(
                    consultation=consultation,
                    by=request.user,
                    now=timezone.now(),
                    reason=data["reason"],
                    **changes,
                )
            except DomainError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request,
                    _("%(n)s change(s) added as amendments.") % {"n": len(made)},
                )
                return redirect(
                    "desk:consultation", client_id=client.pk, consultation_id=consultation.pk
                )
        status = 422
    else:
        form = AmendForm(initial=initial, client=client)
        consultation_view_record(
            consultation=consultation, by=request.user, now=timezone.now(), via="desk, amend"
        )
    return render(
        request,
        "backoffice/consultation_amend.html",
        {"client": client, "c": consultation, "form": form, "desk_section": "clients"},
        status=status,
    )
