"""Merging two client records that turned out to be one person (issue 11, "one person, one
client record"). Every app moves what it owns through its own public `<thing>_reassign_client`
service; this module, above them all (DESIGN.md 3, layer 5), composes them in one transaction:
everything moves, or nothing does."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from daisy.accounts.services import client_login_retire
from daisy.aftercare.services import aftercare_reassign_client
from daisy.audit.services import audit_record, audit_subject_reassign
from daisy.booking import waitlist
from daisy.clients.models import Client
from daisy.clients.services import client_retire_into, findings_reassign_client
from daisy.courses.services import plans_reassign_client
from daisy.lib.errors import PermissionDenied, ValidationFailed
from daisy.notifications.services import messages_reassign_client
from daisy.records.charting import charts_reassign_client
from daisy.records.consent_services import consents_reassign_client
from daisy.records.photos import photos_reassign_client
from daisy.records.services import screenings_reassign_client
from daisy.scheduling.services import appointments_reassign_client

REASON_MAX = 500
# How audit entries name a client record (AuditEntry.object_type: the model's label).
CLIENT_AUDIT_TYPE = "clients.client"


@dataclass(frozen=True)
class MergeResult:
    keep: Client
    merged: Client
    # How many rows of each kind now belong to `keep` instead of `merged`.
    moved: dict[str, int] = field(default_factory=dict)
    # The details `keep` lacked and took from `merged` (email, phone, date_of_birth, notes,
    # user).
    taken: list[str] = field(default_factory=list)


def client_merge_allowed(user: Any) -> bool:
    """Who may merge client records: clinic staff who may change client details (reception
    and the manager, by their role's permissions); never a client, never a specialist."""
    return bool(
        user is not None
        and getattr(user, "is_active", False)
        and getattr(user, "is_clinic_staff", False)
        and user.has_perm("clients.change_client")
    )


def client_merge(
    *, keep: Client, merge: Client, by: Any, reason: str, now: datetime
) -> MergeResult:
    """Move everything of `merge` (appointments with their check-ins, screening answers and
    findings, clinical holds, course plans and important dates, messages, alerts, calendar
    feeds, the audit entries about the record, and its login when `keep` has none) to `keep`,
    then retire `merge`: it stays, empty, pointing at `keep`, so nothing is lost. Audited as
    `client.merge` with both ids and the reason. A refused merge changes nothing."""
    if not client_merge_allowed(by):
        raise PermissionDenied(_("Only reception or the clinic manager can merge client records."))
    reason = (reason or "").strip()
    if not reason:
        msg = _("Say why these two records are the same person.")
        raise ValidationFailed(msg, fields={"reason": msg})
    if len(reason) > REASON_MAX:
        msg = _("Use at most %(max)d characters.") % {"max": REASON_MAX}
        raise ValidationFailed(msg, fields={"reason": msg})
    if keep.pk == merge.pk:
        msg = _("Choose two different records.")
        raise ValidationFailed(msg, fields={"merge": msg})
    with transaction.atomic():
        # Both rows locked, in id order, so two merges of the same pair cannot cross.
        locked = {
            c.pk: c
            for c in Client.objects.select_for_update()
            .filter(pk__in=[keep.pk, merge.pk])
            .order_by("id")
        }
        keep, merge = locked[keep.pk], locked[merge.pk]
        for client in (keep, merge):
            if client.merged_into_id is not None:
                msg = _("%(name)s was already merged into another record.") % {
                    "name": client.full_name
                }
                raise ValidationFailed(msg, fields={"merge": msg})
        moved = {
            "appointments": appointments_reassign_client(source=merge, target=keep),
            "courses_and_important_dates": plans_reassign_client(source=merge, target=keep),
            "findings_and_holds": findings_reassign_client(source=merge, target=keep),
            "screening_answers": screenings_reassign_client(source=merge, target=keep),
            "treatment_charts": charts_reassign_client(source=merge, target=keep),
            "signed_consents": consents_reassign_client(source=merge, target=keep),
            "photos": photos_reassign_client(source=merge, target=keep),
            "alerts_and_calendar_feeds": aftercare_reassign_client(
                source=merge, target=keep, now=now
            ),
            "messages": messages_reassign_client(source_id=merge.pk, target_id=keep.pk),
            "waitlist": waitlist.waitlist_reassign_client(source=merge, target=keep, now=now),
            "audit_entries": audit_subject_reassign(
                object_type=CLIENT_AUDIT_TYPE, source_id=merge.pk, target_id=keep.pk
            ),
        }
        retired_login = merge.user if keep.user_id and merge.user_id else None
        taken = client_retire_into(merged=merge, keep=keep, now=now)
        if retired_login is not None:
            # Both records had a login: the kept one's stays, the other stops working (and is
            # kept, with its history); its owner signs in with the kept record's address.
            client_login_retire(user=retired_login, now=now)
        audit_record(
            actor=by,
            action="client.merge",
            obj=keep,
            at=now,
            data={
                "kept": str(keep.pk),
                "merged": str(merge.pk),
                "reason": reason,
                "moved": moved,
                "taken": taken,
                "retired_login": str(retired_login.pk) if retired_login else None,
            },
        )
    return MergeResult(keep=keep, merged=merge, moved=moved, taken=taken)
