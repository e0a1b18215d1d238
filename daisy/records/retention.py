"""Erasure requests, retention and legal holds (DOMAIN.md 6.6, 6.7; issue 14, item 8).

`erasure_request` records a client's request and, at once, deletes what the clinic may delete:
future bookings are cancelled (nothing sent), the waitlist and important dates go, marketing
consent is withdrawn and the portal login stops working. The clinical record (sessions,
screening answers, consultations, findings, consents, charts) is kept until the retention
period ends: `DAISY_RECORD_RETENTION_YEARS` whole years from the last treatment (for a client
never treated, from their last clinical record). A client with no clinical record is erased
in full at once.

`records_retention_sweep` (run by `daisy worker` every hour) erases the clinical record of each
request whose period is over, unless a legal hold is open: screening answers, consultations,
findings, consents, photos and treatment charts (signed ones too: the one way a signed chart
is ever deleted, daisy.records.charting.charts_erase_for_client) are deleted and the client
record is anonymised. The sessions stay in the diary, tied to no one identifiable."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from daisy.accounts.services import client_login_retire
from daisy.audit.services import audit_record
from daisy.booking.services import appointment_cancel
from daisy.booking.waitlist import waitlist_for_client, waitlist_leave
from daisy.clients.models import Client
from daisy.clients.services import (
    client_anonymise,
    client_preferences_update,
    findings_erase_for_client,
)
from daisy.clinic.selectors import clinic_zone
from daisy.core.retention import keep_until, may_delete
from daisy.courses.selectors import important_date_list_for_client
from daisy.courses.services import important_date_delete
from daisy.lib.errors import NotFound, PermissionDenied, PolicyViolation, ValidationFailed
from daisy.records.charting import charts_erase_for_client
from daisy.records.models import (
    Chart,
    Consent,
    Consultation,
    ErasureRequest,
    ErasureStatus,
    LegalHold,
    Photo,
    ScreeningResponse,
)
from daisy.records.photos import photos_erase_for_client
from daisy.scheduling.models import Status
from daisy.scheduling.selectors import appointment_list


def _require_manager(user: Any) -> None:
    if not getattr(user, "is_superuser", False):
        raise PermissionDenied(_("Only the clinic manager can do this."))


def _require_manager_or_self(user: Any, client: Client) -> None:
    """The manager records a request made in person; a client may ask for their own."""
    if getattr(user, "is_superuser", False):
        return
    if client.user_id is not None and getattr(user, "pk", None) == client.user_id:
        return
    raise PermissionDenied(_("Only the clinic manager can do this."))


def retention_years() -> int:
    return int(settings.DAISY_RECORD_RETENTION_YEARS)


def last_treatment_on(client: Any) -> date | None:
    """The local day of the client's last session that took place (completed), or of the last
    chart when later."""
    zone = clinic_zone()
    days = [
        a.starts_at.astimezone(a.location.tz).date()
        for a in appointment_list(client_id=client.pk, status=Status.COMPLETED)
    ]
    charted = Chart.objects.filter(client=client).aggregate(last=Max("performed_on"))["last"]
    if charted is not None:
        days.append(charted)
    if days:
        return max(days)
    # Never treated: count from the last clinical record made about them.
    stamps = [
        ScreeningResponse.objects.filter(client=client).aggregate(m=Max("answered_at"))["m"],
        Consultation.objects.filter(client=client).aggregate(m=Max("updated_at"))["m"],
        Consent.objects.filter(client=client).aggregate(m=Max("signed_at"))["m"],
    ]
    found = [s.astimezone(zone).date() for s in stamps if s is not None]
    return max(found) if found else None


def has_clinical_record(client: Any) -> bool:
    return (
        appointment_list(client_id=client.pk)
        .filter(status__in=[Status.COMPLETED, Status.IN_TREATMENT, Status.CHECKED_IN])
        .exists()
        or ScreeningResponse.objects.filter(client=client).exists()
        or Consultation.objects.filter(client=client).exists()
        or Consent.objects.filter(client=client).exists()
        or Chart.objects.filter(client=client).exists()
        or Photo.objects.filter(client=client).exists()
        or client.contraindications.exists()
    )


def legal_hold_get(hold_id: Any, *, client: Any = None) -> LegalHold:
    """One legal hold (of `client`, when given); NotFound otherwise."""
    found = LegalHold.objects.filter(pk=hold_id)
    if client is not None:
        found = found.filter(client=client)
    hold = found.first() if isinstance(hold_id, int) else None
    if hold is None:
        raise NotFound(_("That legal hold does not exist."))
    return hold


def legal_hold_open(client: Any) -> LegalHold | None:
    return LegalHold.objects.filter(client=client, lifted_at__isnull=True).first()


def erasure_request(*, client: Client, by: Any, now: datetime) -> ErasureRequest:
    """Record the request and delete at once what may be deleted (see the module's words).
    The manager records it for any client; a client may ask for their own (the portal)."""
    _require_manager_or_self(by, client)
    if ErasureRequest.objects.filter(client=client, status=ErasureStatus.KEPT).exists():
        raise PolicyViolation(_("An erasure request is already open for this client."))
    erased: list[str] = []
    with transaction.atomic():
        for appt in appointment_list(client_id=client.pk, status=Status.BOOKED):
            if appt.starts_at > now:
                appointment_cancel(
                    appointment=appt,
                    by=by,
                    now=now,
                    reason=_("The client asked for their data to be erased."),
                    by_clinic=True,
                    notify_client=False,
                )
                erased.append(f"booking {appt.pk} cancelled")
        for entry in waitlist_for_client(client.pk):
            if entry.status == "waiting":
                waitlist_leave(entry=entry, by=by, now=now)
                erased.append("waitlist entry")
        for item in important_date_list_for_client(client):
            important_date_delete(important_date=item, by=by, now=now)
            erased.append("important date")
        if client.marketing_consent:
            client_preferences_update(client=client, by=by, now=now, marketing_consent=False)
            erased.append("marketing consent")
        if client.user_id:
            client_login_retire(user=client.user, now=now)
            erased.append("portal login")
        last = last_treatment_on(client)
        # A legal hold keeps even a client with no clinical record (their details are evidence
        # too) until it is lifted; the sweep then erases them.
        keep = has_clinical_record(client) or legal_hold_open(client) is not None
        today = timezone.localdate(now, clinic_zone())
        request = ErasureRequest.objects.create(
            client=client,
            requested_at=now,
            recorded_by=by,
            status=ErasureStatus.KEPT if keep else ErasureStatus.DONE,
            last_treatment_on=last,
            keep_until=(keep_until(last, retention_years()) or today) if keep else None,
            erased=erased,
        )
        if not keep:
            client_anonymise(client=client, by=by, now=now)
            request.erased = [*erased, "client details"]
            request.done_at = now
            request.save(update_fields=["erased", "done_at"])
        audit_record(
            actor=by,
            action="records.erasure_request",
            obj=request,
            at=now,
            client=client.pk,
            data={
                "kept_until": request.keep_until.isoformat() if request.keep_until else None,
                "erased": request.erased,
            },
        )
    return request


def _erase_clinical_record(request: ErasureRequest, *, now: datetime) -> None:
    client = request.client
    with transaction.atomic():
        counts = {
            "screening answers": ScreeningResponse.objects.filter(client=client).delete()[0],
            "consultations": Consultation.objects.filter(client=client).delete()[0],
            "consents": Consent.objects.filter(client=client).delete()[0],
            "findings": findings_erase_for_client(client=client, by=None, now=now),
            "photos": photos_erase_for_client(client=client),
            "treatment records": charts_erase_for_client(client=client),
        }
        client_anonymise(client=client, by=None, now=now)
        request.status = ErasureStatus.DONE
        request.done_at = now
        request.erased = [*request.erased, *(f"{n} {what}" for what, n in counts.items())]
        request.save(update_fields=["status", "done_at", "erased"])
        audit_record(
            actor=None,
            action="records.retention_erase",
            obj=request,
            at=now,
            client=client.pk,
            data={"deleted": counts},
        )


def records_retention_sweep(*, now: datetime | None = None) -> list[ErasureRequest]:
    """Erase every kept record whose retention period is over and that no legal hold keeps.
    The period is counted again from the last treatment, so a client treated after asking
    (who came back) is kept longer."""
    now = now or timezone.now()
    today = timezone.localdate(now, clinic_zone())
    done = []
    for request in ErasureRequest.objects.filter(
        status=ErasureStatus.KEPT, keep_until__lte=today
    ).select_related("client"):
        last = last_treatment_on(request.client)
        until = keep_until(last, retention_years()) if last else request.keep_until
        if until != request.keep_until:
            request.keep_until, request.last_treatment_on = until, last
            request.save(update_fields=["keep_until", "last_treatment_on"])
        on_hold = legal_hold_open(request.client) is not None
        if may_delete(until, today=today, on_hold=on_hold):
            _erase_clinical_record(request, now=now)
            done.append(request)
    return done


def legal_hold_place(*, client: Client, reason: str, by: Any, now: datetime) -> LegalHold:
    _require_manager(by)
    if not isinstance(reason, str) or not reason.strip():
        raise ValidationFailed(_("Say why the record is held."), fields={"reason": _("Say why.")})
    with transaction.atomic():
        if legal_hold_open(client) is not None:
            raise PolicyViolation(_("A legal hold is already open for this client."))
        hold = LegalHold.objects.create(
            client=client, reason=reason.strip(), placed_by=by, placed_at=now
        )
        audit_record(
            actor=by,
            action="records.legal_hold_place",
            obj=hold,
            at=now,
            client=client.pk,
            data={"reason": reason.strip()[:500]},
        )
    return hold


def legal_hold_lift(*, hold: LegalHold, reason: str, by: Any, now: datetime) -> LegalHold:
    _require_manager(by)
    if not isinstance(reason, str) or not reason.strip():
        raise ValidationFailed(_("Say why the hold ends."), fields={"reason": _("Say why.")})
    with transaction.atomic():
        locked = LegalHold.objects.select_for_update().get(pk=hold.pk)
        if locked.lifted_at is not None:
            raise PolicyViolation(_("That legal hold was already lifted."))
        locked.lifted_by, locked.lifted_at, locked.lift_reason = by, now, reason.strip()
        locked.save(update_fields=["lifted_by", "lifted_at", "lift_reason"])
        audit_record(
            actor=by,
            action="records.legal_hold_lift",
            obj=locked,
            at=now,
            client=locked.client_id,
            data={"reason": reason.strip()[:500]},
        )
    return locked


# --- selectors -----------------------------------------------------------------------------


@dataclass
class ErasurePreview:
    """What an erasure request would do now, in plain words for the manager and the client:
    what goes at once, what is kept, until when and why."""

    deleted_now: list[str]
    kept: list[str]
    last_treatment_on: date | None
    keep_until: date | None
    years: int
    hold: LegalHold | None
    request: ErasureRequest | None  # the latest request, if one was made

    @property
    def is_open(self) -> bool:
        return self.request is not None and self.request.status == ErasureStatus.KEPT


def _counted(n: int, text: str) -> list[str]:
    """`text` (from ngettext, with %(n)s) for a count, or nothing when there are none."""
    return [text % {"n": n}] if n else []


def erasure_preview(*, client: Client, now: datetime) -> ErasurePreview:
    """Reads counts only: no health detail, so the page showing it needs no clinical role."""
    future = sum(
        1 for a in appointment_list(client_id=client.pk, status=Status.BOOKED) if a.starts_at > now
    )
    waiting = sum(1 for e in waitlist_for_client(client.pk) if e.status == "waiting")
    dates = len(list(important_date_list_for_client(client)))
    deleted = [
        *_counted(
            future,
            ngettext(
                "%(n)s future booking (cancelled; no message is sent)",
                "%(n)s future bookings (cancelled; no message is sent)",
                future,
            ),
        ),
        *_counted(
            waiting,
            ngettext("%(n)s place on the waitlist", "%(n)s places on the waitlist", waiting),
        ),
        *_counted(dates, ngettext("%(n)s important date", "%(n)s important dates", dates)),
    ]
    if client.marketing_consent:
        deleted.append(_("Permission to send marketing messages"))
    if client.user_id:
        deleted.append(_("The online account (signing in stops working)"))
    keep = has_clinical_record(client) or legal_hold_open(client) is not None
    kept: list[str] = []
    if keep:
        sessions = (
            appointment_list(client_id=client.pk)
            .filter(status__in=[Status.COMPLETED, Status.IN_TREATMENT, Status.CHECKED_IN])
            .count()
        )
        charts = Chart.objects.filter(client=client).count()
        answers = ScreeningResponse.objects.filter(client=client).count()
        consultations = Consultation.objects.filter(client=client).count()
        consents = Consent.objects.filter(client=client).count()
        photos = Photo.objects.filter(client=client).count()
        findings = client.contraindications.count()
        kept = [
            _("Name, date of birth and contact details, so the record stays tied to the person"),
            *_counted(
                sessions,
                ngettext(
                    "%(n)s session that took place", "%(n)s sessions that took place", sessions
                ),
            ),
            *_counted(
                charts,
                ngettext(
                    "%(n)s treatment record (areas, depths, products used)",
                    "%(n)s treatment records (areas, depths, products used)",
                    charts,
                ),
            ),
            *_counted(
                answers,
                ngettext("%(n)s set of health answers", "%(n)s sets of health answers", answers),
            ),
            *_counted(
                consultations,
                ngettext("%(n)s consultation", "%(n)s consultations", consultations),
            ),
            *_counted(
                consents, ngettext("%(n)s signed consent", "%(n)s signed consents", consents)
            ),
            *_counted(photos, ngettext("%(n)s clinical photo", "%(n)s clinical photos", photos)),
            *_counted(
                findings, ngettext("%(n)s health finding", "%(n)s health findings", findings)
            ),
        ]
    else:
        deleted.append(_("Name, date of birth, contact details and notes"))
    last = last_treatment_on(client) if keep else None
    return ErasurePreview(
        deleted_now=deleted,
        kept=kept,
        last_treatment_on=last,
        keep_until=keep_until(last, retention_years()) if keep else None,
        years=retention_years(),
        hold=legal_hold_open(client),
        request=ErasureRequest.objects.filter(client=client).order_by("-requested_at").first(),
    )
