"""The waitlist (issue 13, item 3).

A client waits for a treatment, optionally with one specialist, at one location or within a
range of days; staff add them at the desk, clients from their portal when no time suits. When
a booked time frees up (a cancellation, a move away from it, a no-show while the time is still
ahead), `waitlist_offer_freed` runs in the same transaction and offers it, by message, to the
waiting clients it suits, in the order they joined (at most MAX_OFFERS of them). The first to
accept books it through `appointment_book`, the same path as every other booking (slot locks,
the eligibility gate, messages); everyone else offered that time is told it has gone.
Whatever races, the time is booked once: the booking's own locks and the database's
no-overlap rule refuse the second, and a unique index allows one accepted offer per time.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Prefetch, Q
from django.utils.translation import gettext as _

from daisy.aftercare.services import contact_routes
from daisy.audit.services import audit_record
from daisy.booking import services as booking_services
from daisy.booking.models import (
    EntryStatus,
    OfferStatus,
    WaitlistEntry,
    WaitlistOffer,
)
from daisy.clients.models import Client
from daisy.clinic.models import Location, Specialist
from daisy.lib.errors import (
    DomainError,
    NotFound,
    PermissionDenied,
    PolicyViolation,
    SlotUnavailable,
    ValidationFailed,
)
from daisy.notifications.services import MessageSpec, message_schedule_many
from daisy.scheduling import selectors as scheduling_selectors
from daisy.scheduling.models import Appointment
from daisy.treatments.models import Treatment

# How many waiting clients one freed time is offered to at once, in the order they joined.
MAX_OFFERS = 5
# How long an offer stands (never past the time itself).
OFFER_LIFETIME = timedelta(hours=12)
T_GENERIC = "generic"


def _is_staff(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_clinic_staff", False))


def _acts_for(by: Any, client: Client) -> None:
    """Staff act for anyone; a client only for their own record."""
    if _is_staff(by):
        return
    if by is None or client.user_id is None or client.user_id != getattr(by, "pk", None):
        raise PermissionDenied(_("You can only change your own place on the waitlist."))


def _local_today(location: Location | None, now: datetime) -> date:
    tz = location.tz if location is not None else now.tzinfo
    return now.astimezone(tz).date()


def waitlist_join(
    *,
    client: Client,
    treatment: Treatment,
    by: Any,
    now: datetime,
    location: Location | None = None,
    specialist: Specialist | None = None,
    from_on: date | None = None,
    until_on: date | None = None,
    note: str = "",
) -> WaitlistEntry:
    """Put a client on the waitlist, at the end of the queue. Audited."""
    _acts_for(by, client)
    problems: dict[str, str] = {}
    if client.is_merged:
        problems["client"] = _("This record was merged into another: use the one kept.")
    if not treatment.is_active or (not _is_staff(by) and not treatment.is_online_bookable):
        problems["treatment"] = _("This treatment cannot be waited for: it is not on offer.")
    if from_on and until_on and until_on < from_on:
        problems["until_on"] = _("The last day must be on or after the first day.")
    if until_on and until_on < _local_today(location, now):
        problems["until_on"] = _("The last day has already passed.")
    if specialist is not None:
        where = [location] if location is not None else list(specialist.locations.all())
        if location is not None and not specialist.locations.filter(pk=location.pk).exists():
            problems["specialist"] = _("%(who)s does not work at %(place)s.") % {
                "who": specialist.name,
                "place": location.name,
            }
        elif not any(
            scheduling_selectors.eligible_resources(
                treatment, place, specialist_id=specialist.pk
            ).get(scheduling_selectors.ROLE_SPECIALIST)
            for place in where
        ):
            problems["specialist"] = _("%(who)s does not give %(treatment)s.") % {
                "who": specialist.name,
                "treatment": treatment.name,
            }
    if len(note) > 300:
        problems["note"] = _("Keep the note under 300 characters.")
    if problems:
        raise ValidationFailed(next(iter(problems.values())), fields=problems)
    try:
        with transaction.atomic():
            entry = WaitlistEntry.objects.create(
                client=client,
                treatment=treatment,
                location=location,
                specialist=specialist,
                from_on=from_on,
                until_on=until_on,
                note=note.strip(),
                created_at=now,
                created_by=by if getattr(by, "pk", None) else None,
            )
            audit_record(
                actor=by,
                action="waitlist.join",
                obj=client,
                at=now,
                data={"entry": str(entry.pk), "treatment": treatment.slug},
            )
    except IntegrityError:
        msg = _("%(client)s is already on the waitlist for %(treatment)s.") % {
            "client": client.full_name,
            "treatment": treatment.name,
        }
        raise ValidationFailed(msg, code="already_waiting", fields={"treatment": msg}) from None
    return entry


def waitlist_leave(*, entry: WaitlistEntry, by: Any, now: datetime) -> WaitlistEntry:
    """Take a client off the waitlist; their open offers lapse. Audited."""
    _acts_for(by, entry.client)
    with transaction.atomic():
        locked = WaitlistEntry.objects.select_for_update().get(pk=entry.pk)
        if locked.status != EntryStatus.WAITING:
            return locked
        locked.status, locked.closed_at = EntryStatus.WITHDRAWN, now
        locked.save(update_fields=["status", "closed_at"])
        locked.offers.filter(status=OfferStatus.OPEN).update(
            status=OfferStatus.DECLINED, answered_at=now
        )
        audit_record(
            actor=by,
            action="waitlist.leave",
            obj=locked.client,
            at=now,
            data={"entry": str(locked.pk)},
        )
    return locked


def waitlist_reassign_client(*, source: Client, target: Client, now: datetime) -> int:
    """Move every waitlist place of `source` to `target` (a client merge); returns how many.
    Where both wait for one treatment, the earlier place stays in the queue and the later is
    withdrawn. Call inside the merge's transaction."""
    waiting = {
        e.treatment_id: e
        for e in WaitlistEntry.objects.filter(client=target, status=EntryStatus.WAITING)
    }
    moved = 0
    for entry in WaitlistEntry.objects.filter(client=source).order_by("created_at", "id"):
        other = waiting.get(entry.treatment_id) if entry.status == EntryStatus.WAITING else None
        if other is not None:
            later = (
                entry
                if (entry.created_at, str(entry.pk)) > (other.created_at, str(other.pk))
                else other
            )
            later.status, later.closed_at = EntryStatus.WITHDRAWN, now
            later.save(update_fields=["status", "closed_at"])
            later.offers.filter(status=OfferStatus.OPEN).update(
                status=OfferStatus.DECLINED, answered_at=now
            )
        WaitlistEntry.objects.filter(pk=entry.pk).update(client=target)
        moved += 1
    return moved


# --- offering a freed time ----------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def offer_link(token: str) -> str:
    return f"{settings.DAISY_PUBLIC_URL}/waitlist/offers/{token}/"


def _when(starts_at: datetime, location: Location) -> str:
    local = starts_at.astimezone(location.tz)
    return f"{local:%A %-d %B %Y at %H:%M} ({location.time_zone})"


def _messages(
    client: Client,
    *,
    key: str,
    about: str,
    subject: str,
    paragraphs: list[str],
    link: str,
    link_text: str,
    now: datetime,
    expires_at: datetime | None,
) -> list[MessageSpec]:
    email, phone, _sms_all = contact_routes(client)
    context = {
        "name": client.first_name,
        "subject": subject,
        "paragraphs": paragraphs,
        "link": link,
        "link_text": link_text,
    }
    specs = []
    if email:
        specs.append(
            MessageSpec(
                channel="email",
                recipient=email,
                template=T_GENERIC,
                context=context,
                send_after=now,
                dedupe_key=f"{key}:email",
                about=about,
                client=client,
                expires_at=expires_at,
            )
        )
    if phone:
        specs.append(
            MessageSpec(
                channel="sms",
                recipient=phone,
                template=T_GENERIC,
                context=context,
                send_after=now,
                dedupe_key=f"{key}:sms",
                about=about,
                client=client,
                expires_at=expires_at,
            )
        )
    return specs


def _matching(appointment: Appointment, day: date, specialist_id: Any) -> list[WaitlistEntry]:
    qs = (
        WaitlistEntry.objects.filter(status=EntryStatus.WAITING, treatment=appointment.treatment)
        .filter(Q(location__isnull=True) | Q(location=appointment.location_id))
        .filter(Q(from_on__isnull=True) | Q(from_on__lte=day))
        .filter(Q(until_on__isnull=True) | Q(until_on__gte=day))
        .exclude(client_id=appointment.client_id)
        .select_related("client", "treatment")
        .order_by("created_at", "id")
    )
    if specialist_id:
        qs = qs.filter(Q(specialist__isnull=True) | Q(specialist=specialist_id))
    else:
        qs = qs.filter(specialist__isnull=True)
    return list(qs[:MAX_OFFERS])


def waitlist_offer_freed(
    *, appointment: Appointment, starts_at: datetime, specialist_id: Any, now: datetime
) -> list[WaitlistOffer]:
    """Offer the time `appointment` held from `starts_at` with `specialist_id` (it has just
    been cancelled, moved away or marked a no-show) to the waiting clients it suits. Call
    inside the transaction that freed it: a rolled-back cancellation offers nothing. Nothing
    is offered for a time already started or about to."""
    location = appointment.location
    if starts_at <= now + timedelta(minutes=15):
        return []
    day = starts_at.astimezone(location.tz).date()
    entries = _matching(appointment, day, specialist_id)
    specialist = Specialist.objects.filter(pk=specialist_id).first() if specialist_id else None
    if not entries:
        return []
    slot_key = f"{appointment.pk}:{starts_at.timestamp():.0f}"
    expires_at = min(now + OFFER_LIFETIME, starts_at)
    offers, specs = [], []
    for entry in entries:
        token = secrets.token_urlsafe(24)
        offer = WaitlistOffer.objects.create(
            entry=entry,
            slot_key=slot_key,
            location=location,
            specialist=specialist,
            starts_at=starts_at,
            token_hash=_token_hash(token),
            created_at=now,
            expires_at=expires_at,
        )
        offers.append(offer)
        with_whom = _(" with %(who)s") % {"who": specialist.name} if specialist else ""
        specs += _messages(
            entry.client,
            key=f"waitlist-offer:{offer.pk}",
            about=f"waitlist-offer:{offer.pk}",
            subject=_("A time for %(treatment)s has come free")
            % {"treatment": entry.treatment.name},
            paragraphs=[
                _(
                    "A time you were waiting for has come free: %(treatment)s on %(when)s at "
                    "%(place)s%(with_whom)s."
                )
                % {
                    "treatment": entry.treatment.name,
                    "when": _when(starts_at, location),
                    "place": location.name,
                    "with_whom": with_whom,
                },
                _(
                    "We have offered it to a few people on the waitlist: the first to accept "
                    "gets it. Accept it with the link below."
                ),
            ],
            link=offer_link(token),
            link_text=_("Accept this time"),
            now=now,
            expires_at=expires_at,
        )
        audit_record(
            actor=None,
            action="waitlist.offer",
            obj=entry.client,
            at=now,
            data={"offer": str(offer.pk), "appointment_freed": str(appointment.pk)},
        )
    if specs:
        message_schedule_many(messages=specs, now=now)
    return offers


# --- answering an offer -------------------------------------------------------------------------


@dataclass(frozen=True)
class OfferView:
    offer: WaitlistOffer
    is_open: bool


def waitlist_offer_get(token: str, *, now: datetime) -> OfferView:
    """The offer behind a link (NotFound for a link that was never made)."""
    offer = (
        WaitlistOffer.objects.select_related(
            "entry__client", "entry__treatment", "location", "specialist"
        )
        .filter(token_hash=_token_hash(token or ""))
        .first()
    )
    if offer is None:
        raise NotFound(_("This offer link is not valid. Ask the clinic for a new one."))
    return OfferView(
        offer=offer, is_open=offer.status == OfferStatus.OPEN and offer.expires_at > now
    )


class OfferGone(PolicyViolation):
    code = "offer_gone"


def _gone_message(offer: WaitlistOffer) -> str:
    if offer.status == OfferStatus.GONE:
        return _("Sorry, someone else accepted this time first. You are still on the waitlist.")
    if offer.status == OfferStatus.DECLINED:
        return _("This offer was withdrawn.")
    return _("This offer has expired. You are still on the waitlist.")


def waitlist_offer_accept(
    *,
    offer: WaitlistOffer,
    by: Any,
    now: datetime,
    prescreen: Mapping[str, object] | None = None,
    precare_confirmed: Sequence[str] = (),
) -> Appointment:
    """Book the offered time for the waiting client, through appointment_book (a freed time is
    often soon: `precare_confirmed` are the pre-care steps the client already follows). The first
    acceptance wins; a later one (or one after the time went another way) raises OfferGone
    and changes nothing but the offer's state. Accepting the same offer twice returns the
    booking made the first time."""
    entry = offer.entry
    if by is not None and not _is_staff(by):
        _acts_for(by, entry.client)
    lost: DomainError = OfferGone(_("This offer has expired. You are still on the waitlist."))
    with transaction.atomic():
        # Every offer of this time, locked in one order: two acceptances queue here rather
        # than each holding its own offer while waiting for the other's (a deadlock).
        list(
            WaitlistOffer.objects.select_for_update()
            .filter(slot_key=offer.slot_key)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        locked = WaitlistOffer.objects.select_related(
            "entry__client", "entry__treatment", "location", "specialist"
        ).get(pk=offer.pk)
        if locked.status == OfferStatus.ACCEPTED and locked.appointment_id:
            return Appointment.objects.get(pk=locked.appointment_id)
        if locked.status == OfferStatus.OPEN and locked.expires_at <= now:
            locked.status, locked.answered_at = OfferStatus.EXPIRED, now
            locked.save(update_fields=["status", "answered_at"])
        if locked.status != OfferStatus.OPEN:
            lost = OfferGone(_gone_message(locked))
        else:
            try:
                with transaction.atomic():
                    result = booking_services.appointment_book(
                        client=locked.entry.client,
                        treatment=locked.entry.treatment,
                        starts_at=locked.starts_at,
                        location=locked.location,
                        specialist=locked.specialist,
                        booked_by=by,
                        now=now,
                        prescreen=prescreen,
                        precare_confirmed=precare_confirmed,
                        notes=_("Booked from the waitlist."),
                    )
                    booked = result.appointment
                    locked.status, locked.answered_at = OfferStatus.ACCEPTED, now
                    locked.appointment = booked
                    locked.save(update_fields=["status", "answered_at", "appointment"])
            except (SlotUnavailable, IntegrityError):
                locked.status, locked.answered_at = OfferStatus.GONE, now
                locked.save(update_fields=["status", "answered_at"])
                lost = OfferGone(_gone_message(locked))
            else:
                WaitlistEntry.objects.filter(pk=locked.entry_id).update(
                    status=EntryStatus.BOOKED, closed_at=now, appointment=booked
                )
                _tell_the_others(locked, now=now)
                audit_record(
                    actor=by,
                    action="waitlist.accept",
                    obj=locked.entry.client,
                    at=now,
                    data={"offer": str(locked.pk), "appointment": str(booked.pk)},
                )
                return booked
    # The offer's new state is saved; the refusal is raised once that has committed.
    raise lost


def _tell_the_others(accepted: WaitlistOffer, *, now: datetime) -> None:
    others = list(
        WaitlistOffer.objects.filter(slot_key=accepted.slot_key, status=OfferStatus.OPEN)
        .exclude(pk=accepted.pk)
        .select_related("entry__client", "entry__treatment", "location")
    )
    if not others:
        return
    WaitlistOffer.objects.filter(pk__in=[o.pk for o in others]).update(
        status=OfferStatus.GONE, answered_at=now
    )
    specs: list[MessageSpec] = []
    for other in others:
        specs += _messages(
            other.entry.client,
            key=f"waitlist-gone:{other.pk}",
            about=f"waitlist-offer:{other.pk}",
            subject=_("That time has gone"),
            paragraphs=[
                _(
                    "Someone else accepted %(treatment)s on %(when)s first, sorry. You are still "
                    "on the waitlist, and we will tell you when another time comes free."
                )
                % {
                    "treatment": other.entry.treatment.name,
                    "when": _when(other.starts_at, other.location),
                }
            ],
            link="",
            link_text="",
            now=now,
            expires_at=None,
        )
    message_schedule_many(messages=specs, now=now)


# --- reads --------------------------------------------------------------------------------------


def waitlist_for_client(client_id: Any) -> list[WaitlistEntry]:
    """The client's places on the waitlist, newest first, with their offers."""
    return list(
        WaitlistEntry.objects.filter(client_id=client_id)
        .select_related("client", "treatment", "location", "specialist")
        .prefetch_related(
            Prefetch(
                "offers", queryset=WaitlistOffer.objects.select_related("location", "specialist")
            )
        )
        .order_by("-created_at")
    )


def waitlist_waiting(*, location_id: Any = None) -> list[WaitlistEntry]:
    """Everyone waiting, first come first, for the desk's waitlist page."""
    qs = (
        WaitlistEntry.objects.filter(status=EntryStatus.WAITING)
        .select_related("client", "treatment", "location", "specialist")
        .prefetch_related(
            Prefetch(
                "offers", queryset=WaitlistOffer.objects.select_related("location", "specialist")
            )
        )
        .order_by("created_at", "id")
    )
    if location_id is not None:
        qs = qs.filter(Q(location__isnull=True) | Q(location_id=location_id))
    return list(qs)


def waitlist_entry_get(entry_id: Any) -> WaitlistEntry:
    entry = (
        WaitlistEntry.objects.select_related("client", "treatment", "location", "specialist")
        .prefetch_related(
            Prefetch(
                "offers", queryset=WaitlistOffer.objects.select_related("location", "specialist")
            )
        )
        .filter(pk=entry_id)
        .first()
        if _is_uuid(entry_id)
        else None
    )
    if entry is None:
        raise NotFound(_("That waitlist place does not exist."))
    return entry


def waitlist_offer_by_id(offer_id: Any) -> WaitlistOffer:
    offer = (
        WaitlistOffer.objects.select_related("entry__client", "entry__treatment", "location")
        .filter(pk=offer_id)
        .first()
        if _is_uuid(offer_id)
        else None
    )
    if offer is None:
        raise NotFound(_("That offer does not exist."))
    return offer


def _is_uuid(value: Any) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True
