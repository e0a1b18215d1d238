"""The API's test cast (DESIGN.md 8): anonymous, client A, client B, reception, specialist,
manager, each with a token, over one small clinic, with the clock stopped a week before the
test Monday."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client as HttpClient

from daisy.accounts.models import Role
from daisy.accounts.tokens import api_token_create
from tests.support.testing import Clinic, booking_now, make_clinic, make_user

ROLES = ("anonymous", "client_a", "client_b", "reception", "specialist", "manager")


class Api:
    """A thin JSON client for /api/v1/ that sends one role's token."""

    def __init__(self, token: str | None) -> None:
        self.token = token
        self.http = HttpClient()

    def _headers(self, headers: dict[str, str] | None) -> dict[str, str]:
        out = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        out.update(headers or {})
        return out

    def get(self, path: str, params: dict[str, Any] | None = None, **kw: Any) -> Any:
        return self.http.get(
            f"/api/v1{path}", params or {}, headers=self._headers(kw.pop("headers", None)), **kw
        )

    def send(
        self, method: str, path: str, body: Any = None, *, raw: bytes | str | None = None, **kw: Any
    ) -> Any:
        data = raw if raw is not None else ("" if body is None else json.dumps(body, default=str))
        return self.http.generic(
            method,
            f"/api/v1{path}",
            data=data,
            content_type=kw.pop("content_type", "application/json"),
            headers=self._headers(kw.pop("headers", None)),
            **kw,
        )

    def post(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.send("POST", path, body, **kw)

    def patch(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.send("PATCH", path, body, **kw)


@dataclass
class Cast:
    clinic: Clinic
    apis: dict[str, Api]
    tokens: dict[str, str]

    def as_(self, role: str) -> Api:
        return self.apis[role]

    @property
    def client_a(self) -> Any:
        """Client A's record (client B's is clinic.clients[1])."""
        return self.clinic.clients[0]

    @property
    def client_b(self) -> Any:
        return self.clinic.clients[1]


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> Any:
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def frozen() -> Any:
    with time_machine.travel(booking_now(), tick=False) as traveller:
        yield traveller


@pytest.fixture
def cast(db: Any, frozen: Any) -> Cast:
    clinic = make_clinic()
    now = booking_now()
    users = {
        "client_a": make_user(role=Role.CLIENT),
        "client_b": make_user(role=Role.CLIENT),
        "reception": clinic.reception,
        "specialist": clinic.specialists[0].user,
        "manager": clinic.manager,
    }
    for client, key in zip(clinic.clients, ("client_a", "client_b"), strict=True):
        client.user = users[key]
        client.save()
    tokens = {
        role: api_token_create(user=user, name=f"test {role}", now=now).raw
        for role, user in users.items()
    }
    apis = {"anonymous": Api(None), **{role: Api(t) for role, t in tokens.items()}}
    return Cast(clinic=clinic, apis=apis, tokens=tokens)


def error_of(response: Any) -> dict[str, Any]:
    """The error object of an error response, after checking its shape."""
    assert response["Content-Type"].startswith("application/json"), response.content[:200]
    body = response.json()
    assert set(body) == {"error"}, body
    err = body["error"]
    assert isinstance(err["code"], str) and err["code"]
    assert isinstance(err["message"], str) and err["message"]
    assert isinstance(err["fields"], dict)
    return dict(err)
