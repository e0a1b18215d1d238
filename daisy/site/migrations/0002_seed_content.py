"""The clinic's own words for the public site, so a clean install has complete pages. Facts come
from the clinic's article and DOMAIN.md (section numbers in brackets are for the editor, not the
reader); the wording is ours. Staff edit all of it in the admin afterwards."""

from django.db import migrations

PAGES = {
    "home": (
        "Skin treatments planned as a course, not a one-off",
        "Micro-needling and skin care from experienced specialists. We explain what to expect, "
        "plan your sessions around the dates that matter to you, and look after your skin "
        "between visits.",
        "Most skin concerns that micro-needling helps with improve over a course of a few "
        "sessions about a month apart. We start with a short consultation, check that the "
        "treatment suits you, and agree a plan before any needle touches your skin.\n\n"
        "- Booking online takes about a minute, from your phone or computer.\n"
        "- Your chosen time is held for you while you fill in your details.\n"
        "- Clear preparation and aftercare advice, by email, when you need it.",
    ),
    "treatments": (
        "Treatments",
        "Every treatment starts with a conversation about your skin and what you would like to "
        "change. Prices are per session.",
        "",
    ),
    "specialists": (
        "Our specialists",
        "The people who will look after your skin.",
        "Every specialist is trained in the treatments they offer and works to the clinic's "
        "written protocols for screening, hygiene and aftercare.",
    ),
    "locations": (
        "Where to find us",
        "Opening hours are shown in each clinic's local time.",
        "",
    ),
    "prices": (
        "Prices",
        "Prices are per session and include your aftercare advice and follow-up check-ins.",
        "A skin consultation is free. If a course is right for you, we will agree the number "
        "of sessions with you first; you pay per session and can stop at any time.",
    ),
    "faq": (
        "Questions we are often asked",
        "If your question is not here, call or email us: we are happy to help.",
        "",
    ),
    "contact": (
        "Contact us",
        "Call, email or visit: we reply to every message within one working day.",
        "For anything urgent after a treatment (increasing redness, warmth, swelling or pain, "
        "pus, a fever, or cold-sore blisters), call the clinic the same day. If you feel "
        "unwell, light-headed or short of breath, call the emergency services.",
    ),
    "booking": (
        "Cancellation policy",
        "",
        "You can move or cancel online up to the time shown for your treatment. Later than "
        "that, please call us: we will always try to help, and a late cancellation may be "
        "charged so that we can offer the time to someone else.",
    ),
}

MICRONEEDLING = {
    "treatment_slug": "microneedling",
    "headline": "Micro-needling",
    "intro": (
        "Micro-needling uses a small, pen-like device with very fine needles to make thousands "
        "of tiny, controlled channels in the skin. Your skin repairs them by making new "
        "collagen, the protein that keeps skin firm and smooth, and that repair is what "
        "softens scars and lines over the following months."
    ),
    "helps_with": (
        "- Acne scars: rolling and box-shaped scars respond best; narrow, deep “ice-pick” "
        "scars change very little.\n"
        "- Surgical and injury scars, including scars from about 6 weeks after surgery.\n"
        "- Stretch marks, especially newer red or purple ones.\n"
        "- Sun damage, fine lines and wrinkles on the face and neck.\n"
        "- Uneven, rough texture.\n\n"
        "For loose or thin skin the change is usually modest, and we will tell you honestly "
        "what to expect at your consultation."
    ),
    "how_it_goes": (
        "Plan for about 70 minutes in the clinic.\n\n"
        "- A short check-in with your specialist and photographs of the area (10 minutes).\n"
        "- A numbing cream is applied and left to work (about 30 minutes).\n"
        "- Needling itself takes about 20 minutes for a face. Most people feel light "
        "scratching or vibration rather than pain.\n"
        "- A soothing gel and a few minutes to settle before you leave (10 minutes).\n\n"
        "Straight afterwards your skin will look and feel like a moderate sunburn: pink, warm "
        "and tight. This usually settles within one to three days."
    ),
    "course": (
        "Most people need 3 to 5 sessions, about 4 weeks apart; some need only one or two, and "
        "a few need up to six. We do not book sessions closer than two weeks apart, and never "
        "while your skin is still healing from the last one.\n\n"
        "Results build slowly: collagen keeps remodelling for 6 to 12 months after your last "
        "session. We take review photos about one month and six months after your course, and "
        "for sun-damaged skin a single maintenance session every 6 to 12 months keeps the "
        "improvement."
    ),
    "preparation": (
        "- From 2 weeks before: no sunbeds, tanning or sunburn on the area.\n"
        "- From 1 week before: no waxing, hair-removal creams or threading on the area.\n"
        "- From 5 days before: stop retinoid creams (retinol, tretinoin, adapalene). Pause "
        "aspirin, ibuprofen, fish oil or vitamin E that you take by choice. Never stop a "
        "medicine your doctor prescribed: tell us about it instead.\n"
        "- From 3 days before: stop acid exfoliants (AHA, BHA), benzoyl peroxide and scrubs.\n"
        "- From 2 days before: no self-tan on the area.\n"
        "- The day before: keep out of the sun. If your skin is sunburnt or irritated, call us "
        "to move your appointment.\n"
        "- If you get cold sores, tell us when you book: your doctor may suggest an antiviral "
        "to start a day or two before.\n"
        "- On the day: come with clean skin and no make-up on the area."
    ),
    "aftercare": (
        "- The rest of the day: put nothing on your skin except the gel we give you: no "
        "make-up, no sunscreen, no other products. Keep out of the sun and rinse only with "
        "lukewarm water.\n"
        "- From the next day: wash with a gentle, non-foaming cleanser, and use a mineral "
        "sunscreen (SPF 30 or higher). Make-up is fine again, applied with clean fingers.\n"
        "- For 3 days: no exercise that makes you sweat, no sauna, steam room, hot tub or "
        "swimming.\n"
        "- For 6 days: no retinoids, acids, vitamin C serums, benzoyl peroxide, alcohol "
        "toners, perfumed products, scrubs or face brushes. Dryness or flaking on days 2 to 4 "
        "is normal: let it come away by itself.\n"
        "- After a week: go back to your usual routine once any flaking has settled.\n"
        "- For 2 weeks: wear SPF 30 or higher every day and limit time in the sun.\n\n"
        "Call us the same day if you notice increasing redness, warmth, swelling or pain, any "
        "pus, a fever, or cold-sore blisters."
    ),
    "not_suitable": (
        "We cannot treat you at this time if:\n\n"
        "- you are pregnant or breastfeeding;\n"
        "- you have an infection, cold sore, open wound or irritated skin in the area;\n"
        "- you have inflamed (red, swollen) acne in the area;\n"
        "- you are taking isotretinoin (Roaccutane), or stopped less than 6 months ago;\n"
        "- you have a bleeding disorder;\n"
        "- eczema, psoriasis, rosacea or dermatitis is flaring in the area;\n"
        "- you have skin cancer, or a mole or mark that is changing, in the area;\n"
        "- you are allergic to metals such as stainless steel, or to numbing creams.\n\n"
        "Some conditions need a specialist to review them first: blood-thinning medicines, a "
        "tendency to raised (keloid) scars, diabetes, conditions or medicines that affect your "
        "immune system, and recent radiotherapy. A free consultation is the right first step."
    ),
    "what_to_bring": (
        "- A list of the medicines and skin products you use.\n"
        "- Clean skin with no make-up on the area.\n"
        "- A hair tie or band if you have long hair.\n\n"
        "The numbing time is part of your appointment, so arrive about 10 minutes before the "
        "start time to settle in."
    ),
    "areas": "Full face\nForehead\nCheeks\nAround the mouth\nNeck\nDécolletage\n"
    "Stretch marks: abdomen\nStretch marks: hips and thighs\nA scar on the body",
}

OTHER_TREATMENTS = [
    {
        "treatment_slug": "consultation",
        "headline": "Free skin consultation",
        "intro": (
            "Thirty minutes with a specialist to talk about your skin, what you would like to "
            "change and whether a treatment suits you. If it does, we plan a course with you; "
            "if not, we will say so and suggest what might help."
        ),
        "how_it_goes": (
            "We look at your skin, ask about your health and medicines, and explain what a "
            "course would involve, what it costs and what results to expect. There is no "
            "obligation to book."
        ),
        "what_to_bring": (
            "- A list of the medicines and skin products you use.\n"
            "- Any questions you would like to ask."
        ),
        "areas": "Face\nNeck\nBody\nNot sure yet",
    },
    {
        "treatment_slug": "chemical-peel",
        "headline": "Chemical peel",
        "intro": (
            "A professional peel chosen for your skin, to refresh dull or uneven skin and "
            "soften pigmentation and fine lines."
        ),
        "how_it_goes": (
            "Your specialist checks and cleanses your skin, applies the peel for a timed "
            "period, then neutralises and soothes it. Expect some tingling and, for a few days "
            "afterwards, light flaking."
        ),
        "preparation": (
            "- Stop retinoids and acid products 5 days before.\n"
            "- No sunbeds or sunburn in the 2 weeks before."
        ),
        "aftercare": (
            "- Use a gentle cleanser and SPF 30 or higher every day for 2 weeks.\n"
            "- Let flaking skin come away by itself."
        ),
        "not_suitable": (
            "We cannot treat you if you are pregnant or breastfeeding, have broken or "
            "irritated skin in the area, or are taking isotretinoin (Roaccutane)."
        ),
        "what_to_bring": "- A list of the medicines and skin products you use.",
        "areas": "Face\nNeck\nDécolletage\nHands",
    },
    {
        "treatment_slug": "laser-hair-removal",
        "headline": "Laser hair removal",
        "intro": (
            "Long-lasting hair reduction with a medical diode laser, in a course of sessions "
            "timed to the hair growth cycle."
        ),
        "how_it_goes": (
            "A small patch check first, then the laser passes over the area with a cooling "
            "tip. Most people describe a warm snap on the skin."
        ),
        "preparation": (
            "- Shave the area the day before; do not wax or pluck for 4 weeks before.\n"
            "- No sunbeds, tanning or self-tan in the 2 weeks before."
        ),
        "aftercare": "- Avoid sun, hot baths and exercise for 24 hours; use SPF 30 or higher.",
        "not_suitable": (
            "We cannot treat you if you are pregnant, have tanned or sunburnt skin in the "
            "area, or have broken or irritated skin there."
        ),
        "what_to_bring": "- Loose, comfortable clothing over the area.",
        "areas": "Upper lip\nChin\nUnderarms\nBikini line\nLegs\nArms\nBack",
    },
    {
        "treatment_slug": "led-therapy",
        "headline": "LED light therapy",
        "intro": (
            "A calming, needle-free session under a medical LED panel to support healing and "
            "calm redness, often added between micro-needling sessions."
        ),
        "how_it_goes": (
            "You relax under the panel with eye protection for about 20 minutes. Nothing "
            "touches your skin, and you can go straight back to your day."
        ),
        "not_suitable": (
            "Tell us if you have epilepsy or take medicines that make your skin sensitive to "
            "light."
        ),
        "areas": "Face\nNeck\nDécolletage",
    },
]

FAQ = [
    (
        "Does micro-needling hurt?",
        "We apply a numbing cream for about 30 minutes first. Most people feel light scratching "
        "or vibration rather than pain, and the needling takes about 20 minutes for a face.",
    ),
    (
        "How many sessions will I need?",
        "Most people need 3 to 5 sessions about 4 weeks apart. We agree the number with you at "
        "your first visit, and review your progress at every session.",
    ),
    (
        "How long until my skin looks normal again?",
        "Redness usually fades within one to three days. Dryness or light flaking on days 2 to "
        "4 is normal. Any minor bruising settles within 7 to 10 days.",
    ),
    (
        "When will I see results?",
        "Skin often looks fresher within a couple of weeks, but the real change builds over "
        "months as new collagen forms: it continues for 6 to 12 months after your last session.",
    ),
    (
        "Can I have it if I am pregnant or breastfeeding?",
        "No. There is no safety information for this treatment during pregnancy or "
        "breastfeeding, so we wait until afterwards. A consultation is welcome at any time.",
    ),
    (
        "Can I wear make-up afterwards?",
        "Not on the day: only the gel we give you. From the next day make-up and a mineral "
        "sunscreen are fine, applied with clean fingers.",
    ),
    (
        "How do I move or cancel my appointment?",
        "Sign in to your account and choose the appointment. You can move or cancel online up "
        "to the time shown for your treatment; after that, please call us.",
    ),
    (
        "Is my information kept private?",
        "Yes. Your health answers are seen only by the clinic team who treat you, and you can "
        "download everything we hold about you from your account at any time.",
    ),
]


def seed(apps, schema_editor):
    SitePage = apps.get_model("site", "SitePage")
    TreatmentPage = apps.get_model("site", "TreatmentPage")
    FaqEntry = apps.get_model("site", "FaqEntry")
    for slug, (title, lead, body) in PAGES.items():
        SitePage.objects.get_or_create(
            slug=slug, defaults={"title": title, "lead": lead, "body": body}
        )
    for values in [MICRONEEDLING, *OTHER_TREATMENTS]:
        values = dict(values)
        slug = values.pop("treatment_slug")
        TreatmentPage.objects.get_or_create(treatment_slug=slug, defaults=values)
    if not FaqEntry.objects.exists():
        FaqEntry.objects.bulk_create(
            FaqEntry(question=q, answer=a, order=(i + 1) * 10) for i, (q, a) in enumerate(FAQ)
        )


class Migration(migrations.Migration):
    dependencies = [("site", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
