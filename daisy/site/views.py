from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from daisy.clinic.selectors import location_list_with_hours
from daisy.treatments.selectors import treatment_list_public


def home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "site/home.html",
        {"treatments": treatment_list_public(), "locations": location_list_with_hours()},
    )
