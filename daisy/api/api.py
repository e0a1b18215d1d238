"""The REST API, `/api/v1/` (issue 3): one NinjaAPI, its routers, its error handlers, and the
OpenAPI document at `/api/v1/openapi.json` (browsable at `/api/v1/docs`)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from ninja import NinjaAPI, Swagger

from daisy.api import errors
from daisy.api.auth import TokenAuth
from daisy.api.endpoints import (
    appointments,
    catalogue,
    charts,
    clients,
    consents,
    consultations,
    courses,
    desk,
    erasure,
    health,
    records,
    waitlist,
)

DESCRIPTION = """
Daisy's public API: treatments, availability, clients and appointments, through the same
services as the clinic's own pages.

**Auth.** `Authorization: Bearer <token>`; tokens come from `daisy token create USERNAME`
and act with the user's role. `health`, `treatments`, `locations`, `specialists` and
`availability` are public (no token needed: they are what the clinic's website shows).
Reception and manager tokens may do everything; specialist tokens read clients and
appointments and manage appointments, but do not create or change clients; a client token
sees, changes and books only for its own client record (other clients' ids answer 404).

**Errors** are always JSON: `{"error": {"code", "message", "fields"}}`; `fields` maps a field,
parameter or header to its message. 409 `slot_unavailable` adds `alternatives`; 500 adds
`request_id`. 429 comes with `Retry-After` (seconds).

**Times** are RFC 3339 with an offset. Slot and appointment times are given in the
location's own offset (its IANA zone is alongside); other timestamps in UTC. Times you send
must carry an offset. Date parameters are local calendar dates, both ends inclusive.

**Ids** are UUIDs; treatments are named by slug. Lists are paged with `limit` (at most 100)
and `offset`, and say the total `count`.

**Limits.** Writes and availability are rate limited per token and per address; request
bodies are capped (413); availability windows at 366 days.
"""


class DaisyAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation: Any) -> str:
        return str(operation.view_func.__name__)

    def get_openapi_schema(self, **kwargs: Any) -> Any:
        schema = super().get_openapi_schema(**kwargs)
        for methods in schema["paths"].values():
            for operation in methods.values():
                for code, resp in operation.get("responses", {}).items():
                    status = int(code)
                    if status in errors.ERROR_DESCRIPTIONS:
                        resp["description"] = errors.ERROR_DESCRIPTIONS[status]
                    if status == 429:
                        resp["headers"] = {
                            "Retry-After": {
                                "description": "Seconds to wait before trying again.",
                                "schema": {"type": "integer", "minimum": 1},
                            }
                        }
                    elif status == 401:
                        resp["headers"] = {
                            "WWW-Authenticate": {
                                "description": '`Bearer realm="daisy"`',
                                "schema": {"type": "string"},
                            }
                        }
                    elif status == 500:
                        resp["headers"] = {
                            "X-Request-ID": {
                                "description": "The id the error was logged with.",
                                "schema": {"type": "string"},
                            }
                        }
        create = schema["paths"].get("/api/v1/appointments", {}).get("post")
        if create is not None:
            create["responses"][201]["headers"] = {
                "Idempotent-Replayed": {
                    "description": "`true` when this is the stored result of an earlier "
                    "request with the same Idempotency-Key.",
                    "schema": {"type": "string", "enum": ["true"]},
                }
            }
        return schema


api = DaisyAPI(
    title="Daisy API",
    version="1",
    description=DESCRIPTION.strip(),
    urls_namespace="api-v1",
    auth=TokenAuth(),
    # validatorUrl: Swagger UI would otherwise send the spec to validator.swagger.io.
    docs=Swagger(settings={"validatorUrl": None, "persistAuthorization": True}),
    openapi_extra={"info": {"x-daisy-version": settings.DAISY_VERSION}},
)
errors.install(api)
api.add_router("", health.router)
api.add_router("", catalogue.router)
api.add_router("", clients.router)
api.add_router("", appointments.router)
api.add_router("", courses.router)
api.add_router("", waitlist.router)
api.add_router("", desk.router)
api.add_router("", consents.router)
api.add_router("", records.router)
api.add_router("", consultations.router)
api.add_router("", charts.router)
api.add_router("", erasure.router)
