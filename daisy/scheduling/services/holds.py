"""Slot holds (issue 4): a time held while its owner fills in the booking form.

A hold is made like a booking (lock, re-check, write) so two people can never hold the same
time, and its time sits in the Allocation table so the database backstop covers it too. Holds
write no audit entry and send nothing: they carry no personal data, and the booking that
converts one is audited with the hold's id."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from daisy.clinic.models import Location, Specialist
from daisy.lib.errors import SlotUnavailable, ValidationFailed
from daisy.scheduling import selectors
from daisy.scheduling.models import Allocation, SlotHold
from daisy.scheduling.services.checks import booking_request_check, is_staff
from daisy.scheduling.services.reserve import (
    allocations_write,
    eligible,
    lost_race,
    resource_ids,
    resource_pk,
    resources_lock,
    slot_reserve,
    with_alternatives,
)
from daisy.treatments.models import Treatment


def slot_hold_of(held_by: str | None) -> SlotHold | None:
    return SlotHold.objects.filter(held_by=held_by).first() if held_by else None


def slot_hold_resource_ids(hold: SlotHold | None) -> list[str]:
    if hold is None:
        return []
    return sorted(
        {
            selectors.resource_key(pk)
            for pk in hold.allocations.values_list("resource_id", flat=True)
        }
    )


def slot_hold_honoured(
    hold: SlotHold | None,
    hold_id: Any,
    treatment: Treatment,
    location: Location,
    specialist: Specialist | None,
    starts_at: datetime,
    now: datetime,
) -> SlotHold | None:
    """The owner's hold if it is live and is for exactly this booking, else None."""
    if hold is None or not hold.is_live(now) or starts_at <= now:
        return None
    if hold_id is not None and str(hold.pk) != str(hold_id):
        return None  # a stale id: the owner has held another time since
    same = (
        hold.treatment_id == treatment.pk
        and hold.location_id == location.pk
        and hold.starts_at == starts_at
        and (specialist is None or hold.specialist_id == specialist.pk)
    )
    return hold if same else None


def held_by_check(held_by: str) -> str:
    key = (held_by or "").strip()
    if not key or len(key) > 128:
        raise ValidationFailed(
            _("The hold needs an owner key of 1 to 128 characters."), fields={"held_by": "invalid"}
        )
    return key


def slot_hold_create(
    *,
    treatment: Treatment,
    starts_at: datetime,
    now: datetime,
    held_by: str,
    location: Location | None = None,
    specialist: Specialist | None = None,
    ttl: timedelta | None = None,
    by: Any = None,
) -> SlotHold:
    """Hold a bookable time for `ttl` (default settings.DAISY_SLOT_HOLD_MINUTES) while its
    owner fills in the booking form, or raise SlotUnavailable with the nearest alternatives.

    `held_by` is an opaque owner key (a hash of the session key, say; never personal data).
    One hold per owner: a new one releases the owner's previous hold in the same transaction.
    `by` is the signed-in user if any (staff get staff booking rules)."""
    key = held_by_check(held_by)
    if ttl is None:
        ttl = timedelta(minutes=settings.DAISY_SLOT_HOLD_MINUTES)
    if not timedelta(0) < ttl <= timedelta(hours=1):
        raise ValidationFailed(
            _("A hold lasts between a second and an hour."), fields={"ttl": "out of range"}
        )
    for_staff = is_staff(by)
    loc = booking_request_check(
        treatment=treatment,
        for_staff=for_staff,
        location=location,
        specialist=specialist,
        starts_at=starts_at,
    )
    # One retry: the owner's own second request racing the first meets the unique owner key;
    # the retry then replaces the hold that won (the newest choice is the one that counts).
    for attempt in (1, 2):
        try:
            return _slot_hold_write(
                treatment=treatment,
                location=loc,
                specialist=specialist,
                starts_at=starts_at,
                now=now,
                held_by=key,
                ttl=ttl,
                for_staff=for_staff,
            )
        except IntegrityError as exc:
            if attempt == 1 and SlotHold.objects.filter(held_by=key).exists():
                continue
            raise with_alternatives(
                lost_race(), treatment, loc, starts_at, now, specialist, for_staff, key
            ) from exc
        except SlotUnavailable as exc:
            raise with_alternatives(
                exc, treatment, loc, starts_at, now, specialist, for_staff, key
            ) from None
    raise AssertionError("unreachable")  # pragma: no cover


def _slot_hold_write(
    *,
    treatment: Treatment,
    location: Location,
    specialist: Specialist | None,
    starts_at: datetime,
    now: datetime,
    held_by: str,
    ttl: timedelta,
    for_staff: bool,
) -> SlotHold:
    with transaction.atomic():
        by_role = eligible(treatment, location, specialist)
        previous = slot_hold_of(held_by)
        previous_resources = slot_hold_resource_ids(previous)
        # The previous hold's resources in the same sorted statement as the new ones.
        resources_lock([*resource_ids(by_role), *previous_resources])
        if previous is not None:
            previous.delete()
        slot = slot_reserve(
            treatment=treatment,
            location=location,
            starts_at=starts_at,
            now=now,
            for_staff=for_staff,
            by_role=by_role,
            specialist=specialist,
            also_lock=previous_resources,
        ).slot
        hold = SlotHold(
            held_by=held_by,
            treatment=treatment,
            location=location,
            specialist_id=resource_pk(slot.resources.get(selectors.ROLE_SPECIALIST)),
            starts_at=slot.start,
            ends_at=slot.end,
            created_at=now,
            expires_at=now + ttl,
        )
        hold.save(force_insert=True)
        allocations_write(slot, hold=hold)
        return hold


def slot_hold_release(*, hold_id: Any, held_by: str, now: datetime) -> bool:
    """Give a held time back (the owner went back or left). True if a live hold was released;
    releasing one that expired or is gone is not an error."""
    hold = selectors.slot_hold_get(hold_id=hold_id, held_by=held_by_check(held_by))
    if hold is None:
        return False
    with transaction.atomic():
        # Lock like every other writer of these resources' rows (sorted, one statement).
        resources_lock(slot_hold_resource_ids(hold))
        live = SlotHold.objects.filter(pk=hold.pk, expires_at__gt=now).exists()
        SlotHold.objects.filter(pk=hold.pk).delete()
        return live


def slot_holds_purge(*, now: datetime, limit: int = 500) -> int:
    """Delete expired holds (they already block nobody); returns how many went. Run by every
    `daisy worker` (SchedulingConfig.periodic_jobs), not in a client's request."""
    expired = list(
        SlotHold.objects.filter(expires_at__lte=now)
        .order_by("expires_at")
        .values_list("pk", flat=True)[:limit]
    )
    if not expired:
        return 0
    with transaction.atomic():
        resources = Allocation.objects.filter(hold_id__in=expired).values_list(
            "resource_id", flat=True
        )
        resources_lock({selectors.resource_key(pk) for pk in resources})
        _total, by_model = SlotHold.objects.filter(pk__in=expired, expires_at__lte=now).delete()
    return by_model.get(SlotHold._meta.label, 0)
