"""The privacy notice and terms a health service owes its clients, and each treatment's prices by
area and by package. Our own words, written for the clinic's staff to edit in the admin; the
facts about care come from the clinic's article and treatment pages (0002)."""

from decimal import Decimal

from django.db import migrations

PRIVACY = (
    "Privacy notice",
    "How we look after the personal and health information you share with us: what we "
    "collect, why, who sees it, how long we keep it and what you can ask of us.",
    """## Who we are
The clinic named at the foot of every page is responsible for the information on this site and in your client record (the "data controller"). We decide how it is used and we keep it safe. Questions about your information reach the person at the clinic who looks after data protection: see "Questions and complaints" below.

## What we collect
- Your contact details: name, email address and phone number.
- Your date of birth, because some treatments have a minimum age and skin changes with age.
- Your bookings: treatments, times, clinic and specialist, and what you tell us when you book, such as the areas you would like treated.
- Health information: your answers to our health questions, what you tell us at a consultation (medicines, allergies, skin conditions, pregnancy), your treatment notes, and the check-ins you send us after a session.
- Photographs of the treated area, taken to plan your treatment and to see how your skin responds. They are part of your clinical record.
- Dates you tell us about, such as a holiday or a wedding, so that we can plan sessions around them.
- What the site needs to work safely: a cookie that keeps you signed in, a cookie that protects our forms, and a record of failed sign-in attempts. We use no advertising or tracking cookies.

## Why we use it, and the law that allows it
Health information is a "special category" of personal data under UK data protection law, and we use it only to give you safe care.
- To book and give you your treatment, and to send the messages that go with it (confirmations, preparation and aftercare advice, check-ins): this is needed for our agreement with you (UK GDPR Article 6(1)(b)).
- To decide whether a treatment is safe for you and to keep a clinical record: this is health care given by, or under the responsibility of, professionals bound by a duty of confidentiality (Article 9(2)(h) and the Data Protection Act 2018).
- To keep the records the law asks of us, and to answer a complaint or a claim: a legal obligation and our legitimate interest in showing the care we gave (Articles 6(1)(c), 6(1)(f) and 9(2)(f)).
- To send you news and offers: only if you ask for them, and you can stop them at any time (your consent, Article 6(1)(a)).

We never use your photographs in marketing, on social media or as examples of our work unless you have given separate, written consent for exactly that use.

## Who sees it
Your specialist, and the clinic staff who need it to look after you. We never sell your information or share it for anyone else's marketing.

A few companies handle information for us, under contract and only on our instructions: the company that hosts this system, and the services that deliver our emails and text messages. We share health information with your GP or another clinician only if you agree, if the law requires it, or in an emergency to protect you.

## How long we keep it
- Your clinical record (health answers, consultation and treatment notes, check-ins and photographs): 8 years after your last treatment, as UK guidance on health records advises for adults. Then we delete it securely.
- Bookings and payments without health details: 6 years after your last appointment, for our accounts.
- Your choice to receive news and offers: until you tell us to stop.

## Your rights
You can ask us:
- for a copy of the information we hold about you (when you are signed in, "My data" in your account lets you download much of it straight away);
- to correct anything that is wrong or incomplete;
- to delete your information or to limit how we use it: we may have to keep your clinical record for the time above, and if so we will tell you why;
- to stop using your information where we rely on our legitimate interests;
- to give you your information in a common format, to keep or to pass to another provider.

We answer within one month and there is no charge. If you gave consent (for example to news and offers, or to using a photograph), you can withdraw it at any time.

## Keeping it safe
Staff sign in with their own accounts and see only what their role needs. Every time a member of staff opens a client's health record, it is recorded. Photos uploaded to the site are checked and saved again without the hidden location and camera details a phone adds.

## Questions and complaints
Contact us using the details on our Contact page and mark your message "Data protection". If you are not happy with our answer, you can complain to the Information Commissioner's Office (ICO), the UK's data protection regulator: ico.org.uk, or 0303 123 1113.

## Changes to this notice
We update this notice when the way we work changes; the date it was last changed is shown above.""",
)

TERMS = (
    "Terms of service",
    "The agreement between you and the clinic when you book a consultation or a treatment. "
    "Please read it together with our privacy notice.",
    """## Who can book
You must be an adult to book, and some treatments have a higher minimum age: the booking pages tell you if a treatment is not available to you. You book for yourself; please do not book for someone else.

## Your health comes first
Before a treatment we ask about your health, medicines and skin. Please answer fully, and tell us about any change before each session: some conditions mean a treatment must wait, or is not safe for you. On the day your specialist may decide not to treat you, or to treat a smaller area, if going ahead would not be safe. You pay nothing for treatment you did not have.

## Results
Every skin is different. Micro-needling works by prompting your skin to make new collagen, so results build over weeks and months and usually need a course of sessions about a month apart. We will tell you honestly what to expect, but we cannot promise a particular result.

## Prices and payment
Our prices are on the Prices page and are shown again when you book. You pay at the clinic at each visit, unless you buy a package. A package covers the number of sessions and the area named in it, and can be used for 12 months from its first session. If you stop a package early, we refund the sessions you have not had, less the difference between the package price and the single-session price for the sessions you did have.

## Moving and cancelling
You can move or cancel online in your account, or by calling us, up to the time shown for your treatment (for most treatments, 48 hours before). Later than that, or if you do not come, we may charge up to the price of the session, because we can rarely offer the time to someone else at short notice. Tell us if something unavoidable happened: we will always listen.

If we have to move your appointment, we will tell you as early as we can and offer you another time or a full refund of anything you have paid.

## Preparation and aftercare
Following the preparation and aftercare advice we send you is part of a safe, good result. Contact us the same day if you notice increasing redness, warmth, swelling or pain, any pus, a fever or cold-sore blisters. In an emergency call 999.

## Photographs
We photograph the treated area for your clinical record. Our privacy notice explains how we use and keep these photographs.

## Complaints
If you are unhappy with any part of your care, please tell us: speak to your specialist, or contact the clinic and ask for the lead specialist. We acknowledge a complaint within 3 working days and aim to answer it fully within 20 working days.

## Our responsibility to you
We give our services with reasonable care and skill. Nothing in these terms limits your rights as a consumer, or our responsibility for death or personal injury caused by our negligence.

## The law that applies
These terms are governed by the law of England and Wales.""",
)

# (label, sessions, price, note), per treatment page.
PRICES = {
    "microneedling": [
        ("Full face", 1, "240.00", ""),
        ("Face and neck", 1, "300.00", ""),
        ("One face zone: forehead, cheeks or around the mouth", 1, "150.00", ""),
        ("Neck", 1, "170.00", ""),
        ("Décolletage", 1, "180.00", ""),
        ("Stretch marks: one body area", 1, "260.00", "For example the abdomen, or both hips."),
        ("A scar on the body, up to 10 cm", 1, "130.00", ""),
        ("Full face: course of 3", 3, "650.00", "£70 less than three single sessions."),
        ("Full face: course of 5", 5, "1080.00", "£120 less than five single sessions."),
        ("Stretch marks: course of 3", 3, "700.00", "£80 less than three single sessions."),
    ],
    "consultation": [
        ("Skin consultation with a specialist", 1, "0.00", "No obligation to book."),
    ],
    "chemical-peel": [
        ("Face", 1, "120.00", ""),
        ("Face and neck", 1, "150.00", ""),
        ("Décolletage", 1, "90.00", ""),
        ("Hands", 1, "70.00", ""),
        ("Face: course of 3", 3, "320.00", "£40 less than three single sessions."),
    ],
    "laser-hair-removal": [
        ("Upper lip or chin", 1, "55.00", ""),
        ("Underarms", 1, "75.00", ""),
        ("Bikini line", 1, "95.00", ""),
        ("Arms", 1, "150.00", ""),
        ("Half legs", 1, "160.00", ""),
        ("Back", 1, "220.00", ""),
        ("Full legs", 1, "260.00", ""),
        ("Underarms: course of 6", 6, "380.00", "£70 less than six single sessions."),
    ],
    "led-therapy": [
        ("Face", 1, "55.00", ""),
        ("Face, neck and décolletage", 1, "70.00", ""),
        ("Face: course of 6", 6, "270.00", "£60 less than six single sessions."),
    ],
}


def seed(apps, schema_editor):
    SitePage = apps.get_model("site", "SitePage")
    TreatmentPage = apps.get_model("site", "TreatmentPage")
    PriceOption = apps.get_model("site", "PriceOption")
    for slug, (title, lead, body) in (("privacy", PRIVACY), ("terms", TERMS)):
        SitePage.objects.get_or_create(
            slug=slug, defaults={"title": title, "lead": lead, "body": body}
        )
    for slug, rows in PRICES.items():
        page = TreatmentPage.objects.filter(treatment_slug=slug).first()
        if page is None or PriceOption.objects.filter(page=page).exists():
            continue
        PriceOption.objects.bulk_create(
            PriceOption(
                page=page,
                label=label,
                sessions=sessions,
                price=Decimal(price),
                note=note,
                order=(i + 1) * 10,
            )
            for i, (label, sessions, price, note) in enumerate(rows)
        )


class Migration(migrations.Migration):
    dependencies = [("site", "0003_prices_photos_privacy")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
