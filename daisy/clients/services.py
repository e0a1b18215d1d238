"""Writes for clients: create and update, each validated and audited, plus the audit entry for
viewing a client's record (a health record: DESIGN.md 5, "one row per write and per view")."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime
from typing import Any

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import transaction
from django.utils.translation import gettext as _

from daisy.audit.services import audit_record
from daisy.audit.services import person_name as audit_person_name
from daisy.clients.models import Client, ClinicalHold, ContactChannel, Contraindication, Tier
from daisy.lib.errors import ClientExists, PermissionDenied, ValidationFailed
from daisy.lib.locks import natural_key_lock
from daisy.lib.names import person_name_clean

# Nobody alive was born before this; a date earlier than it is a typing slip.
EARLIEST_DATE_OF_BIRTH = date(1900, 1, 1)
NAME_MAX = 80
EMAIL_MAX = 254
# Ofcom reserves +44 7700 900000-900999 for drama and testing: not "valid" to phonenumbers, and
# accepted only where settings.DAISY_PHONE_TEST_NUMBERS is on (the test suite, the demo clinic).
_TEST_NUMBER_PREFIXES = ("+447700900",)


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()

_email_validator = EmailValidator()


def _clean_text(value: str, *, field: str, max_length: int, required: bool) -> str:
    if not isinstance(value, str):
        raise ValidationFailed("Enter text.", fields={field: "Enter text."})
    value = value.strip()
    # Control characters and lone surrogates cannot be shown or stored (PostgreSQL refuses NUL).
    if any(unicodedata.category(ch) in {"Cc", "Cs"} for ch in value):
        msg = "Remove the control characters."
        raise ValidationFailed(msg, fields={field: msg})
    if required and not value:
        raise ValidationFailed("This field is required.", fields={field: "This field is required."})
    if len(value) > max_length:
        msg = f"Use at most {max_length} characters."
        raise ValidationFailed(msg, fields={field: msg})
    return value


def _clean_name(value: str, *, field: str) -> str:
    """A name: NFC, spaces tidied, no hidden or direction-changing characters (daisy/lib/names)."""
    if isinstance(value, str):
        try:
            value = person_name_clean(value)
        except ValueError as exc:
            raise ValidationFailed(str(exc), fields={field: str(exc)}) from None
    return _clean_text(value, field=field, max_length=NAME_MAX, required=True)


def phone_normalise(raw: str, *, region: str | None = None) -> str:
    """A phone number as typed -> E.164 (`+447700900123`), or "" for blank. A number without a
    country code is read as one of `region` (the location's country, ISO 3166), by default
    settings.DAISY_PHONE_REGION. Only numbers phonenumbers knows as assigned are accepted."""
    raw = _clean_text(raw, field="phone", max_length=40, required=False)
    if not raw:
        return ""
    msg = "Enter a valid phone number, e.g. 07911 123456 or +44 7911 123456."
    try:
        number = phonenumbers.parse(raw, (region or settings.DAISY_PHONE_REGION).upper())
    except phonenumbers.NumberParseException:
        raise ValidationFailed(msg, fields={"phone": msg}) from None
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    test_number = (
        settings.DAISY_PHONE_TEST_NUMBERS
        and e164.startswith(_TEST_NUMBER_PREFIXES)
        and phonenumbers.is_possible_number(number)
    )
    if not (phonenumbers.is_valid_number(number) or test_number):
        raise ValidationFailed(msg, fields={"phone": msg})
    return e164


def email_normalise(raw: str) -> str:
    raw = _clean_text(raw, field="email", max_length=EMAIL_MAX, required=False)
    if not raw:
        return ""
    try:
        _email_validator(raw)
    except ValidationError:
        msg = "Enter a valid email address."
        raise ValidationFailed(msg, fields={"email": msg}) from None
    local, _at, domain = raw.rpartition("@")
    return f"{local}@{domain.lower()}"


def email_key(raw: str) -> str:
    """The form an address is found by: trimmed, wholly lower-cased, the domain in IDNA
    (`Ada@Bücher.DE ` -> `ada@xn--bcher-kva.de`); "" for blank or unreadable. Mail servers may
    treat the local part's case as significant; people never do, and one person typing their
    address two ways is the duplicate this key exists to catch."""
    try:
        address = email_normalise(raw or "")
    except ValidationFailed:
        return ""
    if not address:
        return ""
    local, _at, domain = address.lower().rpartition("@")
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        pass  # not encodable as IDNA: the lower-cased form still matches itself
    return f"{local}@{domain}"


def phone_key(raw: str) -> str:
    """The form a phone number is found by: E.164 (`07700 900017`, `+44 7700 900017` and
    `07700900017` are one number); "" for blank or not a phone number."""
    try:
        return phone_normalise(raw or "")
    except ValidationFailed:
        return ""


def client_keys(*, email: str, phone: str) -> dict[str, str]:
    """The lookup keys for a record with this email and phone: store them with every write of
    either field (client_create, client_update; seeds and factories that insert rows directly)."""
    return {"email_key": email_key(email), "phone_key": phone_key(phone)}


def date_of_birth_check(value: date | None, *, today: date) -> date | None:
    if value is None:
        return None
    if value > today:
        msg = "The date of birth cannot be in the future."
        raise ValidationFailed(msg, fields={"date_of_birth": msg})
    if value < EARLIEST_DATE_OF_BIRTH:
        msg = f"Enter a date of birth after {EARLIEST_DATE_OF_BIRTH:%d %B %Y}."
        raise ValidationFailed(msg, fields={"date_of_birth": msg})
    return value


def _validated(values: dict[str, Any], *, today: date) -> dict[str, Any]:
    """Each given field cleaned; every problem reported at once, keyed by field."""
    out: dict[str, Any] = {}
    problems: dict[str, str] = {}
    checks = {
        "first_name": lambda v: _clean_name(v, field="first_name"),
        "last_name": lambda v: _clean_name(v, field="last_name"),
        "email": lambda v: email_normalise(v or ""),
        "phone": lambda v: phone_normalise(v or ""),
        "date_of_birth": lambda v: date_of_birth_check(v, today=today),
    }
    for name, value in values.items():
        try:
            out[name] = checks[name](value)
        except ValidationFailed as exc:
            problems.update(exc.fields or {name: exc.message})
    if problems:
        first = next(iter(problems.values()))
        message = first if len(problems) == 1 else "Some details need correcting."
        raise ValidationFailed(message, fields=problems)
    return out


def _same_contact(keys: dict[str, str]) -> tuple[Client, str] | None:
    """The oldest live record holding this email key, else this phone key; and which matched."""
    for field, name in (("email_key", "email"), ("phone_key", "phone")):
        if keys[field]:
            found = (
                Client.objects.filter(merged_into__isnull=True, **{field: keys[field]})
                .order_by("created_at", "id")
                .first()
            )
            if found is not None:
                return found, name
    return None


def client_create(
    *,
    first_name: str,
    last_name: str,
    email: str = "",
    phone: str = "",
    date_of_birth: date | None = None,
    by: Any,
    now: datetime,
    user: Any = None,
    confirm_duplicate: bool = False,
) -> Client:
    """A new client record. `user`: the client's own login, when the record is made together
    with their account.

    One person, one record: an email address or phone number (however typed) that already
    belongs to a client raises ClientExists naming that client, unless staff looked at the
    possible duplicates and confirmed that this is someone else (`confirm_duplicate`: two people
    sharing a phone, say), which the audit entry records."""
    values = _validated(
        {
            "first_name": first_name,
            "last_name": last_name,
            "email": email,
            "phone": phone,
            "date_of_birth": date_of_birth,
        },
        today=now.date(),
    )
    keys = client_keys(email=values["email"], phone=values["phone"])
    with transaction.atomic():
        # Two requests for the same new person: the second one waits here and then sees the
        # first one's record.
        natural_key_lock(*(f"clients.client:{key}" for key in keys.values() if key))
        same = _same_contact(keys)
        if same is not None and not confirm_duplicate:
            existing, matched = same
            msg = (
                _("A client with this email address already exists.")
                if matched == "email"
                else _("A client with this phone number already exists.")
            )
            raise ClientExists(msg, fields={"client": str(existing.pk), matched: msg})
        data: dict[str, Any] = {"fields": sorted(values)}
        if confirm_duplicate:
            from daisy.clients.selectors import client_possible_duplicates  # (a cycle at import)

            shown = client_possible_duplicates(**values)
            if shown:
                # Staff saw these and said this is someone else: the trail says which.
                data["duplicate_confirmed"] = str(shown[0].pk)
                data["possible_duplicates"] = [str(c.pk) for c in shown]
        client = Client.objects.create(**values, **keys, user=user)
        audit_record(actor=by, action="client.create", obj=client, at=now, data=data)
    return client


def client_update(
    *,
    client: Client,
    by: Any,
    now: datetime,
    first_name: Any = UNSET,
    last_name: Any = UNSET,
    email: Any = UNSET,
    phone: Any = UNSET,
    date_of_birth: Any = UNSET,
) -> Client:
    """Change the given fields (UNSET ones stay as they are); audit which ones changed."""
    given = {
        name: value
        for name, value in {
            "first_name": first_name,
            "last_name": last_name,
            "email": email,
            "phone": phone,
            "date_of_birth": date_of_birth,
        }.items()
        if value is not UNSET
    }
    values = _validated(given, today=now.date())
    with transaction.atomic():
        locked = Client.objects.select_for_update().get(pk=client.pk)
        changed = sorted(name for name, value in values.items() if getattr(locked, name) != value)
        if changed:
            for name in changed:
                setattr(locked, name, values[name])
            keys = client_keys(email=locked.email, phone=locked.phone)
            for name, key in keys.items():
                setattr(locked, name, key)
            locked.save(update_fields=[*changed, *keys, "updated_at"])
            audit_record(
                actor=by, action="client.update", obj=locked, at=now, data={"fields": changed}
            )
    return locked


def client_view_record(*, client: Client, by: Any, now: datetime, via: str = "") -> None:
    """Record that someone opened this client's record."""
    audit_record(
        actor=by, action="client.view", obj=client, at=now, data={"via": via} if via else {}
    )


# --- contact preferences -----------------------------------------------------------------------


def client_preferences_update(
    *,
    client: Client,
    by: Any,
    now: datetime,
    contact_channel: Any = UNSET,
    marketing_consent: Any = UNSET,
) -> Client:
    """Change how service messages reach the client (email, SMS or both) and their marketing
    consent, which are independent: consent never stops a service message, and a channel choice
    never implies consent. A channel is refused when the client cannot be reached by it (SMS
    without a phone number, email without an address), so service messages always have a way
    through. Audited with the old and new values."""
    problems: dict[str, str] = {}
    values: dict[str, Any] = {}
    if contact_channel is not UNSET:
        if contact_channel not in ContactChannel.values:
            problems["contact_channel"] = "Choose email, text message, or both."
        else:
            values["contact_channel"] = contact_channel
    if marketing_consent is not UNSET:
        if not isinstance(marketing_consent, bool):
            problems["marketing_consent"] = "Answer yes or no."
        else:
            values["marketing_consent"] = marketing_consent
    if problems:
        raise ValidationFailed(next(iter(problems.values())), fields=problems)
    with transaction.atomic():
        locked = Client.objects.select_for_update().get(pk=client.pk)
        channel = values.get("contact_channel")
        if channel in (ContactChannel.SMS, ContactChannel.BOTH) and not locked.phone:
            msg = "Add a mobile phone number before choosing text messages."
            raise ValidationFailed(msg, fields={"contact_channel": msg})
        if channel in (ContactChannel.EMAIL, ContactChannel.BOTH) and not locked.email:
            msg = "Add an email address before choosing email."
            raise ValidationFailed(msg, fields={"contact_channel": msg})
        changes = {
            name: {"from": getattr(locked, name), "to": value}
            for name, value in values.items()
            if getattr(locked, name) != value
        }
        if not changes:
            return locked
        for name, value in values.items():
            setattr(locked, name, value)
        fields = [*changes, "updated_at"]
        if "marketing_consent" in changes:
            locked.marketing_consent_changed_at = now
            fields.append("marketing_consent_changed_at")
        locked.save(update_fields=fields)
        audit_record(
            actor=by, action="client.preferences", obj=locked, at=now, data={"changes": changes}
        )
    return locked


# --- clinical holds ----------------------------------------------------------------------------


def client_hold_place(*, client: Client, reason: str, source: str, now: datetime) -> ClinicalHold:
    """Hold the client's next session until a clinician clears it. Idempotent on `source`: a
    second hold for the same cause returns the open one. Call inside the caller's transaction."""
    existing = ClinicalHold.objects.filter(
        client=client, source=source, cleared_at__isnull=True
    ).first()
    if existing is not None:
        return existing
    hold = ClinicalHold.objects.create(
        client=client, reason=reason[:300], source=source, placed_at=now
    )
    audit_record(
        actor=None,
        action="client.hold",
        obj=client,
        at=now,
        data={"reason": hold.reason, "source": source},
    )
    return hold


def client_hold_clear(*, client: Client, source: str, by: Any, reason: str, now: datetime) -> int:
    """A clinician clears the open hold placed by `source`; returns how many were cleared (0 when
    none was open). Only specialists and the clinic manager may clear, with a reason."""
    if not getattr(by, "is_clinician", False):
        raise PermissionDenied("Only a specialist or the clinic manager can clear a clinical hold.")
    reason = (reason or "").strip()
    if not reason:
        msg = "Say why the client can be treated again."
        raise ValidationFailed(msg, fields={"reason": msg})
    with transaction.atomic():
        cleared = ClinicalHold.objects.filter(
            client=client, source=source, cleared_at__isnull=True
        ).update(cleared_at=now, cleared_by=by, clear_reason=reason)
        if cleared:
            audit_record(
                actor=by,
                action="client.hold_clear",
                obj=client,
                at=now,
                data={"source": source, "reason": reason},
            )
    return cleared


# --- findings saved in the back-office ---------------------------------------------------------


def finding_saved_record(
    *,
    finding: Contraindication,
    by: Any,
    now: datetime,
    created: bool,
    changes: dict[str, Any] | None = None,
    reason: str = "",
) -> None:
    """Audit a finding (contraindication) added, changed, resolved or reopened in the
    back-office, as the person who did it, with what changed and why. The finding keeps who
    first recorded it; the trail says who changed it since. Call in the save's transaction."""
    changes = changes or {}
    if created:
        action = "finding.create"
    elif "resolved_at" in changes and changes["resolved_at"].get("to") not in (None, ""):
        action = "finding.resolve"
    elif "resolved_at" in changes:
        action = "finding.reopen"
    else:
        action = "finding.change"
    data: dict[str, Any] = {"condition": finding.condition, "tier": finding.get_tier_display()}
    if changes:
        data["changes"] = changes
    if reason.strip():
        data["reason"] = reason.strip()
    if not created and finding.recorded_by_id not in (None, getattr(by, "pk", None)):
        data["first_recorded_by"] = audit_person_name(finding.recorded_by)
    audit_record(actor=by, action=action, obj=finding, at=now, data=data, name=finding.condition)


def finding_deleted_record(*, finding: Contraindication, by: Any, now: datetime) -> None:
    """Audit a finding deleted in the back-office (its words kept in the trail)."""
    audit_record(
        actor=by,
        action="finding.delete",
        obj=finding,
        at=now,
        name=finding.condition,
        data={"condition": finding.condition, "tier": finding.get_tier_display()},
    )


def _clinician_reason(by: Any, reason: str, *, action: str) -> str:
    if not getattr(by, "is_clinician", False):
        raise PermissionDenied(
            _("Only a specialist or the clinic manager can %(action)s a health finding.")
            % {"action": action}
        )
    reason = (reason or "").strip()
    if not reason:
        msg = _("Say why: it goes into the client's record.")
        raise ValidationFailed(msg, fields={"reason": msg})
    return reason[:2000]


def finding_add(
    *,
    client: Client,
    condition: str,
    tier: str,
    reason: str,
    by: Any,
    now: datetime,
    until_on: date | None = None,
    modification: str = "",
) -> Contraindication:
    """A clinician records a finding on the desk (issue 14, item 4): with the reason they
    record it (what they saw or were told), audited as `finding.create` with it."""
    reason = _clinician_reason(by, reason, action=_("record"))
    condition = _clean_text(condition, field="condition", max_length=200, required=True)
    if tier not in Tier.values:
        raise ValidationFailed(_("Choose what the finding means."), fields={"tier": "unknown"})
    if tier == Tier.DEFER and until_on is None:
        msg = _("A finding that defers treatment needs the date it ends.")
        raise ValidationFailed(msg, fields={"until_on": msg})
    with transaction.atomic():
        finding = Contraindication.objects.create(
            client=client,
            condition=condition,
            tier=tier,
            until_on=until_on if tier == Tier.DEFER else None,
            modification=modification.strip()[:300],
            recorded_by=by,
        )
        finding_saved_record(finding=finding, by=by, now=now, created=True, reason=reason)
    return finding


def finding_resolve(
    *, finding: Contraindication, reason: str, by: Any, now: datetime
) -> Contraindication:
    """A clinician records that a finding has resolved (issue 14, item 4), with why: audited
    as `finding.resolve` with the reason and who first recorded it. Already resolved: kept."""
    reason = _clinician_reason(by, reason, action=_("resolve"))
    with transaction.atomic():
        locked = Contraindication.objects.select_for_update().get(pk=finding.pk)
        if locked.resolved_at is not None:
            return locked
        locked.resolved_at = now
        locked.save(update_fields=["resolved_at"])
        finding_saved_record(
            finding=locked,
            by=by,
            now=now,
            created=False,
            changes={"resolved_at": {"from": None, "to": now.isoformat()}},
            reason=reason,
        )
    return locked


# --- merging duplicates (composed by daisy.booking.merge.client_merge) -------------------------


def finding_record(
    *,
    client: Client,
    condition: str,
    tier: str,
    by: Any,
    now: datetime,
    row: str = "",
    until_on: date | None = None,
    modification: str = "",
    source: str = "",
) -> Contraindication:
    """Record a screening finding (audited). An open finding of the same condition and tier is
    kept rather than doubled; a deferral's end moves to the later of the two dates."""
    same = (
        Contraindication.objects.select_for_update()
        .filter(client=client, condition=condition, tier=tier, resolved_at__isnull=True)
        .first()
    )
    if same is not None:
        if until_on is not None and (same.until_on is None or same.until_on < until_on):
            if same.until_on is not None:
                same.until_on = until_on
                same.save(update_fields=["until_on"])
                audit_record(
                    actor=by,
                    action="finding.extend",
                    obj=same,
                    at=now,
                    data={"until_on": until_on.isoformat(), "source": source},
                )
        return same
    finding = Contraindication.objects.create(
        client=client,
        condition=condition[:200],
        tier=tier,
        domain_row=row[:20],
        until_on=until_on,
        modification=modification[:300],
        source=source[:100],
        recorded_by=by if getattr(by, "pk", None) else None,
    )
    audit_record(
        actor=by,
        action="finding.record",
        obj=finding,
        at=now,
        data={
            "client": str(client.pk),
            "tier": tier,
            "condition": finding.condition,
            **({"until_on": until_on.isoformat()} if until_on else {}),
            **({"source": source} if source else {}),
        },
    )
    return finding


def findings_reassign_client(*, source: Client, target: Client) -> int:
    """Move every screening finding (contraindication) and clinical hold of `source` to
    `target` (a client merge), open or resolved, as they were recorded; returns how many."""
    moved = Contraindication.objects.filter(client=source).update(client=target)
    moved += ClinicalHold.objects.filter(client=source).update(client=target)
    return moved


# Details a kept record may lack and take from the record merged into it. Names stay the kept
# record's; consent and the channel choice too (consent is never inferred from another record).
_MERGE_FILLS = ("email", "phone", "date_of_birth")


def client_retire_into(*, merged: Client, keep: Client, now: datetime) -> list[str]:
    """Retire `merged` into `keep` once everything it held has moved: it stays, pointing at
    `keep`, and nothing finds it any more. `keep` takes the contact details it lacks, the
    merged record's notes, and its login when `keep` has none (a login on both stays with the
    retired record; accounts retires it). Returns the fields `keep` took. Call inside the
    merge's transaction, with both rows locked."""
    taken = [name for name in _MERGE_FILLS if not getattr(keep, name) and getattr(merged, name)]
    for name in taken:
        setattr(keep, name, getattr(merged, name))
    if merged.notes.strip():
        header = f"[{now:%Y-%m-%d}, from merged record {merged.pk}]"
        keep.notes = f"{keep.notes.rstrip()}\n\n{header}\n{merged.notes.strip()}".strip()
        taken.append("notes")
    login = None
    if keep.user_id is None and merged.user_id is not None:
        login = merged.user
        taken.append("user")
    merged.merged_into = keep
    merged.merged_at = now
    merged.user = None if login is not None else merged.user
    merged.save(update_fields=["merged_into", "merged_at", "user", "updated_at"])
    if login is not None:
        keep.user = login
    for name, key in client_keys(email=keep.email, phone=keep.phone).items():
        setattr(keep, name, key)
    keep.save(
        update_fields=[*_MERGE_FILLS, "notes", "user", "email_key", "phone_key", "updated_at"]
    )
    return taken


# --- erasure (composed by daisy.records.retention) ---------------------------------------------


def client_anonymise(*, client: Client, by: Any, now: datetime) -> Client:
    """What identifies the person goes from the client record (name, contact details, date of
    birth, notes, marketing consent); the row stays, so the diary's past and the audit trail
    still point somewhere (UK GDPR Art. 17, once nothing needs it kept)."""
    with transaction.atomic():
        locked = Client.objects.select_for_update().get(pk=client.pk)
        locked.first_name = "Erased"
        locked.last_name = "client"
        locked.email = ""
        locked.phone = ""
        locked.email_key = ""
        locked.phone_key = ""
        locked.date_of_birth = None
        locked.notes = ""
        locked.marketing_consent = False
        locked.marketing_consent_changed_at = now
        locked.save()
        audit_record(actor=by, action="client.anonymise", obj=locked, at=now, name="")
    return locked


def findings_erase_for_client(*, client: Client, by: Any, now: datetime) -> int:
    """The client's findings and clinical holds, deleted at the end of the retention period."""
    with transaction.atomic():
        count = 0
        for finding in Contraindication.objects.filter(client=client):
            finding_deleted_record(finding=finding, by=by, now=now)
            finding.delete()
            count += 1
        ClinicalHold.objects.filter(client=client).delete()
    return count
