"""The bench server's URLs (bench/api_wsgi.py): Daisy's own, plus one yardstick.

/bench/one-query/ is the cheapest honest Django page: the whole middleware stack, one SQL query
(a treatment's name and price by slug) and a small JSON answer. The availability targets are
read against it ("at least half of a one-query Django view's requests/s"), so they hold on any
machine."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.urls import include, path

from daisy.treatments.models import Treatment


def one_query(request: HttpRequest) -> JsonResponse:
    row = Treatment.objects.filter(slug="microneedling").values("name", "price").first()
    return JsonResponse({"name": row["name"], "price": f"{row['price']:.2f}"} if row else {})


urlpatterns = [
    path("bench/one-query/", one_query),
    path("", include("daisy.urls")),
]
