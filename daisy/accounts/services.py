"""Logins: staff users made, a client login retired, every session of a login ended. The client
account flows (sign-up, mailed links, the login tied to a client record) compose the client
record, so they live above accounts, in daisy/clients/accounts.py (DESIGN.md 3 layers)."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from daisy.accounts.models import (
    STAFF_ROLES,
    ApiToken,
    EmailToken,
    User,
)
from daisy.audit.services import audit_record
from daisy.lib.errors import ValidationFailed
from daisy.lib.names import person_name_clean


def staff_user_create(
    *,
    username: str,
    role: str,
    password: str,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
) -> User:
    if role not in STAFF_ROLES:
        raise ValidationFailed(
            _("Choose a staff role."), fields={"role": _("Choose a staff role.")}
        )
    try:
        first_name, last_name = person_name_clean(first_name), person_name_clean(last_name)
    except ValueError as exc:
        raise ValidationFailed(str(exc), fields={"first_name": str(exc)}) from None
    return User.objects.create_user(
        username=username,
        password=password,
        first_name=first_name,
        last_name=last_name,
        email=email,
        role=role,
    )


def client_login_retire(*, user: User, now: datetime) -> None:
    """A client login that stops working for good: its record was merged into one that has a
    login of its own (daisy.booking.merge). It is deactivated, every session and API token of
    it ends, and it is kept (with its audit trail) rather than deleted."""
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(
            is_active=False, session_version=F("session_version") + 1
        )
        ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=now)
        EmailToken.objects.filter(user=user, used_at__isnull=True).update(used_at=now)
        audit_record(
            actor=None, action="account.retire", obj=user, at=now, data={"reason": "client merge"}
        )


def user_sessions_end(*, user: User, now: datetime) -> None:
    """Sign the user out everywhere: every session's hash stops matching."""
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(session_version=F("session_version") + 1)
        audit_record(actor=user, action="account.sign_out_everywhere", obj=user, at=now)
    user.refresh_from_db(fields=["session_version"])
