"""Clients sign in with their email address (staff keep their usernames in the back-office)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from daisy.accounts.models import Role, User
from daisy.accounts.roles import role_permissions


class RoleBackend(ModelBackend):
    """Staff sign in with their username; what they may do comes from their role alone
    (daisy/accounts/roles.py), never from groups or boxes ticked on one login."""

    def get_user_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        return set()

    def get_group_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        return set(role_permissions(user_obj.role))


class ClientEmailBackend(RoleBackend):
    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if not username or password is None or "@" not in username:
            return None
        user = (
            User.objects.filter(role=Role.CLIENT, email__iexact=username.strip())
            .order_by("date_joined")
            .first()
        )
        if user is None:
            # Spend the same time as a wrong password, so timing does not tell who has an
            # account (as ModelBackend does).
            User().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
