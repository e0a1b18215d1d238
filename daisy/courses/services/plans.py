"""Treatment plans, their recommendation (DOMAIN.md 1.2, 1.3) and the client's important dates."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from daisy.aftercare.services import (
    appointment_cancellation_schedule,
    appointment_messages_cancel,
)
from daisy.audit.services import audit_record
from daisy.courses import selectors as course_selectors
from daisy.courses.models import (
    CONCERN_SCALE,
    DEFAULT_INTERVAL_DAYS,
    DEFAULT_MAX_INTERVAL_DAYS,
    DEFAULT_MIN_INTERVAL_DAYS,
    HARD_MAX_INTERVAL_DAYS,
    HARD_MIN_INTERVAL_DAYS,
    MAX_SESSIONS,
    STANDARD_MAX_SESSIONS,
    AreaGrade,
    Concern,
    CourseDefault,
    ImportantDate,
    ImportantDateKind,
    Plan,
    PlanArea,
    PlanSession,
    PlanStatus,
    Scale,
)
from daisy.courses.presets import COURSES, KINDS
from daisy.lib.errors import (
    IdempotencyConflict,
    PermissionDenied,
    PolicyViolation,
    ValidationFailed,
)
from daisy.scheduling.models import Appointment, Status
from daisy.scheduling.services import appointment_cancel


def _is_staff(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_clinic_staff", False))


def _is_clinician(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_clinician", False))


def _require_staff(user: Any) -> None:
    if not _is_staff(user):
        raise PermissionDenied(_("Only clinic staff can change treatment plans."))


# --- recommendation (DOMAIN.md 1.2 and 1.3) -------------------------------------------------


@dataclass(frozen=True)
class AreaInput:
    area: str
    concern: str
    grade: int
    note: str = ""


@dataclass(frozen=True)
class Recommendation:
    sessions: int
    interval_days: int
    notes: tuple[str, ...] = ()

    @property
    def is_extended(self) -> bool:
        return self.sessions > STANDARD_MAX_SESSIONS


def _area_sessions(area: AreaInput, default: CourseDefault) -> tuple[int, str]:
    """Sessions for one area, and a note for the clinician when the grade asks for one."""
    base, low, high = default.sessions, default.min_sessions, default.max_sessions
    scale = CONCERN_SCALE[Concern(area.concern)]
    grade = area.grade
    if scale == Scale.GOODMAN_BARON:
        # DOMAIN.md 1.3 row Goodman & Baron: grades 2-3 a standard course of 3-5; grade 4
        # clinician review, combination therapy, 5-6+ sessions; grade 1 not the primary tool.
        if grade == 1:
            return base, _(
                "%(area)s: grade 1 (macular) marks are colour only; micro-needling is not the "
                "primary tool, consider other modalities."
            ) % {"area": area.area}
        if grade == 2:
            return base, ""
        if grade == 3:
            return min(base + 1, max(high, base + 1)), ""
        return max(high, 6), _(
            "%(area)s: grade 4 (severe) scars need a clinician's review and usually combination "
            "therapy (subcision, TCA CROSS, lasers); expect a partial response."
        ) % {"area": area.area}
    if scale == Scale.GLOGAU:
        # DOMAIN.md 1.3 row Glogau: types II-III are the studied population; type IV needs
        # expectations set and combination therapy.
        if grade == 1:
            return max(low, base - 1), ""
        if grade in (2, 3):
            return base, ""
        return min(base + 2, MAX_SESSIONS), _(
            "%(area)s: Glogau type IV; set expectations and consider combination therapy."
        ) % {"area": area.area}
    # No DOMAIN.md 1.3 scale: the clinician's grade moves the course within its 1.2 range.
    if grade == 1:
        return max(low, base - 1), ""
    if grade == 2:
        return base, ""
    if grade == 3:
        return min(base + 1, high), ""
    return high, _("%(area)s: severe; a clinician should review the plan.") % {"area": area.area}


def course_recommend(
    areas: Sequence[AreaInput], *, defaults: Mapping[str, Any] | None = None
) -> Recommendation:
    """The recommended course for the areas: enough sessions for the most demanding area, at
    the shortest default interval among them (DOMAIN.md 1.2, the clinic's CourseDefault rows;
    pass `defaults` when they are already read, as course_default_map returns them)."""
    if not areas:
        return Recommendation(3, DEFAULT_INTERVAL_DAYS)
    if defaults is None:
        defaults = course_selectors.course_default_map()
    sessions, interval, notes = 1, HARD_MAX_INTERVAL_DAYS, []
    for area in areas:
        default = defaults.get(area.concern)
        if default is None:
            raise ValidationFailed(
                _("There is no default course for %(concern)s yet; add one in the admin.")
                % {"concern": area.concern},
                fields={"concern": "no default"},
            )
        count, note = _area_sessions(area, default)
        sessions, interval = max(sessions, count), min(interval, default.interval_days)
        if note:
            notes.append(note)
    return Recommendation(min(sessions, MAX_SESSIONS), interval, tuple(notes))


# --- plans ----------------------------------------------------------------------------------


def _clean_areas(areas: Sequence[AreaInput]) -> list[AreaInput]:
    out = []
    seen = set()
    for raw in areas:
        area = raw.area.strip()
        if not area:
            raise ValidationFailed(_("Name the area, e.g. cheeks."), fields={"area": "required"})
        if raw.concern not in Concern.values:
            raise ValidationFailed(
                _("Unknown concern %(concern)s.") % {"concern": raw.concern},
                fields={"concern": "unknown"},
            )
        if not 1 <= raw.grade <= 4:
            raise ValidationFailed(_("Grades run from 1 to 4."), fields={"grade": "1-4"})
        if (area.lower(), raw.concern) in seen:
            raise ValidationFailed(
                _("%(area)s is listed twice with the same concern.") % {"area": area},
                fields={"area": "duplicate"},
            )
        seen.add((area.lower(), raw.concern))
        out.append(AreaInput(area[:80], raw.concern, raw.grade, raw.note.strip()[:300]))
    return out


@dataclass(frozen=True)
class CourseShape:
    sessions: int
    interval_days: int
    min_interval_days: int
    max_interval_days: int


def course_shape(
    *,
    sessions: int,
    interval_days: int | None = None,
    min_interval_days: int | None = None,
    max_interval_days: int | None = None,
) -> CourseShape:
    """Checks the numbers of a course; the window defaults to 21-42 days around the interval
    (issue 5), widened to hold an interval outside it (DOMAIN.md 1.2: 14-56 days)."""
    interval = DEFAULT_INTERVAL_DAYS if interval_days is None else interval_days
    if not 1 <= sessions <= MAX_SESSIONS:
        raise ValidationFailed(
            _("A course has 1 to %(max)s sessions.") % {"max": MAX_SESSIONS},
            fields={"sessions": "1-12"},
        )
    if not HARD_MIN_INTERVAL_DAYS <= interval <= HARD_MAX_INTERVAL_DAYS:
        # DOMAIN.md 1.2 interval rules: hard minimum 2 weeks; above 8 weeks the course drifts.
        raise ValidationFailed(
            _("Sessions are %(low)s to %(high)s days apart.")
            % {"low": HARD_MIN_INTERVAL_DAYS, "high": HARD_MAX_INTERVAL_DAYS},
            fields={"interval_days": "14-56"},
        )
    low = (
        min(DEFAULT_MIN_INTERVAL_DAYS, interval) if min_interval_days is None else min_interval_days
    )
    high = (
        max(DEFAULT_MAX_INTERVAL_DAYS, interval) if max_interval_days is None else max_interval_days
    )
    if not HARD_MIN_INTERVAL_DAYS <= low <= interval <= high <= HARD_MAX_INTERVAL_DAYS:
        raise ValidationFailed(
            _("The allowed window must hold the interval and stay within %(low)s-%(high)s days.")
            % {"low": HARD_MIN_INTERVAL_DAYS, "high": HARD_MAX_INTERVAL_DAYS},
            fields={"min_interval_days": "window", "max_interval_days": "window"},
        )
    return CourseShape(sessions, interval, low, high)


def course_approvals_check(
    shape: CourseShape, *, by: Any, override_reason: str, extended_confirmed: bool = False
) -> tuple[bool, bool]:
    """(is an extended course confirmed by `by`, is an interval override by `by`)."""
    extended = shape.sessions > STANDARD_MAX_SESSIONS and not extended_confirmed
    if extended and not _is_clinician(by):
        # DOMAIN.md section 0 row 1: more than 6 is an extended / maintenance course.
        raise PermissionDenied(
            _(
                "More than %(max)s sessions is an extended or maintenance course: a specialist "
                "must confirm it."
            )
            % {"max": STANDARD_MAX_SESSIONS},
            code="extended_course_needs_specialist",
        )
    short = shape.interval_days < DEFAULT_INTERVAL_DAYS
    if short:
        # DOMAIN.md 1.2 interval rules: below 28 days needs a clinician override with a reason.
        if not override_reason.strip():
            raise ValidationFailed(
                _("An interval below 28 days needs a clinician's reason."),
                fields={"interval_override_reason": "required"},
            )
        if not _is_clinician(by):
            raise PermissionDenied(
                _("Only a specialist or the clinic manager can allow an interval below 28 days.")
            )
    return extended, short


def plan_create(
    *,
    client: Any,
    treatment: Any,
    by: Any,
    now: datetime,
    areas: Sequence[AreaInput] = (),
    sessions: int | None = None,
    interval_days: int | None = None,
    min_interval_days: int | None = None,
    max_interval_days: int | None = None,
    specialist: Any = None,
    location: Any = None,
    interval_override_reason: str = "",
    notes: str = "",
) -> Plan:
    """A proposed plan for the client. Sessions and interval default to the recommendation
    for the areas (DOMAIN.md 1.2, 1.3)."""
    _require_staff(by)
    cleaned = _clean_areas(areas)
    if cleaned and not _is_clinician(by):
        # DOMAIN.md 1.3: grading is a clinical assessment.
        raise PermissionDenied(_("Only a specialist or the clinic manager can grade an area."))
    advice = course_recommend(cleaned)
    shape = course_shape(
        sessions=advice.sessions if sessions is None else sessions,
        interval_days=advice.interval_days if interval_days is None else interval_days,
        min_interval_days=min_interval_days,
        max_interval_days=max_interval_days,
    )
    extended, short = course_approvals_check(shape, by=by, override_reason=interval_override_reason)
    with transaction.atomic():
        plan = Plan.objects.create(
            client=client,
            treatment=treatment,
            location=location,
            specialist=specialist,
            status=PlanStatus.PROPOSED,
            recommended_sessions=advice.sessions if cleaned else None,
            recommended_interval_days=advice.interval_days if cleaned else None,
            sessions=shape.sessions,
            interval_days=shape.interval_days,
            min_interval_days=shape.min_interval_days,
            max_interval_days=shape.max_interval_days,
            extended_confirmed_by=by if extended else None,
            interval_override_by=by if short else None,
            interval_override_reason=interval_override_reason.strip() if short else "",
            notes=notes,
            created_by=by,
            created_at=now,
            updated_at=now,
        )
        for item in cleaned:
            area = PlanArea.objects.create(plan=plan, area=item.area, concern=item.concern)
            AreaGrade.objects.create(
                area=area, grade=item.grade, graded_at=now, graded_by=by, note=item.note
            )
        audit_record(
            actor=by,
            action="course.plan_create",
            obj=plan,
            at=now,
            data={
                "client": str(client.pk),
                "treatment": treatment.slug,
                "sessions": shape.sessions,
                "interval_days": shape.interval_days,
                "recommended": advice.sessions if cleaned else None,
                "notes": list(advice.notes),
            },
        )
    return plan


_EDITABLE = {PlanStatus.PROPOSED, PlanStatus.ACCEPTED}


def plan_update(
    *,
    plan: Plan,
    by: Any,
    now: datetime,
    sessions: int | None = None,
    interval_days: int | None = None,
    min_interval_days: int | None = None,
    max_interval_days: int | None = None,
    interval_override_reason: str = "",
    notes: str | None = None,
) -> Plan:
    """Adjust a plan that is not stopped. Only the numbers given change; the same clinical
    approvals apply as at creation."""
    _require_staff(by)
    with transaction.atomic():
        plan = Plan.objects.select_for_update().get(pk=plan.pk)
        if plan.status not in _EDITABLE:
            raise PolicyViolation(_("A stopped course cannot be changed."))
        shape = course_shape(
            sessions=plan.sessions if sessions is None else sessions,
            interval_days=plan.interval_days if interval_days is None else interval_days,
            min_interval_days=plan.min_interval_days
            if min_interval_days is None and interval_days is None
            else min_interval_days,
            max_interval_days=plan.max_interval_days
            if max_interval_days is None and interval_days is None
            else max_interval_days,
        )
        already_extended = plan.extended_confirmed_by_id is not None and shape.sessions <= max(
            plan.sessions, STANDARD_MAX_SESSIONS
        )
        keeps_override = (
            plan.interval_override_by_id is not None
            and shape.interval_days >= plan.interval_days
            and not interval_override_reason.strip()
        )
        extended, short = course_approvals_check(
            shape,
            by=by,
            override_reason=interval_override_reason
            or (plan.interval_override_reason if keeps_override else ""),
            extended_confirmed=already_extended,
        )
        before = {
            "sessions": plan.sessions,
            "interval_days": plan.interval_days,
            "window": [plan.min_interval_days, plan.max_interval_days],
        }
        plan.sessions = shape.sessions
        plan.interval_days = shape.interval_days
        plan.min_interval_days = shape.min_interval_days
        plan.max_interval_days = shape.max_interval_days
        if extended:
            plan.extended_confirmed_by = by
        if shape.sessions <= STANDARD_MAX_SESSIONS:
            plan.extended_confirmed_by = None
        if short and not keeps_override:
            plan.interval_override_by = by
            plan.interval_override_reason = interval_override_reason.strip()
        if not short:
            plan.interval_override_by = None
            plan.interval_override_reason = ""
        if notes is not None:
            plan.notes = notes
        plan.updated_at = now
        plan.save()
        audit_record(
            actor=by,
            action="course.plan_update",
            obj=plan,
            at=now,
            data={
                "from": before,
                "to": {
                    "sessions": plan.sessions,
                    "interval_days": plan.interval_days,
                    "window": [plan.min_interval_days, plan.max_interval_days],
                },
            },
        )
    return plan


def plan_area_grade(
    *, area: PlanArea, grade: int, by: Any, now: datetime, note: str = ""
) -> AreaGrade:
    """Re-grade an area at a review (DOMAIN.md 1.3: re-grade at every review)."""
    if not _is_clinician(by):
        raise PermissionDenied(_("Only a specialist or the clinic manager can grade an area."))
    if not 1 <= grade <= 4:
        raise ValidationFailed(_("Grades run from 1 to 4."), fields={"grade": "1-4"})
    with transaction.atomic():
        row = AreaGrade.objects.create(
            area=area, grade=grade, graded_at=now, graded_by=by, note=note.strip()[:300]
        )
        audit_record(
            actor=by,
            action="course.area_grade",
            obj=area.plan,
            at=now,
            data={"area": area.area, "concern": area.concern, "grade": grade},
        )
    return row


def plan_area_add(*, plan: Plan, area: AreaInput, by: Any, now: datetime) -> PlanArea:
    """Another area for the plan, with its first grade."""
    if not _is_clinician(by):
        raise PermissionDenied(_("Only a specialist or the clinic manager can grade an area."))
    (item,) = _clean_areas([area])
    if plan.areas.filter(area__iexact=item.area, concern=item.concern).exists():
        raise ValidationFailed(
            _("%(area)s is listed twice with the same concern.") % {"area": item.area},
            fields={"area": "duplicate"},
        )
    with transaction.atomic():
        row = PlanArea.objects.create(plan=plan, area=item.area, concern=item.concern)
        AreaGrade.objects.create(area=row, grade=item.grade, graded_at=now, graded_by=by)
        audit_record(
            actor=by,
            action="course.area_add",
            obj=plan,
            at=now,
            data={"area": item.area, "concern": item.concern, "grade": item.grade},
        )
    return row


def plan_accept(*, plan: Plan, by: Any, now: datetime) -> Plan:
    """The client agreed to the proposed plan (recorded by staff)."""
    _require_staff(by)
    with transaction.atomic():
        plan = Plan.objects.select_for_update().get(pk=plan.pk)
        if plan.status != PlanStatus.PROPOSED:
            raise PolicyViolation(
                _("Only a proposed plan can be accepted; this one is %(status)s.")
                % {"status": plan.get_status_display().lower()}
            )
        if plan.sessions > STANDARD_MAX_SESSIONS and plan.extended_confirmed_by_id is None:
            raise PolicyViolation(
                _("A specialist must confirm this extended course before it is accepted."),
                code="extended_course_needs_specialist",
            )
        plan.status = PlanStatus.ACCEPTED
        plan.accepted_at = now
        plan.updated_at = now
        plan.save()
        audit_record(actor=by, action="course.plan_accept", obj=plan, at=now, data={})
    return plan


def plan_stop(*, plan: Plan, by: Any, now: datetime, reason: str = "") -> Plan:
    """Stop the course: its sessions still to come are cancelled in the same transaction
    (through scheduling, each audited, the client told as for any cancellation; the clinic
    stopped it, so none is late), the ones done stay."""
    _require_staff(by)
    with transaction.atomic():
        plan = Plan.objects.select_for_update().get(pk=plan.pk)
        if plan.status == PlanStatus.STOPPED:
            raise PolicyViolation(_("This course is already stopped."))
        upcoming = list(
            Appointment.objects.filter(
                course_session__plan=plan, status=Status.BOOKED, starts_at__gt=now
            ).order_by("starts_at")
        )
        why = (reason.strip() or _("Course stopped"))[:300]
        for appt in upcoming:
            cancelled = appointment_cancel(
                appointment=appt,
                by=by,
                now=now,
                reason=why,
                by_clinic=True,
                audit_data={"course": str(plan.pk)},
            )
            appointment_messages_cancel(appointment=cancelled, now=now)
            appointment_cancellation_schedule(
                appointment=cancelled, now=now, version=cancelled.messages_version
            )
        plan.status = PlanStatus.STOPPED
        plan.stopped_at = now
        plan.stop_reason = reason.strip()[:300]
        plan.updated_at = now
        plan.save()
        audit_record(
            actor=by,
            action="course.plan_stop",
            obj=plan,
            at=now,
            data={"reason": plan.stop_reason, "cancelled": [str(a.pk) for a in upcoming]},
        )
    return plan


def plan_bookable_check(plan: Plan) -> None:
    if plan.status not in _EDITABLE:
        raise PolicyViolation(_("A stopped course cannot be booked."))
    if plan.plan_sessions.filter(appointment__status=Status.BOOKED).exists():
        raise PolicyViolation(
            _("This course already has booked sessions; move them instead."),
            code="course_already_booked",
        )


def plan_replay(scoped_key: str, fingerprint: str) -> tuple[Plan, list[Appointment]] | None:
    """The plan an earlier request with this idempotency key booked, and its sessions."""
    existing = Plan.objects.filter(idempotency_key=scoped_key).first()
    if existing is None:
        return None
    if existing.request_fingerprint != fingerprint:
        raise IdempotencyConflict(
            _(
                "This Idempotency-Key was already used for a different booking. "
                "Use a new key for a new request."
            )
        )
    appointments = [
        link.appointment
        for link in existing.plan_sessions.select_related("appointment").order_by(
            "appointment__starts_at"
        )
    ]
    return existing, appointments


def plan_for_booking(
    *,
    client: Any,
    treatment: Any,
    plan: Plan | None,
    location: Any,
    specialist: Any,
    shape: CourseShape,
    extended: bool,
    short: bool,
    interval_override_reason: str,
    booked_by: Any,
    now: datetime,
    idempotency_key: str | None,
    fingerprint: str,
) -> Plan:
    """The accepted plan a course booking fills: a new one, or `plan` locked and checked again
    (another booking of it may have committed since the caller last looked)."""
    if plan is None:
        return Plan.objects.create(
            client=client,
            treatment=treatment,
            location=location,
            specialist=specialist,
            status=PlanStatus.ACCEPTED,
            sessions=shape.sessions,
            interval_days=shape.interval_days,
            min_interval_days=shape.min_interval_days,
            max_interval_days=shape.max_interval_days,
            extended_confirmed_by=booked_by if extended else None,
            interval_override_by=booked_by if short else None,
            interval_override_reason=interval_override_reason.strip() if short else "",
            created_by=booked_by if getattr(booked_by, "pk", None) else None,
            created_at=now,
            updated_at=now,
            accepted_at=now,
            idempotency_key=idempotency_key,
            request_fingerprint=fingerprint if idempotency_key else "",
        )
    plan = Plan.objects.select_for_update().get(pk=plan.pk)
    plan_bookable_check(plan)
    if plan.status == PlanStatus.PROPOSED:
        plan.status = PlanStatus.ACCEPTED
        plan.accepted_at = now
    plan.location = location
    plan.updated_at = now
    plan.save()
    return plan


def plan_session_add(*, plan: Plan, appointment: Appointment) -> None:
    PlanSession.objects.create(plan=plan, appointment=appointment)


def plans_reassign_client(*, source: Any, target: Any) -> int:
    """Move every plan and important date of `source` to `target` (a client merge)."""
    moved = Plan.objects.filter(client=source).update(client=target)
    moved += ImportantDate.objects.filter(client=source).update(client=target)
    return moved


# --- important dates ------------------------------------------------------------------------


def _kind(slug: str) -> ImportantDateKind:
    kind = ImportantDateKind.objects.filter(slug=slug).first()
    if kind is None:
        known = ", ".join(ImportantDateKind.objects.values_list("slug", flat=True))
        raise ValidationFailed(
            _("Unknown kind of date %(kind)s; use one of: %(known)s.")
            % {"kind": slug, "known": known},
            fields={"kind": _("Use one of: %(known)s.") % {"known": known}},
        )
    return kind


def important_date_kind_check(slug: str) -> str:
    """The kind's slug, or ValidationFailed naming the known kinds."""
    return _kind(slug).slug


def important_date_create(
    *,
    client: Any,
    kind: str,
    start_on: date,
    by: Any,
    now: datetime,
    end_on: date | None = None,
    label: str = "",
) -> ImportantDate:
    """Record a date the client wants to look their best for; from now on no session's
    recovery window may touch it without an explicit confirmation."""
    end_on = start_on if end_on is None else end_on
    if end_on < start_on:
        raise ValidationFailed(
            _("The date ends before it starts."), fields={"end": _("On or after the start.")}
        )
    if (end_on - start_on).days > 366:
        raise ValidationFailed(
            _("An important date spans at most a year."), fields={"end": _("Within a year.")}
        )
    with transaction.atomic():
        item = ImportantDate.objects.create(
            client=client,
            kind=_kind(kind),
            label=label.strip()[:120],
            start_on=start_on,
            end_on=end_on,
            created_at=now,
            created_by=by if getattr(by, "pk", None) else None,
        )
        audit_record(
            actor=by,
            action="course.important_date_create",
            obj=item,
            at=now,
            data={
                "client": str(client.pk),
                "kind": kind,
                "start": str(start_on),
                "end": str(end_on),
            },
        )
    return item


def important_date_delete(*, important_date: ImportantDate, by: Any, now: datetime) -> None:
    with transaction.atomic():
        audit_record(
            actor=by,
            action="course.important_date_delete",
            obj=important_date,
            at=now,
            data={
                "client": str(important_date.client_id),
                "kind": important_date.kind.slug,
                "start": str(important_date.start_on),
                "end": str(important_date.end_on),
            },
        )
        important_date.delete()


def course_presets_install() -> None:
    """The starting defaults (migration 0002) again, for a database that was flushed."""
    for concern, count, low, high, interval, source in COURSES:
        CourseDefault.objects.get_or_create(
            concern=concern,
            defaults={
                "sessions": count,
                "min_sessions": low,
                "max_sessions": high,
                "interval_days": interval,
                "source": source,
            },
        )
    for slug, name, hours, order, precare in KINDS:
        ImportantDateKind.objects.get_or_create(
            slug=slug,
            defaults={
                "name": name,
                "recovery_hours": hours,
                "display_order": order,
                "precare_hours": precare,
            },
        )
