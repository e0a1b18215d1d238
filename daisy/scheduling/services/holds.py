"""Slot holds (issue 4): a time held while its owner fills in the booking form.

A hold is made like a booking (lock, re-check, write) so two people can never hold the same
time, and its time sits in the Allocation table so the database backstop covers it too. Holds
write no audit entry and send nothing: they carry no personal data, and the booking that
converts one is audited with the hold's id.

Holds are bounded (issue 11, item 6; DESIGN.md 4), so that nobody can jam the diary by choosing
times they never book:
- each client address, network and signed-in account may make only a few holds in a short
  window (counted in the cache: `hold_limits_check`); staff are not limited;
- a visitor who is not signed in holds a time for a few minutes only, until they give their
  details (`slot_hold_extend` then lets it run the full hold time);
- such visitors' holds may block at most a share of a day's bookable times for a treatment at
  a location (`_day_share_check`, under the same locks as the write);
- staff book over them (reserve.py: `slot_reserve(over_anonymous_holds=...)`)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from daisy.clinic.models import Location, Specialist
from daisy.lib.addresses import address_network, window_hit
from daisy.lib.errors import SlotUnavailable, TooManyRequests, ValidationFailed
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

logger = logging.getLogger("daisy.scheduling")

# The code of the refusal when visitors who are not signed in already hold their share of a day.
DAY_SHARE_REACHED = "online_holds_day_full"


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
    address: str | None = None,
    has_details: bool = False,
) -> SlotHold:
    """Hold a bookable time while its owner fills in the booking form, or raise
    SlotUnavailable with the nearest alternatives (TooManyRequests past the limits).

    `held_by` is an opaque owner key (a hash of the session key, say; never personal data).
    One hold per owner: a new one releases the owner's previous hold in the same transaction.
    `by` is the signed-in user if any (staff get staff booking rules, and book over the holds
    of visitors who are not signed in); None for such a visitor. `address` is the client's
    network address, for the limits. The hold lasts `ttl`, by default
    settings.DAISY_SLOT_HOLD_MINUTES, or DAISY_SLOT_HOLD_ANONYMOUS_MINUTES for a visitor who
    is not signed in and has not given their details yet (`has_details`)."""
    key = held_by_check(held_by)
    anonymous = by is None or not getattr(by, "is_authenticated", False)
    if ttl is None:
        ttl = hold_ttl(anonymous=anonymous, has_details=has_details)
    if not timedelta(0) < ttl <= timedelta(hours=1):
        raise ValidationFailed(
            _("A hold lasts between a second and an hour."), fields={"ttl": "out of range"}
        )
    for_staff = is_staff(by)
    if not for_staff:
        hold_limits_check(address=address, account=None if anonymous else by, now=now)
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
                anonymous=anonymous,
            )
        except IntegrityError as exc:
            if attempt == 1 and SlotHold.objects.filter(held_by=key).exists():
                continue
            raise with_alternatives(
                lost_race(), treatment, loc, starts_at, now, specialist, for_staff, key
            ) from exc
        except SlotUnavailable as exc:
            keep = _not_on_day(starts_at, loc) if exc.code == DAY_SHARE_REACHED else None
            raise with_alternatives(
                exc, treatment, loc, starts_at, now, specialist, for_staff, key, keep
            ) from None
    raise AssertionError("unreachable")  # pragma: no cover


def _not_on_day(starts_at: datetime, location: Location) -> Callable[[Any], bool]:
    day = starts_at.astimezone(location.tz).date()
    return lambda located: located.slot.start.astimezone(location.tz).date() != day


def hold_ttl(*, anonymous: bool, has_details: bool) -> timedelta:
    full = timedelta(minutes=settings.DAISY_SLOT_HOLD_MINUTES)
    if anonymous and not has_details:
        return min(full, timedelta(minutes=settings.DAISY_SLOT_HOLD_ANONYMOUS_MINUTES))
    return full


def hold_limits_check(*, address: str | None, account: Any, now: datetime) -> None:
    """Count this hold against its client address, network and account, or refuse it with
    TooManyRequests when one of them has made its share of holds in the current window. A cache
    that fails does not stop bookings (the day's share still bounds what holds can take)."""
    checks: list[tuple[str, str, int]] = []
    if address:
        checks.append(("address", address, settings.DAISY_SLOT_HOLDS_PER_ADDRESS))
        checks.append(("network", address_network(address), settings.DAISY_SLOT_HOLDS_PER_NETWORK))
    if account is not None and getattr(account, "pk", None) is not None:
        checks.append(("account", str(account.pk), settings.DAISY_SLOT_HOLDS_PER_ACCOUNT))
    period = max(1, settings.DAISY_SLOT_HOLD_LIMIT_MINUTES) * 60
    for kind, ident, limit in checks:
        if limit <= 0:
            continue
        try:
            count = window_hit(f"slot-hold-{kind}", ident, period_seconds=period, now=now)
        except Exception:  # noqa: BLE001 - a cache outage must not stop bookings
            logger.exception("slot hold limit check failed; allowing the hold")
            continue
        if count > limit:
            raise TooManyRequests(
                _(
                    "You have chosen several times in the last few minutes, so we cannot hold "
                    "another one just now. Please try again in a few minutes, or call us and "
                    "we will book it for you."
                ),
                code="too_many_holds",
                extra={"limit": kind},
            )


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
    anonymous: bool,
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
            locked=True,  # above, with the previous hold's resources
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
            is_anonymous=anonymous,
        )
        hold.save(force_insert=True)
        allocations_write(slot, hold=hold)
        if anonymous:
            # Measured with the new hold written, under the locks every hold of this treatment
            # here takes; a refusal rolls the hold (and the previous one's release) back.
            _day_share_check(hold, treatment, location, now)
        return hold


def _local_day_bounds(day: date, location: Location) -> tuple[datetime, datetime]:
    tz = location.tz
    return (
        datetime.combine(day, time(0), tz),
        datetime.combine(day + timedelta(days=1), time(0), tz),
    )


def _day_share_check(
    hold: SlotHold, treatment: Treatment, location: Location, now: datetime
) -> None:
    """Refuse `hold` when holds of visitors who are not signed in would block more than
    DAISY_SLOT_HOLD_ANONYMOUS_DAY_PERCENT of the times an online client could book for this
    treatment here on that local day (were there no such holds). The first such hold of a day is
    always allowed, so a nearly full day can still be booked online."""
    percent = settings.DAISY_SLOT_HOLD_ANONYMOUS_DAY_PERCENT
    if percent >= 100:
        return
    day = hold.starts_at.astimezone(location.tz).date()
    day_start, day_end = _local_day_bounds(day, location)
    others = (
        SlotHold.objects.filter(
            is_anonymous=True,
            expires_at__gt=now,
            location=location,
            starts_at__gte=day_start,
            starts_at__lt=day_end,
        )
        .exclude(pk=hold.pk)
        .exists()
    )
    if not others:
        return

    def starts(over: bool) -> set[datetime]:
        found = selectors.availability_list(
            treatment=treatment,
            location=location,
            window_start=max(day_start, now),
            window_end=day_end,
            now=now,
            for_staff=False,
            over_anonymous_holds=over,
        )
        return {ls.slot.start for ls in found}

    bookable = starts(True)
    blocked = len(bookable - starts(False))
    if blocked * 100 > percent * len(bookable):
        raise SlotUnavailable(
            _(
                "Many people are choosing times on that day online just now, so we cannot hold "
                "another one that day for the moment. Here are the nearest free times on other "
                "days; or call us and we will book it for you."
            ),
            code=DAY_SHARE_REACHED,
        )


def slot_hold_extend(
    *,
    hold_id: Any,
    held_by: str,
    now: datetime,
    renew: bool = False,
    has_details: bool = True,
) -> SlotHold | None:
    """Let the owner's live hold run longer. Returns the hold, or None when it has gone
    (expired, released, or booked over by staff): the caller may hold the time again.

    By default (the visitor gave their details) the hold runs to the full hold time from when
    it was made (settings.DAISY_SLOT_HOLD_MINUTES). With `renew` (the owner asked for more time,
    WCAG 2.2.1) it runs a fresh hold time from now (the short one for a visitor who is not
    signed in and has not given details yet), but never past
    settings.DAISY_SLOT_HOLD_MAX_MINUTES from when it was made: holds stay bounded."""
    hold = selectors.slot_hold_get(hold_id=hold_id, held_by=held_by_check(held_by))
    if hold is None or not hold.is_live(now):
        return None
    if renew:
        ttl = hold_ttl(anonymous=hold.is_anonymous, has_details=has_details)
        until = min(now + ttl, slot_hold_limit(hold))
    else:
        until = hold.created_at + timedelta(minutes=settings.DAISY_SLOT_HOLD_MINUTES)
    if until <= hold.expires_at:
        return hold
    with transaction.atomic():
        # Lock like every other writer of this hold's rows (sorted, one statement).
        resources_lock(slot_hold_resource_ids(hold))
        if not SlotHold.objects.filter(pk=hold.pk, expires_at__gt=now).update(expires_at=until):
            return None
        Allocation.objects.filter(hold_id=hold.pk).update(hold_expires_at=until)
    hold.expires_at = until
    return hold


def slot_hold_limit(hold: SlotHold) -> datetime:
    """The latest a hold may run to, however often its owner asks for more time."""
    longest = max(settings.DAISY_SLOT_HOLD_MAX_MINUTES, settings.DAISY_SLOT_HOLD_MINUTES)
    return hold.created_at + timedelta(minutes=longest)


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
