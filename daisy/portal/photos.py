"""The client's own clinical photos and progress in the portal (issue 14, item 7), where the
clinic shows them (Location.portal_shows_photos): session 1 against the latest session per view,
side by side and with a slider. Another client's photo, or one the clinic does not show, is a
404 like an id that does not exist; every viewing is audited as the desk's are."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from daisy.clients.services import client_view_record
from daisy.lib.errors import NotFound
from daisy.lib.private_files import private_file_response
from daisy.portal.views import client_required
from daisy.records.photos import (
    photo_comparison,
    photo_get,
    photo_open,
    photo_sessions,
    photos_client_may_view,
    photos_for_portal,
)


@client_required
@require_GET
def photo_list(request: HttpRequest) -> HttpResponse:
    client = request.client  # type: ignore[attr-defined]
    sessions = photo_sessions(client, photos=photos_for_portal(client))
    client_view_record(client=client, by=request.user, now=timezone.now(), via="portal:photos")
    return render(
        request,
        "portal/photos.html",
        {
            "sessions": sessions,
            "rows": photo_comparison(sessions),
            "photo_url": "portal:photo-file",
            "thumb_url": "portal:photo-thumb",
        },
    )


def _file(request: HttpRequest, pk: Any, *, thumb: bool) -> HttpResponse:
    try:
        photo = photo_get(pk)
    except NotFound:
        raise Http404 from None
    if not photos_client_may_view(photo, request.client):  # type: ignore[attr-defined]
        raise Http404
    try:
        handle = photo_open(
            photo=photo, viewer=request.user, thumb=thumb, via="portal", now=timezone.now()
        )
    except NotFound:
        raise Http404 from None
    return private_file_response(handle, content_type="image/jpeg", filename="photo.jpg")


@client_required
@require_GET
def photo_file(request: HttpRequest, pk: Any) -> HttpResponse:
    return _file(request, pk, thumb=False)


@client_required
@require_GET
def photo_thumb(request: HttpRequest, pk: Any) -> HttpResponse:
    return _file(request, pk, thumb=True)
