"""Reads of consent (DOMAIN.md 6.4): the current valid consent of a kind, the state of an
appointment's consent with a reason a person can read, and what the diary flags.

Other parts of the record call these:
- `consent_current(client, kind=..., treatment=...)`: the signed, not withdrawn consent for the
  template's current version, or None. Photos: "photos_record" before taking or showing
  clinical photos, "photos_marketing" before any marketing use.
- `consent_withdrawn_latest(client, kind=...)`: the latest withdrawn consent of a kind when no
  current one stands (the photos part deletes marketing copies on it, DOMAIN.md 6.7).
- `consent_status(appointment)`: signed and current / missing / out of date, with the reason.
- `plan_facts_for_appointment(appointment, extra=...)`: what a treatment consent is compared
  against; the treatment chart passes its depths and products as `extra`."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from daisy.core import consent as core
from daisy.courses.models import PlanArea, PlanSession
from daisy.records.models import Consent, ConsentKind, ConsentTemplate

KINDS = frozenset(k.value for k in ConsentKind)
# Appointments whose consent the desk still has to see to (the diary's "consent not done").
OPEN_STATUSES = frozenset({"booked", "checked_in"})


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown consent kind: {kind!r}")


def consent_template_for(*, kind: str, treatment: Any = None) -> ConsentTemplate | None:
    """The clinic's active template of a kind (for a treatment consent, that treatment's)."""
    _check_kind(kind)
    qs = ConsentTemplate.objects.filter(kind=kind, is_active=True)
    if kind == ConsentKind.TREATMENT:
        if treatment is None:
            return None
        qs = qs.filter(treatment=treatment)
    return qs.first()


def consent_templates_to_sign(treatment: Any) -> list[ConsentTemplate]:
    """What a client is asked to sign before `treatment`: its treatment consent (if the clinic
    asks one), then the two optional photo consents."""
    rows = ConsentTemplate.objects.filter(is_active=True).filter(
        kind__in=[ConsentKind.PHOTOS_RECORD, ConsentKind.PHOTOS_MARKETING]
    )
    order = {
        ConsentKind.TREATMENT: 0,
        ConsentKind.PHOTOS_RECORD: 1,
        ConsentKind.PHOTOS_MARKETING: 2,
    }
    out = list(rows)
    own = consent_template_for(kind=ConsentKind.TREATMENT, treatment=treatment)
    if own is not None:
        out.append(own)
    return sorted(out, key=lambda t: order[ConsentKind(t.kind)])


def _latest(client: Any, *, kind: str, treatment: Any = None) -> Consent | None:
    qs = Consent.objects.filter(client=client, kind=kind)
    if kind == ConsentKind.TREATMENT:
        qs = qs.filter(treatment=treatment)
    return qs.select_related("template").order_by("-signed_at", "-pk").first()


def consent_current(client: Any, *, kind: str, treatment: Any = None) -> Consent | None:
    """The client's valid signed consent of `kind` (for a treatment consent: for `treatment`):
    the latest one, if it is not withdrawn and was signed on the template's current version.
    None otherwise, and when the clinic has no such template. The plan is not compared here
    (use consent_status for an appointment)."""
    _check_kind(kind)
    if kind == ConsentKind.TREATMENT and treatment is None:
        return None
    latest = _latest(client, kind=kind, treatment=treatment)
    if latest is None or latest.is_withdrawn:
        return None
    template = latest.template
    if not template.is_active or latest.version != template.version:
        return None
    return latest


def consent_withdrawn_latest(client: Any, *, kind: str, treatment: Any = None) -> Consent | None:
    """The latest consent of `kind` if it was withdrawn (who, when, why are on it); None when
    the latest stands or there is none."""
    _check_kind(kind)
    latest = _latest(client, kind=kind, treatment=treatment)
    return latest if latest is not None and latest.is_withdrawn else None


def consents_withdrawn_since(*, kind: str, since: Any) -> QuerySet[Consent]:
    """Consents of `kind` withdrawn at or after `since`, oldest first (for jobs that act on a
    withdrawal, e.g. deleting marketing copies of photos)."""
    _check_kind(kind)
    return Consent.objects.filter(kind=kind, withdrawn_at__gte=since).order_by("withdrawn_at")


def consent_list_for_client(client: Any) -> QuerySet[Consent]:
    return Consent.objects.filter(client=client).select_related(
        "taken_by", "withdrawn_by", "treatment", "template"
    )


def consent_get_for_client(client: Any, consent_id: Any) -> Consent | None:
    """One of the client's consents; None for an unknown id or another client's."""
    return consent_list_for_client(client).filter(pk=consent_id).first()


def consent_get(consent_id: Any) -> Consent | None:
    return (
        Consent.objects.select_related("client", "taken_by", "withdrawn_by", "treatment")
        .filter(pk=consent_id)
        .first()
    )


# --- the plan a treatment consent is given for ---------------------------------------------------


def plan_facts_for_appointment(
    appointment: Any, *, extra: core.PlanFacts | None = None
) -> core.PlanFacts:
    """The treatment and, for a course session, the course's areas as zones; plus what the
    treatment chart knows (depths per zone, products) when it passes `extra`."""
    return _facts_for([appointment], extras={appointment.pk: extra} if extra else None)[
        appointment.pk
    ]


def _facts_for(
    appointments: Sequence[Any], *, extras: dict[Any, core.PlanFacts] | None = None
) -> dict[Any, core.PlanFacts]:
    """Two queries whatever the number of appointments."""
    plan_of = dict(
        PlanSession.objects.filter(appointment_id__in=[a.pk for a in appointments]).values_list(
            "appointment_id", "plan_id"
        )
    )
    zones: dict[Any, list[str]] = defaultdict(list)
    if plan_of:
        for plan_id, area in PlanArea.objects.filter(plan_id__in=set(plan_of.values())).values_list(
            "plan_id", "area"
        ):
            zones[plan_id].append(area)
    out = {}
    for appt in appointments:
        facts = core.plan_facts(
            treatment=str(appt.treatment_id), zones=zones.get(plan_of.get(appt.pk), [])
        )
        extra = (extras or {}).get(appt.pk)
        out[appt.pk] = core.plan_facts_merge(facts, extra) if extra else facts
    return out


# --- an appointment's consent ---------------------------------------------------------------------


@dataclass(frozen=True)
class ConsentStatus:
    state: str  # daisy.core.consent.State values
    reason: str  # what a person reads
    consent: Consent | None  # the latest treatment consent, if any
    template: ConsentTemplate | None
    photos_record: Consent | None
    photos_marketing: Consent | None
    changes: tuple[core.Change, ...] = ()

    @property
    def is_signed(self) -> bool:
        return self.state == core.State.SIGNED

    @property
    def is_blocking(self) -> bool:
        """Needling may not start: the consent is missing or out of date."""
        return self.state in (core.State.MISSING, core.State.OUT_OF_DATE)

    @property
    def label(self) -> str:
        return str(STATE_LABELS[core.State(self.state)])


STATE_LABELS = {
    core.State.SIGNED: _("Consent signed"),
    core.State.MISSING: _("Consent not signed"),
    core.State.OUT_OF_DATE: _("Consent out of date"),
    core.State.NOT_NEEDED: _("No consent needed"),
}


def _change_text(change: core.Change) -> str:
    if change.what == "zone":
        return _("the plan now includes the %(zone)s") % {"zone": change.zone}
    if change.what == "depth":
        return _("the depth on the %(zone)s goes from %(before)s mm to %(after)s mm") % {
            "zone": change.zone,
            "before": change.before,
            "after": change.after,
        }
    if change.what == "product":
        return _("the plan now uses %(name)s") % {"name": change.name}
    return _("the treatment changed")


def _signed_facts(consent: Consent) -> core.Signed:
    return core.Signed(
        template_version=consent.version,
        plan=core.plan_facts_from(consent.plan),
        is_withdrawn=consent.is_withdrawn,
    )


def _status(
    *,
    appointment: Any,
    template: ConsentTemplate | None,
    latest: Consent | None,
    facts: core.PlanFacts,
    photos: dict[str, Consent | None],
) -> ConsentStatus:
    result = core.consent_state(
        _signed_facts(latest) if latest is not None else None,
        current_version=template.version if template is not None else None,
        plan=facts,
    )
    tz = appointment.location.tz
    if result.state == core.State.NOT_NEEDED:
        reason = _("The clinic asks no written consent for this treatment.")
    elif result.state == core.State.MISSING and latest is not None and latest.is_withdrawn:
        reason = _("The client withdrew their consent on %(day)s: %(why)s") % {
            "day": f"{latest.withdrawn_at.astimezone(tz):%-d %b %Y}",
            "why": latest.withdrawn_reason,
        }
    elif result.state == core.State.MISSING:
        reason = _("The client has not signed the consent for this treatment yet.")
    elif result.state == core.State.OUT_OF_DATE:
        parts = []
        if result.template_changed:
            parts.append(
                _("the consent text changed since it was signed (version %(old)s, now %(new)s)")
                % {"old": result.signed_version, "new": result.current_version}
            )
        parts += [_change_text(c) for c in result.changes]
        reason = _("Sign again: %(why)s.") % {"why": "; ".join(parts)}
    else:
        assert latest is not None
        reason = _("Signed on %(day)s (version %(version)s).") % {
            "day": f"{latest.signed_at.astimezone(tz):%-d %b %Y, %H:%M}",
            "version": latest.version,
        }
    return ConsentStatus(
        state=result.state.value,
        reason=reason,
        consent=latest,
        template=template,
        photos_record=photos.get(ConsentKind.PHOTOS_RECORD),
        photos_marketing=photos.get(ConsentKind.PHOTOS_MARKETING),
        changes=result.changes,
    )


def consent_status(appointment: Any, *, extra: core.PlanFacts | None = None) -> ConsentStatus:
    """The appointment's treatment consent against the current template and the session's plan
    (`extra`: what the chart adds to the course plan: depths, products)."""
    template = consent_template_for(kind=ConsentKind.TREATMENT, treatment=appointment.treatment)
    latest = _latest(
        appointment.client, kind=ConsentKind.TREATMENT, treatment=appointment.treatment
    )
    photos = {
        kind: consent_current(appointment.client, kind=kind)
        for kind in (ConsentKind.PHOTOS_RECORD, ConsentKind.PHOTOS_MARKETING)
    }
    return _status(
        appointment=appointment,
        template=template,
        latest=latest,
        facts=plan_facts_for_appointment(appointment, extra=extra),
        photos=photos,
    )


def consent_missing_for(appointments: Iterable[Any]) -> set[Any]:
    """Ids of the open appointments (booked, arrived) whose treatment consent is missing or out
    of date: the diary's "consent not done". Four queries whatever the number."""
    appts = [a for a in appointments if a.status in OPEN_STATUSES]
    if not appts:
        return set()
    templates = {
        t.treatment_id: t
        for t in ConsentTemplate.objects.filter(
            kind=ConsentKind.TREATMENT,
            is_active=True,
            treatment_id__in={a.treatment_id for a in appts},
        )
    }
    appts = [a for a in appts if a.treatment_id in templates]
    if not appts:
        return set()
    latest: dict[tuple[Any, Any], Consent] = {}
    for consent in (
        Consent.objects.filter(
            kind=ConsentKind.TREATMENT,
            client_id__in={a.client_id for a in appts},
            treatment_id__in=set(templates),
        )
        .order_by("client_id", "treatment_id", "-signed_at", "-pk")
        .only("client_id", "treatment_id", "version", "plan", "withdrawn_at", "signed_at")
    ):
        latest.setdefault((consent.client_id, consent.treatment_id), consent)
    facts = _facts_for(appts)
    out = set()
    for appt in appts:
        signed = latest.get((appt.client_id, appt.treatment_id))
        state = core.consent_state(
            _signed_facts(signed) if signed is not None else None,
            current_version=templates[appt.treatment_id].version,
            plan=facts[appt.pk],
        ).state
        if state in (core.State.MISSING, core.State.OUT_OF_DATE):
            out.add(appt.pk)
    return out
