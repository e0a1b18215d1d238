# ruff: noqa: E501 (the consent texts keep one paragraph to a line, as the clinic edits them)
"""The consent texts Daisy ships with (DOMAIN.md 6.4 and 6.6), in the clinic's own words. The
clinic edits them in the admin (Clinical records, Consent templates); each edit is a new
version, and a client who signed an older one is asked to sign again.

Plain text: blank lines separate paragraphs, a line starting with "- " is a list item."""

from __future__ import annotations

from typing import Any

MICRONEEDLING_SLUG = "microneedling"

# DOMAIN.md 6.4: procedure and device; expected course and that the aim may not be reached;
# common responses; material risks (infection, cold sores, darker patches - more likely in
# darker skin types -, track marks, reactions to products, bruising, numbing-cream reactions);
# alternatives including no treatment; pre-care, aftercare and follow-up; the right to withdraw.
MICRONEEDLING_TITLE = "Consent to micro-needling"
MICRONEEDLING_BODY = """\
What the treatment is
Micro-needling makes many tiny, controlled punctures in the skin with a motorised pen and a sterile, single-use needle cartridge. The skin's own repair response can improve scars, fine lines and texture. Your specialist has explained which areas will be treated, the needle depth for each, and whether the device is used within what its maker has tested for your concern, age and skin type.

What to expect
Most people need a course of several sessions, usually about four weeks apart. Results build over months, and I understand that the treatment may not give me the result I hope for.

For a day or two the skin is usually red and tight, like a moderate sunburn. Tingling, itching, mild swelling, tenderness, dryness and flaking for a few days are normal.

Risks I have been told about
- Infection. Signs are increasing pain, heat, pus or fever; I will contact the clinic at once if I notice them.
- Cold sores (herpes) coming back, in people who have had them before.
- Darker patches of skin (post-inflammatory hyperpigmentation), more likely in darker skin types, which may take months to fade.
- Track-like marks or, rarely, scarring.
- Allergic or granulomatous reactions to creams, serums or numbing products used on the skin.
- Bruising or pinpoint bleeding, especially after deeper treatment.
- Reactions to the numbing cream, which can rarely be serious.

Alternatives
I know there are other options, including laser treatments, chemical peels, subcision, other treatments my specialist can describe, and having no treatment at all.

Before and after each session
I will follow the preparation and aftercare advice I have been given: no sunbathing or tanning beforehand; nothing on the skin except the products the clinic gives me for the rest of the day; no make-up for 24 hours; no sweaty exercise, sauna or swimming for 72 hours; sun protection every day. I will come back for the follow-up the clinic arranges and tell the clinic about any change in my health before each session.

My answers and my right to change my mind
The health information I have given is true and complete to the best of my knowledge. I have had the chance to ask questions and I am satisfied with the answers. I understand that I can withdraw this consent at any time, before or during a session, without giving a reason, and that withdrawing it does not affect the care I receive.
"""

PHOTOS_RECORD_TITLE = "Consent to photos for my clinical record"
PHOTOS_RECORD_BODY = """\
The clinic takes photos of the treated areas before the first session, at each session and at follow-up visits, so that my specialist can plan the treatment, compare results and notice problems early.

- The photos are part of my clinical record. They are stored securely in the clinic's system, never on staff phones, and only the clinic's staff involved in my care can see them.
- Every time someone opens them, it is recorded.
- They are kept for as long as the clinic must keep clinical records, and not used for anything else.

This consent is optional: I can say no and still be treated. I can withdraw it at any time; photos already in my record stay there as part of it, but no new ones are taken.
"""

PHOTOS_MARKETING_TITLE = "Consent to using my photos for marketing and teaching"
PHOTOS_MARKETING_BODY = """\
I agree that the clinic may use before-and-after photos of my treatment on its website, in social media, in printed materials and in teaching other professionals.

- The clinic will crop or cover features where it can, but I understand that I may be recognisable.
- Photos used publicly may be copied by others, and the clinic cannot recall copies already shared.
- I will not be paid for this use.

This consent is entirely optional and separate from my treatment: saying no changes nothing about my care. I can withdraw it at any time; the clinic will then delete its marketing copies and stop any new use.
"""


def install(ConsentTemplate: Any, ConsentTemplateVersion: Any, Treatment: Any, now: Any) -> None:
    """Create the shipped templates that do not exist yet (a migration passes historical
    models; daisy.records.services.consent_templates_install the real ones). A template the
    clinic already has is left as it is."""
    rows: list[tuple[str, Any, str, str]] = [
        ("photos_record", None, PHOTOS_RECORD_TITLE, PHOTOS_RECORD_BODY),
        ("photos_marketing", None, PHOTOS_MARKETING_TITLE, PHOTOS_MARKETING_BODY),
    ]
    needling = Treatment.objects.filter(slug=MICRONEEDLING_SLUG).first()
    if needling is not None:
        rows.append(("treatment", needling, MICRONEEDLING_TITLE, MICRONEEDLING_BODY))
    for kind, treatment, title, body in rows:
        if ConsentTemplate.objects.filter(kind=kind, treatment=treatment).exists():
            continue
        template = ConsentTemplate.objects.create(
            kind=kind, treatment=treatment, title=title, body=body, version=1, updated_at=now
        )
        ConsentTemplateVersion.objects.create(
            template=template, version=1, title=title, body=body, created_at=now
        )
