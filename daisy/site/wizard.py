"""The plumbing the two booking wizards share: the single booking at /book/ (booking.py) and the
whole course at /book/course/ (course_booking/views.py).

A `Wizard` is one flow's answers in the session (under its own key, never in a URL), its list of
steps, the guard that sends a client back to the first unanswered step, the step-progress
context, and the details and pre-screen steps, which ask the same questions in both flows. What
differs between the flows (which step comes next, which steps are hidden, what each page shows
besides) is passed in by the flow."""

from __future__ import annotations

import copy
import secrets
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from daisy.clients.accounts import client_account_ensure
from daisy.clients.selectors import client_for_user
from daisy.clinic.selectors import specialist_get
from daisy.core.screening import age_on
from daisy.lib.errors import NotFound
from daisy.records.selectors import questionnaire_asked
from daisy.records.services import screening_evaluate
from daisy.scheduling.selectors import (
    ROLE_SPECIALIST,
    eligible_resources,
    location_get,
    locations_offering,
)
from daisy.site.forms import ANYONE, DetailsForm, PrescreenForm
from daisy.site.selectors import TreatmentInfo

State = dict[str, Any]


@dataclass(frozen=True)
class Wizard:
    session_key: str
    # (url name, label) in order; a step's place in this list is what the guard compares.
    steps: Sequence[tuple[str, Any]]
    # The treatment the answers are for, or None when there is none (yet) to book.
    info: Callable[[State], TreatmentInfo | None]
    # The first step that still needs an answer.
    next_step: Callable[[HttpRequest, State, Any], str]
    # The steps left out of the progress list for this client and treatment.
    hidden_steps: Callable[[HttpRequest, Any], Collection[str]]
    # What every page of the flow shows besides the steps, the clinic and the specialist.
    more_context: Callable[[State], dict[str, Any]]
    # Keys every state starts with (besides its random owner key).
    defaults: Mapping[str, Any] = field(default_factory=dict)
    # The (first) session's local day, once chosen: the day a treatment's age limit applies to.
    session_day: Callable[[State], date | None] | None = None

    def step_index(self, name: str) -> int:
        return next(i for i, (step, _label) in enumerate(self.steps) if step == name)

    def state(self, request: HttpRequest) -> State:
        """The answers so far: a copy of what the session holds, which `save` writes back."""
        stored = request.session.get(self.session_key)
        state = copy.deepcopy(stored) if isinstance(stored, dict) else {}
        state.setdefault("owner", secrets.token_hex(16))
        for key, value in self.defaults.items():
            state.setdefault(key, copy.deepcopy(value))
        return state

    def save(self, request: HttpRequest, state: State) -> None:
        """Write the answers to the session only when they changed: looking at a step (the
        week of times above all) writes nothing, and a visitor who has chosen nothing yet
        gets no session at all (no row, no cookie)."""
        stored = request.session.get(self.session_key)
        if stored == state:
            return
        if stored is None and self._untouched(state):
            return
        request.session[self.session_key] = copy.deepcopy(state)

    def _untouched(self, state: State) -> bool:
        """A fresh state: its random owner key and the defaults, nothing chosen."""
        return state.keys() - {"owner"} == set(self.defaults) and all(
            state[key] == value for key, value in self.defaults.items()
        )

    def go_on(self, request: HttpRequest, state: State, info: Any) -> HttpResponse:
        return redirect(self.next_step(request, state, info))

    def back_to(self, request: HttpRequest, state: State, step: str, *forget: str) -> HttpResponse:
        """Drop answers that no longer hold (a clinic withdrawn meanwhile) and ask again."""
        for key in forget:
            state.pop(key, None)
        self.save(request, state)
        return redirect(step)

    def guard(self, request: HttpRequest, step: str) -> tuple[State, Any, HttpResponse | None]:
        """The state and treatment, or a redirect to the first unanswered step before this one.

        A clinic that stopped taking online bookings while the client was filling in is no
        longer an answer: it is dropped here, so every later step sends the client back to
        choose a clinic, rather than each step checking it again."""
        state = self.state(request)
        if state.get("location") and self.location(request, state) is None:
            state.pop("location")
            self.save(request, state)
        info = self.info(state)
        needed = self.next_step(request, state, info)
        if self.step_index(needed) < self.step_index(step):
            return state, info, redirect(needed)
        return state, info, None

    def location(self, request: HttpRequest, state: State) -> Any:
        """The chosen clinic, or None; read once per request (every step shows it, and the
        guard and the view need it too)."""
        key = state.get("location")
        cached = getattr(request, "_wizard_location", None)
        if cached is None or cached[0] != key:
            cached = (key, location_of(state))
            request._wizard_location = cached  # type: ignore[attr-defined]
        return cached[1]

    def specialist(self, request: HttpRequest, state: State) -> Any:
        """The chosen specialist, or None for anyone; read once per request, as the clinic."""
        key = state.get("specialist")
        cached = getattr(request, "_wizard_specialist", None)
        if cached is None or cached[0] != key:
            cached = (key, specialist_of(state))
            request._wizard_specialist = cached  # type: ignore[attr-defined]
        return cached[1]

    def context(self, request: HttpRequest, step: str, state: State, **extra: Any) -> dict:
        hidden = self.hidden_steps(request, extra.get("info"))
        here = self.step_index(step)
        steps = [
            {"label": label, "current": name == step, "done": i < here}
            for i, (name, label) in enumerate(self.steps)
            if name not in hidden
        ]
        return {
            "steps": steps,
            "state": state,
            "location": self.location(request, state),
            "specialist_name": _name_or_anyone(self.specialist(request, state)),
            **self.more_context(state),
            **extra,
        }

    def details(
        self,
        request: HttpRequest,
        step: str,
        template: str,
        *,
        invalid_status: int,
        then: Callable[[HttpRequest, State, Any], HttpResponse | None] | None = None,
    ) -> HttpResponse:
        """A guest's name, email, phone and date of birth (or, for staff booking on someone's
        behalf, the client's); a signed-in client skips this step. An email or phone Daisy
        already knows is accepted like any other: the booking becomes that client's (one person,
        one record), their findings and holds apply, and nothing on this page or the next says
        that the address was known (the owner of the address is told in their own inbox).
        `then` runs once the details are kept (the single booking extends its hold there); a
        response it returns is sent instead of going on."""
        state, info, early = self.guard(request, step)
        if early:
            return early
        if signed_in_client(request) is not None:
            return self.go_on(request, state, info)
        initial = dict(state.get("details") or {})
        location = self.location(request, state)
        form = DetailsForm(
            request.POST or None,
            initial=initial,
            today=timezone.localdate(),
            region=getattr(location, "country", None),
        )
        if request.method == "POST" and form.is_valid():
            self._age_check(form, state, info)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            state["details"] = {**data, "date_of_birth": data["date_of_birth"].isoformat()}
            self.save(request, state)
            instead = then(request, state, info) if then is not None else None
            return instead or self.go_on(request, state, info)
        return render(
            request,
            template,
            self.context(
                request,
                step,
                state,
                form=form,
                info=info,
                sign_in_url=reverse("accounts:sign-in") + "?next=" + reverse(step),
            ),
            status=invalid_status if form.errors else 200,
        )

    def _age_check(self, form: DetailsForm, state: State, info: Any) -> None:
        """The treatment's age limit, told on this page in words a person reads (the booking
        service refuses it too, on every path): not after the questions, at "Confirm"."""
        limit = getattr(info.treatment, "min_age", None) if info is not None else None
        born = form.cleaned_data.get("date_of_birth")
        if not limit or born is None:
            return
        day = (self.session_day(state) if self.session_day else None) or timezone.localdate()
        if age_on(born, day) < limit:
            form.add_error(None, age_limit_message(info.treatment.name, limit))
            form.age_refused = True  # type: ignore[attr-defined]  # the page offers a consultation

    def check(
        self,
        request: HttpRequest,
        step: str,
        template: str,
        not_suitable: str,
        *,
        let_go: Callable[[State], None],
        invalid_status: int,
        wait: Callable[[HttpRequest, State, Any, date], HttpResponse | None] | None = None,
    ) -> HttpResponse:
        """The pre-screen: the treatment's online questions from the clinic's screening table.
        An answer that needs a clinician first books nothing, keeps no answer, lets go of what
        was chosen (`let_go`) and explains why kindly, offering a free consultation instead. An
        answer that calls for a wait goes to `wait` with the first possible day (the flow moves
        the time or the plan there). The booking stores the answers."""
        state, info, early = self.guard(request, step)
        if early:
            return early
        if not info.treatment.requires_screening:
            return self.go_on(request, state, info)
        today = timezone.localdate()
        asked = questionnaire_asked(info.treatment, online=True)
        if asked is None or not asked.questions:
            state["screened"] = True
            state["prescreen"] = {}
            self.save(request, state)
            return self.go_on(request, state, info)
        form = PrescreenForm(request.POST or None, questions=asked.questions, today=today)
        if request.method == "POST" and form.is_valid():
            answers = form.answers()
            evaluated = screening_evaluate(treatment=info.treatment, answers=answers, today=today)
            stops = evaluated.screening.stops if evaluated is not None else ()
            if stops:
                let_go(state)
                state.pop("screened", None)
                state.pop("prescreen", None)
                self.save(request, state)
                whys = []
                for finding in stops:
                    question = asked.question(finding.question)
                    if question is not None and question.why not in whys:
                        whys.append(question.why)
                return render(
                    request,
                    not_suitable,
                    self.context(request, step, state, info=info, stops=whys),
                )
            state["screened"] = True
            # Kept until the booking: the booking service checks them again (every path
            # that books for the client runs the same rules) and stores them.
            state["prescreen"] = answers
            self.save(request, state)
            until = evaluated.screening.deferred_until if evaluated is not None else None
            if until is not None and wait is not None:
                instead = wait(request, state, info, until)
                if instead is not None:
                    return instead
            return self.go_on(request, state, info)
        return render(
            request,
            template,
            self.context(request, step, state, form=form, info=info),
            status=invalid_status if form.errors else 200,
        )


# --- what both flows look up from the answers -------------------------------------------------


def done_record_keep(
    request: HttpRequest, key: str, *, client: Any, user: Any, **record: Any
) -> None:
    """What the done page may show, kept in the session that booked, with whose it is."""
    request.session[key] = {
        **record,
        "client": str(client.pk),
        "by": str(user.pk) if getattr(user, "pk", None) else "",
    }


def done_record(request: HttpRequest, key: str) -> dict[str, Any] | None:
    """The session's last booking, only for whoever made it: on a shared browser, the next
    person to sign in does not see someone else's confirmation. A guest's page shows while their
    session lasts; once anyone signs in, only the booking's own client (or the staff member who
    booked it) sees it."""
    record = request.session.get(key)
    if not isinstance(record, dict):
        return None
    user = request.user
    if not user.is_authenticated:
        return record
    if str(user.pk) == record.get("by"):
        return record
    own = client_for_user(user)
    if own is not None and str(own.pk) == record.get("client"):
        return record
    request.session.pop(key, None)
    return None


def age_limit_message(treatment: str, limit: int) -> str:
    return _(
        "Sorry, we cannot book %(treatment)s for you: it is only for people aged %(age)s or "
        "over on the day of the appointment. A free skin consultation is open to everyone, and "
        "a specialist can suggest a treatment that suits younger skin."
    ) % {"treatment": treatment, "age": limit}


def stop_message(request: HttpRequest, exc: Any, *, course: bool) -> str:
    """What the page says when the eligibility gate refuses. Staff read the reason (the finding,
    the hold). A client reads a kind, general sentence: a guest's booking may have landed on a
    record Daisy already holds for that address, and the page must not reveal that it did, nor
    anything on it."""
    if getattr(request.user, "is_clinic_staff", False):
        return str(exc.message)
    if getattr(exc, "code", "") == "age_limit" and signed_in_client(request) is not None:
        # Their own record's date of birth, which they know: say plainly why.
        return str(exc.message)
    if getattr(exc, "code", "") == "prescreen_deferred":
        # From the answers just given, not from the record: safe, and useful, to say.
        return str(exc.message)
    if course:
        return _(
            "We cannot book this course online for you at the moment. A free consultation is "
            "the right next step: a specialist will talk it through with you."
        )
    return _(
        "We cannot book this treatment online for you at the moment. A free consultation is "
        "the right next step: a specialist will talk it through with you."
    )


def prescreen_answers(state: State) -> dict[str, Any] | None:
    answers = state.get("prescreen")
    return dict(answers) if isinstance(answers, dict) else None


def signed_in_client(request: HttpRequest) -> Any:
    user = request.user
    if not user.is_authenticated or getattr(user, "is_clinic_staff", False):
        return None
    return client_for_user(user)


def areas_for(info: TreatmentInfo) -> list[str]:
    return info.page.area_choices if info.page else []


def location_of(state: State) -> Any:
    if not state.get("location"):
        return None
    try:
        return location_get(state["location"])
    except NotFound:
        return None


def specialist_of(state: State) -> Any:
    sid = state.get("specialist")
    if not sid or sid == ANYONE:
        return None
    try:
        return specialist_get(sid)
    except NotFound:
        return None


def _name_or_anyone(specialist: Any) -> str:
    return specialist.name if specialist else _("Anyone available")


def place_choices(info: TreatmentInfo, location_id: str | None) -> tuple[list, list, Any]:
    """The clinics offering the treatment, the specialists of the chosen (or first) one, and
    that clinic."""
    locations = list(locations_offering(info.treatment))
    current = next((loc for loc in locations if str(loc.pk) == str(location_id)), None)
    if current is None and locations:
        current = locations[0]
    specialists: list[tuple[str, str]] = []
    if current is not None:
        by_role = eligible_resources(info.treatment, current)
        specialists = [(r.id, r.name) for r in by_role.get(ROLE_SPECIALIST, [])]
    return [(str(loc.pk), f"{loc.name}, {loc.city}") for loc in locations], specialists, current


def booking_client(
    request: HttpRequest, state: State, client: Any, now: datetime
) -> tuple[Any, Any, bool]:
    """(who acted, the client, is it a guest's booking). The signed-in client books for
    themselves. For a guest, and for staff booking on someone's behalf, the client is the one
    Daisy knows by that email (made, with a login to confirm, when there is none); call it in
    the booking's transaction, so a booking that fails leaves no account. Staff are recorded
    as who acted, never the client's account."""
    if client is not None:
        return request.user, client, False
    d = state["details"]
    user, client, _created = client_account_ensure(
        email=d["email"],
        first_name=d["first_name"],
        last_name=d["last_name"],
        phone=d["phone"],
        date_of_birth=date.fromisoformat(d["date_of_birth"]),
        now=now,
    )
    if getattr(request.user, "is_clinic_staff", False):
        return request.user, client, False
    return user, client, True
