"""Writes of consent (DOMAIN.md 6.4): the shipped templates, a new template version when the
clinic edits the text, signing (one signature for the treatment consent and the photo consents
the client chooses), withdrawal, and the audit entry for every view of a signed consent."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from daisy.audit.services import audit_record
from daisy.clients.models import Client
from daisy.core import consent as core
from daisy.courses.selectors import plan_for_appointment
from daisy.lib.errors import DomainError, ValidationFailed
from daisy.records import consent_defaults
from daisy.records.consent_selectors import consent_current, plan_facts_for_appointment
from daisy.records.models import (
    Consent,
    ConsentKind,
    ConsentTemplate,
    ConsentTemplateVersion,
    SignatureMethod,
    SignedVia,
)
from daisy.records.photos import photos_marketing_erase_for_client

# A drawn signature arrives as a PNG from the page's canvas: small, and never a big picture.
MAX_SIGNATURE_BYTES = 300_000
MAX_SIGNATURE_SIDE = 2400
MAX_NAME = 200
MAX_USER_AGENT = 500


def consent_templates_install(*, now: datetime) -> None:
    """The shipped templates that do not exist yet (micro-needling, once that treatment exists,
    and the two photo consents)."""
    from daisy.treatments.models import Treatment

    with transaction.atomic():
        consent_defaults.install(ConsentTemplate, ConsentTemplateVersion, Treatment, now)


def consent_template_save(
    *, template: ConsentTemplate, by: Any, now: datetime, is_new: bool
) -> ConsentTemplate:
    """Save a template edited in the admin. A new title or text is a new version (kept), so
    clients who signed the old one are asked to sign again; other changes keep the version."""
    with transaction.atomic():
        if is_new:
            template.version = 1
            template.updated_at = now
            template.save()
            changed = True
        else:
            old = ConsentTemplate.objects.select_for_update().get(pk=template.pk)
            changed = (old.title, old.body) != (template.title, template.body)
            template.version = old.version + 1 if changed else old.version
            template.updated_at = now
            template.save()
        if changed:
            ConsentTemplateVersion.objects.create(
                template=template,
                version=template.version,
                title=template.title,
                body=template.body,
                created_at=now,
                created_by=by if getattr(by, "pk", None) else None,
            )
        audit_record(
            actor=by,
            action="consent.template.save",
            obj=template,
            at=now,
            name=template.title,
            data={"version": template.version, "text_changed": changed, "kind": template.kind},
        )
    return template


def document_text(template_version: ConsentTemplateVersion) -> str:
    """The exact text a client reads and signs: the title, a blank line, the body."""
    return f"{template_version.title}\n\n{template_version.body.strip()}\n"


def _device(user_agent: str) -> str:
    """A short description a person reads ("Tablet, Chrome"), from the browser's own words."""
    ua = user_agent.lower()
    if "ipad" in ua or "tablet" in ua or ("android" in ua and "mobile" not in ua):
        kind = _("Tablet")
    elif "mobile" in ua or "iphone" in ua:
        kind = _("Phone")
    elif ua:
        kind = _("Computer")
    else:
        return ""
    for name, word in (
        ("edg/", "Edge"),
        ("firefox/", "Firefox"),
        ("chrome/", "Chrome"),
        ("chromium/", "Chromium"),
        ("safari/", "Safari"),
    ):
        if name in ua:
            return f"{kind}, {word}"
    return str(kind)


def signature_check(png: bytes) -> bytes:
    """A drawn signature as a PNG Pillow can read, of a sensible size; refused otherwise."""
    from PIL import Image, UnidentifiedImageError

    message = _("The signature could not be read. Please sign again.")
    if not png or len(png) > MAX_SIGNATURE_BYTES or not png.startswith(b"\x89PNG\r\n\x1a\n"):
        raise ValidationFailed(message, fields={"signature": message})
    try:
        with Image.open(io.BytesIO(png)) as image:
            image.verify()
        with Image.open(io.BytesIO(png)) as image:
            width, height = image.size
            if not (1 <= width <= MAX_SIGNATURE_SIDE and 1 <= height <= MAX_SIGNATURE_SIDE):
                raise ValidationFailed(message, fields={"signature": message})
            # Re-encoded: only the pixels are kept (no text chunks, no metadata).
            image.load()
            clean = io.BytesIO()
            image.convert("RGBA").save(clean, format="PNG", optimize=True)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ValidationFailed(message, fields={"signature": message}) from None
    return clean.getvalue()


@dataclass(frozen=True)
class Signing:
    """What the client saw: each template they agreed to, with the version shown."""

    template: ConsentTemplate
    version_seen: int


def consent_sign(
    *,
    client: Client,
    signing: Sequence[Signing],
    method: str,
    signed_name: str,
    signature_png: bytes = b"",
    via: str,
    now: datetime,
    appointment: Any = None,
    taken_by: Any = None,
    signed_by: Any = None,
    ip_address: str | None = None,
    user_agent: str = "",
    extra_plan: core.PlanFacts | None = None,
) -> list[Consent]:
    """Record the consents the client signed with one signature: each keeps its own exact text
    and hash, the template version, and (a treatment consent) the plan of the appointment.
    At the clinic the consent-taker is the clinician who handed the tablet over (DOMAIN.md 6.4,
    GMC: the performing or supervising practitioner)."""
    name = " ".join((signed_name or "").split())
    if not name:
        msg = _("Type your full name.")
        raise ValidationFailed(msg, fields={"signed_name": msg})
    if len(name) > MAX_NAME:
        msg = _("The name is too long.")
        raise ValidationFailed(msg, fields={"signed_name": msg})
    if method not in SignatureMethod.values:
        msg = _("Sign by drawing or by typing your name.")
        raise ValidationFailed(msg, fields={"method": msg})
    png = signature_check(signature_png) if method == SignatureMethod.DRAWN else b""
    if via not in SignedVia.values:
        raise ValueError(f"unknown way of signing: {via!r}")
    if via == SignedVia.DESK and not getattr(taken_by, "is_clinician", False):
        raise DomainError(
            _("A specialist or the clinic's clinical lead takes the client's consent."),
            code="consent_taker_required",
        )
    if not signing:
        msg = _("Choose at least one consent to sign.")
        raise ValidationFailed(msg, fields={"consents": msg})
    kinds = [s.template.kind for s in signing]
    if len(set(kinds)) != len(kinds):
        raise ValidationFailed(_("Each consent is signed once."))
    if appointment is not None and appointment.client_id != client.pk:
        raise ValueError("the appointment is another client's")
    signed: list[Consent] = []
    with transaction.atomic():
        templates = {
            t.pk: t
            for t in ConsentTemplate.objects.select_for_update().filter(
                pk__in=[s.template.pk for s in signing]
            )
        }
        for item in signing:
            template = templates.get(item.template.pk)
            if template is None or not template.is_active:
                raise DomainError(
                    _("This consent is no longer asked for. Reload the page."),
                    code="consent_changed",
                )
            if template.version != item.version_seen:
                raise DomainError(
                    _(
                        "The consent text was changed while it was being read. Please read the "
                        "new version and sign again."
                    ),
                    code="consent_changed",
                )
            if template.kind == ConsentKind.TREATMENT and appointment is not None:
                if template.treatment_id != appointment.treatment_id:
                    raise ValueError("a treatment consent for another treatment")
            version = ConsentTemplateVersion.objects.get(
                template=template, version=template.version
            )
            text = document_text(version)
            facts = core.PlanFacts()
            if template.kind == ConsentKind.TREATMENT and appointment is not None:
                facts = plan_facts_for_appointment(appointment, extra=extra_plan)
            elif template.kind == ConsentKind.TREATMENT:
                facts = core.plan_facts(treatment=str(template.treatment_id))
            consent = Consent.objects.create(
                client=client,
                kind=template.kind,
                template=template,
                template_version=version,
                version=version.version,
                treatment_id=template.treatment_id,
                appointment=appointment,
                course=plan_for_appointment(appointment.pk) if appointment is not None else None,
                title=version.title,
                text=text,
                text_sha256=core.document_hash(text),
                plan=facts.as_dict() if template.kind == ConsentKind.TREATMENT else {},
                plan_fingerprint=core.plan_fingerprint(facts)
                if template.kind == ConsentKind.TREATMENT
                else "",
                method=method,
                signed_name=name,
                signature_png=png,
                signed_at=now,
                via=via,
                ip_address=ip_address or None,
                user_agent=(user_agent or "")[:MAX_USER_AGENT],
                device=_device(user_agent or ""),
                taken_by=taken_by if via == SignedVia.DESK else None,
            )
            audit_record(
                actor=taken_by if via == SignedVia.DESK else signed_by,
                action="consent.sign",
                obj=consent,
                at=now,
                name=consent.title,
                data={
                    "client": str(client.pk),
                    "kind": consent.kind,
                    "version": consent.version,
                    "sha256": consent.text_sha256,
                    "method": method,
                    "via": via,
                    "appointment": str(appointment.pk) if appointment is not None else None,
                },
            )
            signed.append(consent)
    return signed


def consent_withdraw(*, consent: Consent, by: Any, reason: str, now: datetime, via: str) -> Consent:
    """The client withdraws a consent (in the portal, or telling a clinician at the clinic).
    Kept as it was signed, with who recorded the withdrawal, when and why."""
    reason = (reason or "").strip()
    if not reason:
        msg = _("Say why the consent is withdrawn.")
        raise ValidationFailed(msg, fields={"reason": msg})
    with transaction.atomic():
        row = Consent.objects.select_for_update().get(pk=consent.pk)
        if row.withdrawn_at is not None:
            raise DomainError(_("This consent was already withdrawn."), code="already_withdrawn")
        row.withdrawn_at = now
        row.withdrawn_by = by if getattr(by, "pk", None) else None
        row.withdrawn_reason = reason[:2000]
        row.save(update_fields=["withdrawn_at", "withdrawn_by", "withdrawn_reason"])
        data: dict[str, Any] = {
            "client": str(row.client_id),
            "kind": row.kind,
            "via": via,
            "reason": reason,
        }
        # DOMAIN.md 6.6: marketing copies of photos go on withdrawal of their consent (unless
        # a newer marketing-photo consent of the client's is still in force).
        if row.kind == ConsentKind.PHOTOS_MARKETING and (
            consent_current(row.client, kind=ConsentKind.PHOTOS_MARKETING) is None
        ):
            data["marketing_photos_deleted"] = photos_marketing_erase_for_client(client=row.client)
        audit_record(
            actor=by,
            action="consent.withdraw",
            obj=row,
            at=now,
            name=row.title,
            data=data,
        )
    return row


def consent_view_record(*, consent: Consent, by: Any, now: datetime, via: str) -> None:
    """Every view or download of a signed consent is in the audit trail."""
    audit_record(
        actor=by,
        action="consent.view",
        obj=consent,
        at=now,
        name=consent.title,
        data={"client": str(consent.client_id), "via": via},
    )


def consents_reassign_client(*, source: Client, target: Client) -> int:
    """A merge of two records of one person: the signed consents move to the record kept."""
    return Consent.objects.filter(client=source).update(client=target)
