"""Courses and important dates (issue 5): propose a whole course (no writes), book it in one go,
read it back, and a client's important dates. Staff may do all of it for any client; a client
token only for itself. Field names follow the issue: they are a contract."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from typing import Annotated, Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Header, Router, Status
from pydantic import AfterValidator, Field, StringConstraints, model_validator

from daisy.api.auth import Actor, TokenAuth, actor_of
from daisy.api.docs import errors
from daisy.api.errors import ApiError, error_response
from daisy.api.refs import client_ref, specialist_ref, treatment_ref
from daisy.api.schemas import (
    ApiDate,
    IdempotencyKey,
    InputSchema,
    Out,
    PrecareKey,
    PrescreenIn,
    Reason,
    Slug,
    StartTime,
    rfc3339,
)
from daisy.api.throttles import AVAILABILITY, WRITE
from daisy.booking.courses import SessionTime, course_book
from daisy.clients.selectors import client_get
from daisy.clients.services import client_view_record
from daisy.core import courses as core
from daisy.courses.selectors import (
    CourseView,
    course_get,
    course_get_for_client,
    important_date_list_for_client,
)
from daisy.courses.services import course_propose, important_date_create, important_date_kind_check
from daisy.lib.errors import CourseUnavailable, NotFound, ValidationFailed

router = Router(tags=["courses"], auth=TokenAuth())

_HHMM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
Label = Annotated[str, StringConstraints(max_length=120)]
KindSlug = Annotated[str, StringConstraints(pattern=r"^[-a-z0-9_]{1,40}$")]


def _weekdays(value: list[int] | None) -> list[int] | None:
    if value is not None and len(set(value)) != len(value):
        raise ValueError("List each weekday once.")
    return value


class TimeWindow(InputSchema):
    start: Annotated[str, StringConstraints(pattern=_HHMM)] = Field(
        description="Local wall-clock time, HH:MM."
    )
    end: Annotated[str, StringConstraints(pattern=_HHMM)] = Field(
        description="Local wall-clock time, HH:MM, after `start`."
    )

    @model_validator(mode="after")
    def _ordered(self) -> TimeWindow:
        if self.end <= self.start:
            raise ValueError("The window must end after it starts.")
        return self


class ImportantDateIn(InputSchema):
    kind: KindSlug = Field(description="e.g. `wedding`, `job_interview`, `beach_holiday`.")
    start: ApiDate
    end: ApiDate | None = Field(None, description="Last day, inclusive; default: `start`.")
    label: Label | None = Field(None, description='e.g. "Sam\'s wedding".')

    @model_validator(mode="after")
    def _ordered(self) -> ImportantDateIn:
        if self.end is not None and self.end < self.start:
            raise ValueError("The date must end on or after its start.")
        if self.end is not None and (self.end - self.start).days > 366:
            raise ValueError("An important date spans at most a year.")
        return self


Weekdays = Annotated[
    list[Annotated[int, Field(ge=0, le=6)]],
    Field(min_length=1, max_length=7),
    AfterValidator(_weekdays),
]


class PlanIn(InputSchema):
    client: uuid.UUID = Field(description="Client id. A client token may only give its own.")
    treatment: Slug = Field(description="Treatment slug, e.g. `microneedling`.")
    sessions: int = Field(ge=1, le=12, description="Sessions in the course (above 6: extended).")
    interval_days: int = Field(
        28, ge=14, le=56, description="Target days between sessions; allowed window 21-42."
    )
    earliest_start: ApiDate = Field(description="Session 1 falls within a week of this date.")
    specialist: uuid.UUID | None = Field(None, description="Keep this specialist where possible.")
    preferred_weekdays: Weekdays | None = Field(None, description="0 = Monday ... 6 = Sunday.")
    preferred_times: list[TimeWindow] | None = Field(
        None, min_length=1, max_length=6, description="Local windows holding the whole visit."
    )
    important_dates: list[ImportantDateIn] | None = Field(
        None, max_length=20, description="Added to the client's stored important dates."
    )
    precare_confirmed: list[PrecareKey] = Field(
        default_factory=list,
        max_length=50,
        description="Keys of the preparation steps the client already follows. For a client "
        "token, session 1 is planned no sooner than the other steps can be followed in full.",
    )


class SessionTimeIn(InputSchema):
    start: StartTime
    specialist: uuid.UUID | None = Field(None, description="Ask for this specialist.")


class CourseIn(InputSchema):
    client: uuid.UUID = Field(description="Client id. A client token may only give its own.")
    treatment: Slug = Field(description="Treatment slug, e.g. `microneedling`.")
    sessions: int = Field(ge=1, le=12, description="Sessions in the course (above 6: extended).")
    interval_days: int = Field(28, ge=14, le=56, description="Target days between sessions.")
    earliest_start: ApiDate | None = Field(
        None, description="Plan and book from this date; or give `session_times`."
    )
    session_times: list[SessionTimeIn] | None = Field(
        None, min_length=1, max_length=12, description="Book exactly these (e.g. a proposal)."
    )
    specialist: uuid.UUID | None = Field(None, description="Keep this specialist where possible.")
    preferred_weekdays: Weekdays | None = None
    preferred_times: list[TimeWindow] | None = Field(None, min_length=1, max_length=6)
    important_dates: list[ImportantDateIn] | None = Field(None, max_length=20)
    confirm_important_dates: bool = Field(
        False, description="Book even where a recovery window covers an important date."
    )
    interval_override_reason: Reason | None = Field(
        None, description="Required (clinician) for an interval below 28 days."
    )
    prescreen: PrescreenIn | None = Field(
        None,
        description="Required when a client token books a treatment that needs screening "
        "(otherwise 422 `prescreen_required`).",
    )
    precare_confirmed: list[PrecareKey] = Field(
        default_factory=list,
        max_length=50,
        description="Keys of the preparation steps the client confirms they already follow "
        "when session 1 is too soon for them (409 `precare_too_soon` otherwise, for a client "
        "token; a planned course then starts when the preparation can be followed).",
    )

    @model_validator(mode="after")
    def _one_way(self) -> CourseIn:
        if self.session_times is None and self.earliest_start is None:
            raise ValueError("Give `earliest_start` or `session_times`.")
        if self.session_times is not None and len(self.session_times) != self.sessions:
            raise ValueError("Give one session time per session.")
        return self


class PlannedSessionOut(Out):
    start: datetime = Field(description="Location's offset.")
    end: datetime = Field(description="When the client leaves (location's offset).")
    specialist: uuid.UUID | None
    location: uuid.UUID


class ProblemOut(Out):
    session: int
    reason: str


class AlternativeOut(Out):
    shift_days: int = Field(description="Session 1 this many days after the requested week.")
    sessions: list[PlannedSessionOut]


class PlanOut(Out):
    sessions: list[PlannedSessionOut] = Field(description="The full plan, or the best partial.")
    problems: list[ProblemOut] = Field(description="Empty when every session is placed.")
    alternative: AlternativeOut | None = Field(
        None, description="When there is no full plan: the nearest later start that has one."
    )


class CourseSessionOut(Out):
    number: int | None = Field(description="Session number; null when cancelled.")
    appointment: uuid.UUID
    start: datetime = Field(description="Location's offset.")
    end: datetime = Field(description="Location's offset.")
    state: str = Field(description="`planned`, `done`, `cancelled` or `missed`.")
    specialist: uuid.UUID | None
    location: uuid.UUID


class GradeOut(Out):
    at: datetime = Field(description="UTC.")
    grade: int


class AreaOut(Out):
    area: str
    concern: str
    scale: str
    grades: list[GradeOut] = Field(description="Oldest first.")


class CourseOut(Out):
    id: uuid.UUID
    client: uuid.UUID
    treatment: str = Field(description="Treatment slug.")
    status: str = Field(description="proposed, accepted, in_progress, completed or stopped.")
    progress: str = Field(description='e.g. "Session 2 of 4".')
    sessions_planned: int
    sessions_done: int
    is_extended: bool = Field(description="More than 6 sessions: extended or maintenance.")
    interval_days: int
    min_interval_days: int
    max_interval_days: int
    sessions: list[CourseSessionOut]
    areas: list[AreaOut]


class ImportantDateOut(Out):
    id: uuid.UUID
    kind: str
    label: str
    start: date
    end: date


# --- presenting ----------------------------------------------------------------------------


def _planned(sessions: Any, location: Any) -> list[dict[str, Any]]:
    tz = location.tz
    return [
        {
            "start": rfc3339(s.slot.start.astimezone(tz)),
            "end": rfc3339(s.slot.end.astimezone(tz)),
            "specialist": str(uuid.UUID(s.specialist)) if s.specialist else None,
            "location": str(location.pk),
        }
        for s in sessions
    ]


def _plan_out(planned: core.CoursePlan, location: Any) -> dict[str, Any]:
    alt = planned.alternative
    return {
        "sessions": _planned(planned.sessions, location),
        "problems": [{"session": p.session, "reason": p.reason} for p in planned.problems],
        "alternative": (
            {"shift_days": alt.shift_days, "sessions": _planned(alt.sessions, location)}
            if alt is not None
            else None
        ),
    }


def _course_out(view: CourseView) -> dict[str, Any]:
    return {
        "id": view.id,
        "client": view.client_id,
        "treatment": view.treatment_slug,
        "status": view.status,
        "progress": view.progress_label,
        "sessions_planned": view.sessions_planned,
        "sessions_done": view.sessions_done,
        "is_extended": view.is_extended,
        "interval_days": view.interval_days,
        "min_interval_days": view.min_interval_days,
        "max_interval_days": view.max_interval_days,
        "sessions": [
            {
                "number": s.number,
                "appointment": s.appointment_id,
                "start": s.starts_at,
                "end": s.ends_at,
                "state": s.state,
                "specialist": s.specialist_id,
                "location": s.location_id,
            }
            for s in view.sessions
        ],
        "areas": [
            {
                "area": a.area,
                "concern": a.concern,
                "scale": a.scale,
                "grades": [{"at": g.graded_at, "grade": g.grade} for g in a.grades],
            }
            for a in view.areas
        ],
    }


def _date_out(item: Any) -> dict[str, Any]:
    return {
        "id": item.pk,
        "kind": item.kind.slug,
        "label": item.label,
        "start": item.start_on,
        "end": item.end_on,
    }


# --- parsing -------------------------------------------------------------------------------


def _own_client(actor: Actor, client_id: uuid.UUID, verb: str) -> Any:
    if actor.is_client and not actor.owns_client(client_id):
        raise ApiError(403, "forbidden", verb)
    return client_ref(client_id)


def _times(windows: list[TimeWindow] | None) -> list[tuple[time, time]] | None:
    if windows is None:
        return None
    return [(time.fromisoformat(w.start), time.fromisoformat(w.end)) for w in windows]


def _dates(items: list[ImportantDateIn] | None) -> list[core.ImportantDate]:
    out = []
    for i, item in enumerate(items or ()):
        kind = important_date_kind_check_field(item.kind, f"important_dates.{i}.kind")
        out.append(core.ImportantDate(kind, item.start, item.end or item.start, item.label or ""))
    return out


def important_date_kind_check_field(kind: str, field: str) -> str:
    try:
        return important_date_kind_check(kind)
    except ValidationFailed as exc:
        raise ApiError(422, "validation_error", exc.message, fields={field: exc.message}) from None


def _unavailable(exc: CourseUnavailable) -> Any:
    proposal = exc.extra.get("proposal")
    body: dict[str, Any] = {}
    if proposal is not None:
        body = _plan_out(proposal.plan, proposal.location)
    return error_response(409, exc.code, exc.message, fields=dict(exc.fields), **body)


# --- endpoints -----------------------------------------------------------------------------


@router.post(
    "/courses/plan",
    response={200: PlanOut, **errors(400, 401, 403, 409, 413, 422, 429)},
    throttle=AVAILABILITY,
    operation_id="course_plan",
    summary="Propose a whole course (no writes)",
    description=(
        "Proposes a start for every session: gaps in the allowed window (21-42 days around "
        "`interval_days`), every session a bookable slot, no recovery window over an "
        "important date (the client's stored ones are always included), the same specialist "
        "where possible, least total deviation from the interval. When there is no full "
        "plan, `problems` says which session fails and why, `sessions` holds the best partial "
        "plan, and `alternative` the nearest full plan starting later. A client token may "
        "plan only for itself (403 otherwise)."
    ),
)
def course_plan_view(request: HttpRequest, payload: PlanIn) -> Any:
    actor = actor_of(request)
    client = _own_client(actor, payload.client, _("A client can only plan for themselves."))
    try:
        proposal = course_propose(
            client=client,
            treatment=treatment_ref(payload.treatment),
            sessions=payload.sessions,
            earliest_start=payload.earliest_start,
            now=timezone.now(),
            for_staff=actor.is_staff,
            interval_days=payload.interval_days,
            specialist=specialist_ref(payload.specialist) if payload.specialist else None,
            preferred_weekdays=payload.preferred_weekdays,
            preferred_times=_times(payload.preferred_times),
            important_dates=_dates(payload.important_dates),
            precare_confirmed=payload.precare_confirmed,
        )
    except CourseUnavailable as exc:
        return _unavailable(exc)
    return _plan_out(proposal.plan, proposal.location)


@router.post(
    "/courses",
    response={201: CourseOut, **errors(400, 401, 403, 409, 413, 422, 429)},
    throttle=WRITE,
    operation_id="course_create",
    summary="Book a whole course",
    description=(
        "Books every session in one transaction, or none. Give `session_times` (e.g. the "
        "proposal from `POST /courses/plan`) or `earliest_start` (the course is planned and "
        "booked in one step). **Idempotency-Key is required**, as for appointments.\n\n"
        "409 `course_unavailable` carries `problems` and `alternative` like the plan; 409 "
        "`slot_unavailable` names the session that was taken meanwhile; 409 "
        "`important_date_conflict` names the important dates a session's recovery window "
        "covers (send `confirm_important_dates: true` to book anyway). More than 6 sessions "
        "needs a specialist's token; an interval below 28 days a clinician's token and "
        "`interval_override_reason`."
    ),
)
def course_create_view(
    request: HttpRequest,
    payload: CourseIn,
    idempotency_key: IdempotencyKey = Header(
        ...,
        alias="Idempotency-Key",
        description="A unique key per booking attempt, 1-255 visible ASCII characters.",
    ),
) -> Any:
    actor = actor_of(request)
    client = _own_client(actor, payload.client, _("A client can only book for themselves."))
    times = None
    if payload.session_times is not None:
        times = [
            SessionTime(
                t.start, specialist_ref(t.specialist, "session_times") if t.specialist else None
            )
            for t in payload.session_times
        ]
    try:
        booked = course_book(
            client=client,
            treatment=treatment_ref(payload.treatment),
            booked_by=actor.user,
            now=timezone.now(),
            sessions=payload.sessions,
            earliest_start=payload.earliest_start,
            session_times=times,
            interval_days=payload.interval_days,
            specialist=specialist_ref(payload.specialist) if payload.specialist else None,
            preferred_weekdays=payload.preferred_weekdays,
            preferred_times=_times(payload.preferred_times),
            important_dates=_dates(payload.important_dates),
            idempotency_key=idempotency_key,
            confirm_important_dates=payload.confirm_important_dates,
            interval_override_reason=payload.interval_override_reason or "",
            prescreen=payload.prescreen.answers() if payload.prescreen else None,
            prescreen_via="api",
            precare_confirmed=payload.precare_confirmed,
        )
    except CourseUnavailable as exc:
        return _unavailable(exc)
    return Status(201, _course_out(course_get(booked.plan.pk)))


@router.get(
    "/courses/{course_id}",
    response={200: CourseOut, **errors(401, 404, 422)},
    operation_id="course_get",
    summary="One course",
    description="Staff: any course. Client: only its own (others answer 404).",
)
def course_get_view(request: HttpRequest, course_id: uuid.UUID) -> Any:
    actor = actor_of(request)
    if actor.is_client:
        if actor.client is None:
            raise NotFound(_("That course does not exist."))
        return _course_out(course_get_for_client(actor.client, course_id))
    course = course_get(course_id)
    # Areas, concerns and severity grades are health data: a staff read is audited.
    client_view_record(
        client=client_get(course.client_id), by=actor.user, now=timezone.now(), via="api:course"
    )
    return _course_out(course)


def _scoped_client(actor: Actor, client_id: uuid.UUID) -> Any:
    if actor.is_client and not actor.owns_client(client_id):
        raise NotFound(_("That client does not exist."))
    return client_get(client_id)


@router.get(
    "/clients/{client_id}/important-dates",
    response={200: list[ImportantDateOut], **errors(401, 404, 422)},
    operation_id="important_date_list",
    summary="A client's important dates",
    description="In date order. Staff: any client. Client: only itself.",
)
def important_date_list_view(request: HttpRequest, client_id: uuid.UUID) -> Any:
    actor = actor_of(request)
    client = _scoped_client(actor, client_id)
    if actor.is_staff:
        client_view_record(
            client=client, by=actor.user, now=timezone.now(), via="api:important-dates"
        )
    return [_date_out(item) for item in important_date_list_for_client(client)]


@router.post(
    "/clients/{client_id}/important-dates",
    response={201: ImportantDateOut, **errors(400, 401, 404, 413, 422, 429)},
    throttle=WRITE,
    operation_id="important_date_create",
    summary="Record an important date",
    description=(
        "A date to look one's best for. From then on, no session's recovery window may cover "
        "it without an explicit confirmation. Sun-exposure kinds keep a longer window clear."
    ),
)
def important_date_create_view(
    request: HttpRequest, client_id: uuid.UUID, payload: ImportantDateIn
) -> Any:
    actor = actor_of(request)
    client = _scoped_client(actor, client_id)
    item = important_date_create(
        client=client,
        kind=important_date_kind_check_field(payload.kind, "kind"),
        start_on=payload.start,
        end_on=payload.end,
        label=payload.label or "",
        by=actor.user,
        now=timezone.now(),
    )
    return Status(201, _date_out(item))
