"""Reads for the public site: the staff-edited words (this app's own models) joined with the
treatments and clinic data from their apps' selectors."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet

from daisy.site.models import ClinicPhoto, FaqEntry, PageSlug, PriceOption, SitePage, TreatmentPage
from daisy.treatments.selectors import treatment_get, treatment_list_public


def site_page_get(slug: str) -> SitePage:
    """The page's words; an unsaved page with just its name if staff deleted it, so the site
    never breaks over missing copy."""
    page = SitePage.objects.filter(slug=slug).first()
    return page or SitePage(slug=slug, title=str(PageSlug(slug).label))


def faq_list() -> list[FaqEntry]:
    return list(FaqEntry.objects.filter(is_published=True))


def _pages() -> QuerySet[TreatmentPage]:
    return TreatmentPage.objects.filter(is_published=True).prefetch_related("price_options")


def treatment_page_get(slug: str) -> TreatmentPage | None:
    """The page alone: its price options are read when shown (the booking steps, which read
    the page for its areas, do not show them)."""
    return TreatmentPage.objects.filter(is_published=True, treatment_slug=slug).first()


@dataclass(frozen=True)
class TreatmentInfo:
    """A treatment as the site shows it: its row, its page, and the minutes the client spends
    in the clinic (the phases they are there for; clean-down buffers are the clinic's time)."""

    treatment: Any
    page: TreatmentPage | None
    minutes: int

    @property
    def slug(self) -> str:
        return str(self.treatment.slug)

    @property
    def prices(self) -> list[PriceOption]:
        """The price list by area and package; empty when staff have not written one."""
        return list(self.page.price_options.all()) if self.page else []

    @property
    def from_price(self) -> Decimal:
        """The lowest price of one session, which the site shows as "from £…"."""
        singles = [p.price for p in self.prices if not p.is_package]
        return min(singles) if singles else self.treatment.price

    @property
    def has_price_range(self) -> bool:
        return len({p.price for p in self.prices if not p.is_package}) > 1

    @property
    def is_free(self) -> bool:
        return not self.treatment.price


def _minutes(treatment: Any) -> int:
    return sum(p.duration_minutes for p in treatment.phases.all() if not p.is_buffer)


def treatment_info_list(*, bookable_only: bool = False) -> list[TreatmentInfo]:
    pages = {p.treatment_slug: p for p in _pages()}
    out = []
    for t in treatment_list_public():
        if bookable_only and not t.is_online_bookable:
            continue
        out.append(TreatmentInfo(t, pages.get(t.slug), _minutes(t)))
    return out


def treatment_info_get(slug: str) -> TreatmentInfo:
    """Raises NotFound for an unknown or withdrawn treatment."""
    treatment = treatment_get(slug=slug)
    return TreatmentInfo(treatment, treatment_page_get(slug), _minutes(treatment))


def clinic_photo_list() -> list[ClinicPhoto]:
    return list(ClinicPhoto.objects.filter(is_published=True))
