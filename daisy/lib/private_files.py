"""How a private file (a clinical photo) leaves the server: never stored by a browser or a proxy,
shown inline, readable only by this site's own pages. The caller has checked who is asking and
recorded the viewing."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse


def private_file_response(handle: Any, *, content_type: str, filename: str) -> FileResponse:
    response = FileResponse(handle, content_type=content_type)
    response["Cache-Control"] = "no-store, private, max-age=0"
    response["Pragma"] = "no-cache"
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    response["X-Content-Type-Options"] = "nosniff"
    return response
