"""The public site's pages. Each view reads through selectors and renders; the words come from
the staff-edited pages (daisy/site/models.py), the facts from the clinic and treatment apps."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from daisy.clinic.selectors import location_list_with_hours, specialist_list_public
from daisy.lib.errors import NotFound
from daisy.site.selectors import (
    faq_list,
    site_page_get,
    treatment_info_get,
    treatment_info_list,
)


def home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "site/home.html",
        {
            "page": site_page_get("home"),
            "treatments": treatment_info_list(),
            "locations": location_list_with_hours(),
        },
    )


def treatment_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "site/treatment_list.html",
        {"page": site_page_get("treatments"), "treatments": treatment_info_list()},
    )


def treatment_detail(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        info = treatment_info_get(slug)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    return render(
        request,
        "site/treatment_detail.html",
        {"info": info, "treatment": info.treatment, "tp": info.page},
    )


def specialists(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "site/specialists.html",
        {"page": site_page_get("specialists"), "specialists": specialist_list_public()},
    )


def locations(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "site/locations.html",
        {"page": site_page_get("locations"), "locations": location_list_with_hours()},
    )


def prices(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "site/prices.html",
        {"page": site_page_get("prices"), "treatments": treatment_info_list()},
    )


def faq(request: HttpRequest) -> HttpResponse:
    return render(request, "site/faq.html", {"page": site_page_get("faq"), "entries": faq_list()})


def contact(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "site/contact.html",
        {"page": site_page_get("contact"), "locations": location_list_with_hours()},
    )
