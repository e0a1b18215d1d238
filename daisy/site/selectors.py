"""Reads for the public site: the staff-edited words (this app's own models) joined with the
treatments and clinic data from their apps' selectors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from daisy.site.models import FaqEntry, PageSlug, SitePage, TreatmentPage
from daisy.treatments.selectors import treatment_get, treatment_list_public


def site_page_get(slug: str) -> SitePage:
    """The page's words; an unsaved page with just its name if staff deleted it, so the site
    never breaks over missing copy."""
    page = SitePage.objects.filter(slug=slug).first()
    return page or SitePage(slug=slug, title=str(PageSlug(slug).label))


def faq_list() -> list[FaqEntry]:
    return list(FaqEntry.objects.filter(is_published=True))


def treatment_page_get(slug: str) -> TreatmentPage | None:
    return TreatmentPage.objects.filter(treatment_slug=slug, is_published=True).first()


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
    def is_free(self) -> bool:
        return not self.treatment.price


def _minutes(treatment: Any) -> int:
    return sum(p.duration_minutes for p in treatment.phases.all() if not p.is_buffer)


def treatment_info_list(*, bookable_only: bool = False) -> list[TreatmentInfo]:
    pages = {p.treatment_slug: p for p in TreatmentPage.objects.filter(is_published=True)}
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
