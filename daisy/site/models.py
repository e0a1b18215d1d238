"""The public site's words, kept in the database so the clinic's staff edit them in the admin
rather than in templates. A data migration seeds the clinic's own text (0002), so a clean install
shows complete pages."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from daisy.lib.images import PhotoField

TEXT_HELP = _(
    "Plain text. A blank line starts a new paragraph; lines starting with “- ” make a "
    "bulleted list; a line starting with “## ” is a heading."
)


class PageSlug(models.TextChoices):
    HOME = "home", _("Home")
    TREATMENTS = "treatments", _("Treatments")
    SPECIALISTS = "specialists", _("Specialists")
    LOCATIONS = "locations", _("Locations")
    PRICES = "prices", _("Prices")
    FAQ = "faq", _("Questions")
    CONTACT = "contact", _("Contact")
    BOOKING = "booking", _("Booking: cancellation policy")
    PRIVACY = "privacy", _("Privacy notice")
    TERMS = "terms", _("Terms of service")


class SitePage(models.Model):
    slug = models.SlugField(unique=True, choices=PageSlug.choices)
    title = models.CharField(max_length=160)
    lead = models.TextField(blank=True, help_text=_("The opening sentence or two."))
    body = models.TextField(blank=True, help_text=TEXT_HELP)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["slug"]
        verbose_name = _("site page")

    def __str__(self) -> str:
        return self.get_slug_display()


class TreatmentPage(models.Model):
    """What a client reads before booking a treatment. Linked by the treatment's slug, so the
    words can be written before the treatment is set up (and survive its re-creation)."""

    treatment_slug = models.SlugField(
        unique=True, help_text=_("The slug of the treatment this page describes.")
    )
    headline = models.CharField(max_length=200)
    intro = models.TextField(blank=True, help_text=TEXT_HELP)
    helps_with = models.TextField(_("what it helps with"), blank=True, help_text=TEXT_HELP)
    how_it_goes = models.TextField(_("how a session goes"), blank=True, help_text=TEXT_HELP)
    course = models.TextField(
        _("how many sessions, how far apart"), blank=True, help_text=TEXT_HELP
    )
    preparation = models.TextField(_("how to prepare"), blank=True, help_text=TEXT_HELP)
    aftercare = models.TextField(blank=True, help_text=TEXT_HELP)
    not_suitable = models.TextField(_("who should not have it"), blank=True, help_text=TEXT_HELP)
    what_to_bring = models.TextField(_("what to bring"), blank=True, help_text=TEXT_HELP)
    areas = models.TextField(
        _("areas to treat"),
        blank=True,
        help_text=_("One per line: the areas a client can choose when booking."),
    )
    is_published = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["treatment_slug"]
        verbose_name = _("treatment page")

    def __str__(self) -> str:
        return self.headline

    @property
    def area_choices(self) -> list[str]:
        return [line.strip() for line in self.areas.splitlines() if line.strip()]


class FaqEntry(models.Model):
    question = models.CharField(max_length=200)
    answer = models.TextField(help_text=TEXT_HELP)
    order = models.PositiveIntegerField(default=100)
    is_published = models.BooleanField(default=True)

    class Meta:
        ordering = ["order", "question"]
        verbose_name = _("FAQ entry")
        verbose_name_plural = _("FAQ entries")

    def __str__(self) -> str:
        return self.question


class PriceOption(models.Model):
    """One line of a treatment's price list: an area (or a group of areas) for one session, or
    a package of sessions paid together. A treatment with no lines shows its one price."""

    page = models.ForeignKey(TreatmentPage, on_delete=models.CASCADE, related_name="price_options")
    label = models.CharField(
        max_length=120, help_text=_("e.g. Full face, or Face and neck: course of 3.")
    )
    sessions = models.PositiveSmallIntegerField(
        default=1, help_text=_("1 for a single session; more for a package paid as one.")
    )
    price = models.DecimalField(max_digits=8, decimal_places=2)
    note = models.CharField(max_length=200, blank=True, help_text=_("A short line, optional."))
    order = models.PositiveIntegerField(default=100)

    class Meta:
        ordering = ["page", "order", "price"]
        verbose_name = _("price")

    def __str__(self) -> str:
        return f"{self.label}: £{self.price}"

    @property
    def is_package(self) -> bool:
        return self.sessions > 1

    @property
    def per_session(self) -> Decimal:
        return (self.price / self.sessions).quantize(Decimal("0.01"))


class ClinicPhoto(models.Model):
    """A photo of the clinic for the public site. The first published one leads the home page;
    all of them show on the clinic's page. With none, the site shows its own illustrations."""

    image = PhotoField(
        upload_to="public/clinic/",
        help_text=_(
            "A JPEG, PNG or WebP photo, up to 10 MB. It is re-saved for the web: location and "
            "camera details are removed. Landscape photos look best."
        ),
    )
    alt_text = models.CharField(
        _("description"),
        max_length=200,
        help_text=_(
            "What the photo shows, for people who cannot see it, e.g. “Our bright treatment "
            "room with a padded couch”."
        ),
    )
    caption = models.CharField(max_length=200, blank=True)
    order = models.PositiveIntegerField(default=100)
    is_published = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["order", "-updated_at"]
        verbose_name = _("clinic photo")

    def __str__(self) -> str:
        return self.alt_text
