"""Who is calling: `Authorization: Bearer <token>` -> an Actor with the token user's role.

Role checks that need no data happen here, during authentication, so a forbidden request is
refused before its body is even read. Ownership checks (a client's own records) happen in the
endpoints, which fetch through scoped helpers that 404 (DESIGN.md 6)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja.security import HttpBearer

from daisy.accounts.tokens import api_token_authenticate
from daisy.api.errors import ApiError
from daisy.clients.selectors import client_for_user

CLIENT = "client"
RECEPTION = "reception"
SPECIALIST = "specialist"
MANAGER = "manager"
STAFF = frozenset({RECEPTION, SPECIALIST, MANAGER})
FRONT_DESK = frozenset({RECEPTION, MANAGER})
EVERYONE = frozenset({CLIENT, *STAFF})


@dataclass(frozen=True)
class Actor:
    user: Any = None  # None: anonymous (public endpoints only)
    token: Any = None
    client: Any = None  # a client login's own Client record, when it has one

    @property
    def role(self) -> str:
        return self.user.role if self.user is not None else "anonymous"

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF

    @property
    def is_client(self) -> bool:
        return self.role == CLIENT

    def owns_client(self, client_id: Any) -> bool:
        return self.client is not None and self.client.pk == client_id


ANONYMOUS = Actor()


class TokenAuth(HttpBearer):
    """Bearer token auth. `optional`: no Authorization header means anonymous (a bad token is
    still refused). `roles`: the roles that may call the operation at all."""

    openapi_bearerFormat = "dsy_<prefix>_<secret>"
    openapi_description = (
        "An API token from `daisy token create USERNAME`. It acts with the user's role: "
        "reception and manager may do everything; specialists read clients and appointments "
        "and manage appointments; a client token sees and books only for its own client."
    )

    def __init__(self, *, optional: bool = False, roles: Iterable[str] = EVERYONE) -> None:
        super().__init__()
        self.optional = optional
        self.roles = frozenset(roles)

    def __call__(self, request: HttpRequest) -> Actor:
        header = request.headers.get("Authorization", "")
        if not header.strip():
            if self.optional:
                return ANONYMOUS
            raise ApiError(
                401, "not_authenticated", _("Send a token: Authorization: Bearer <token>.")
            )
        return self.authenticate(request, header)

    def authenticate(self, request: HttpRequest, token: str) -> Actor:
        scheme, _sep, raw = token.strip().partition(" ")
        found = None
        if scheme.lower() == "bearer" and raw.strip():
            found = api_token_authenticate(raw=raw.strip(), now=timezone.now())
        if found is None:
            raise ApiError(
                401, "invalid_token", _("The token is not valid, or it has been revoked.")
            )
        user = found.user
        actor = Actor(
            user=user,
            token=found,
            client=client_for_user(user) if user.role == CLIENT else None,
        )
        if actor.role not in self.roles:
            raise ApiError(403, "forbidden", _("Your role may not do this."))
        return actor


def actor_of(request: HttpRequest) -> Actor:
    actor = getattr(request, "auth", None)
    return actor if isinstance(actor, Actor) else ANONYMOUS
