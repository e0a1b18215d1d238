"""The public site's pages. Each view reads through selectors and renders; the words come from
the staff-edited pages (daisy/site/models.py), the facts from the clinic and treatment apps."""

from __future__ import annotations

import re

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils._os import safe_join
from django.views.decorators.http import require_safe

from daisy.clinic.selectors import (
    location_list_with_hours,
    specialist_get_public,
    specialist_list_public,
)
from daisy.lib.errors import NotFound
from daisy.lib.images import PUBLIC_PREFIX
from daisy.site.selectors import (
    clinic_photo_list,
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
            "photo": next(iter(clinic_photo_list()), None),
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
        {
            "info": info,
            "treatment": info.treatment,
            "tp": info.page,
            "meta_title": info.treatment.name,
            "meta_description": info.treatment.summary,
        },
    )


def specialists(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "site/specialists.html",
        {"page": site_page_get("specialists"), "specialists": specialist_list_public()},
    )


def specialist_detail(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        specialist = specialist_get_public(slug)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    return render(
        request,
        "site/specialist_detail.html",
        {
            "specialist": specialist,
            "meta_title": specialist.name,
            "meta_description": specialist.bio_first_paragraph or specialist.title,
        },
    )


def locations(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "site/locations.html",
        {
            "page": site_page_get("locations"),
            "locations": location_list_with_hours(),
            "photos": clinic_photo_list(),
        },
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


def privacy(request: HttpRequest) -> HttpResponse:
    return render(request, "site/notice.html", {"page": site_page_get("privacy")})


def terms(request: HttpRequest) -> HttpResponse:
    return render(request, "site/notice.html", {"page": site_page_get("terms")})


# What photo_file serves: a content-hash name (daisy/lib/images.py), perhaps with the suffix
# the storage adds when two uploads are identical. Anything else, including any path outside
# public/, is a 404.
_PUBLIC_PHOTO = re.compile(r"(clinic|team)/[0-9a-f]{32}(_[A-Za-z0-9]{7})?\.jpg")


@require_safe
def photo_file(request: HttpRequest, path: str) -> FileResponse:
    """A photo staff uploaded for the public site. Its name is a hash of its contents, so a
    browser (or a cache in front of us) may keep it for a year; a new photo gets a new name."""
    if not _PUBLIC_PHOTO.fullmatch(path):
        raise Http404("No such photo.")
    try:
        full = safe_join(str(settings.MEDIA_ROOT), PUBLIC_PREFIX + path)
        handle = open(full, "rb")  # noqa: SIM115 - FileResponse closes it
    except (OSError, ValueError) as exc:
        raise Http404("No such photo.") from exc
    response = FileResponse(handle, content_type="image/jpeg")
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    return response
