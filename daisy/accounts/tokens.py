"""API tokens: create, authenticate, list and revoke (DESIGN.md 6, issue 3).

A token reads `dsy_<prefix>_<secret>`. The prefix is public: it finds the row and names the
token in lists and logs. The secret is 256 random bits, shown once; only the SHA-256 of the whole
token is stored and compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet

from daisy.accounts.models import ApiToken, User
from daisy.audit.services import audit_record
from daisy.lib.errors import NotFound, ValidationFailed

TOKEN_PREFIX = "dsy_"
_TOKEN_RE = re.compile(r"dsy_([0-9a-f]{12})_([A-Za-z0-9_-]{43})")
_PREFIX_RE = re.compile(r"(?:dsy_)?([0-9a-f]{12})")
# Recording every use would turn each read into a write; once a minute is enough to tell
# a live integration from a forgotten one.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("ascii")).hexdigest()


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    raw: str  # shown once, never stored


def api_token_create(*, user: User, name: str, now: datetime, by: Any = None) -> NewToken:
    if not user.is_active:
        raise ValidationFailed(f"{user.username} is not active.", fields={"user": "inactive"})
    name = name.strip()
    if len(name) > 100:
        raise ValidationFailed("Keep the name under 100 characters.", fields={"name": "too long"})
    for _attempt in range(5):
        prefix = secrets.token_hex(6)
        raw = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
        try:
            with transaction.atomic():
                token = ApiToken.objects.create(
                    user=user, name=name, prefix=prefix, secret_hash=_digest(raw), created_at=now
                )
                audit_record(
                    actor=by,
                    action="api_token.create",
                    obj=token,
                    at=now,
                    data={"user": user.username, "prefix": prefix, "name": name},
                )
        except IntegrityError:  # a prefix collision: 1 in 2**48 per pair, so just draw again
            continue
        return NewToken(token, raw)
    raise RuntimeError("could not draw a unique token prefix")


def api_token_authenticate(*, raw: str, now: datetime) -> ApiToken | None:
    """The live token for this secret, with its user loaded, or None."""
    match = _TOKEN_RE.fullmatch(raw)
    if match is None:
        return None
    token = ApiToken.objects.select_related("user").filter(prefix=match[1]).first()
    if token is None or not hmac.compare_digest(token.secret_hash, _digest(raw)):
        return None
    if token.revoked_at is not None or not token.user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        # Conditional, so concurrent requests write it once.
        ApiToken.objects.filter(pk=token.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - LAST_USED_RESOLUTION)
        ).update(last_used_at=now)
        token.last_used_at = now
    return token


def api_token_list(
    *, user: User | None = None, include_revoked: bool = False
) -> QuerySet[ApiToken]:
    qs = ApiToken.objects.select_related("user").order_by("created_at", "prefix")
    if user is not None:
        qs = qs.filter(user=user)
    if not include_revoked:
        qs = qs.filter(revoked_at__isnull=True)
    return qs


def api_token_get(ident: str) -> ApiToken:
    """By id (UUID) or by prefix (with or without `dsy_`)."""
    ident = ident.strip()
    token = None
    try:
        token = ApiToken.objects.filter(pk=uuid.UUID(ident)).first()
    except ValueError:
        match = _PREFIX_RE.fullmatch(ident) or _TOKEN_RE.fullmatch(ident)
        if match is not None:
            token = ApiToken.objects.filter(prefix=match[1]).first()
    if token is None:
        raise NotFound(f"No API token matches “{ident}”.")
    return token


def api_token_revoke(*, ident: str, now: datetime, by: Any = None) -> ApiToken:
    with transaction.atomic():
        token = api_token_get(ident)
        if token.revoked_at is None:
            token.revoked_at = now
            token.save(update_fields=["revoked_at"])
            audit_record(
                actor=by,
                action="api_token.revoke",
                obj=token,
                at=now,
                data={"user": token.user.username, "prefix": token.prefix},
            )
        return token


def user_get_by_username(username: str) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        raise NotFound(f"There is no user called “{username}”.")
    return user
