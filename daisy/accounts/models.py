from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from daisy.lib.names import person_name_clean


class Role(models.TextChoices):
    CLIENT = "client", _("Client")
    RECEPTION = "reception", _("Reception")
    SPECIALIST = "specialist", _("Specialist")
    MANAGER = "manager", _("Manager")


STAFF_ROLES = frozenset({Role.RECEPTION, Role.SPECIALIST, Role.MANAGER})


class DaisyUserManager(UserManager["User"]):
    def create_superuser(
        self, username: str, email: str | None = None, password: str | None = None, **extra: Any
    ) -> User:
        # `daisy createsuperuser` makes the clinic's manager: the role is what grants access.
        extra["role"] = Role.MANAGER
        return super().create_superuser(username, email, password, **extra)


class User(AbstractUser):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.CLIENT)
    # Clients sign in with their email address; set once they have proved they receive mail
    # there (the verification link, a sign-in link or a password reset).
    email_verified_at = models.DateTimeField(null=True, blank=True)
    verification_sent_at = models.DateTimeField(null=True, blank=True)
    # Part of the session hash: raising it signs the user out of every session at once.
    session_version = models.PositiveIntegerField(default=0)

    objects = DaisyUserManager()

    class Meta(AbstractUser.Meta):
        constraints = [
            # One client login per address, whatever its case: the address is the login.
            models.UniqueConstraint(
                Lower("email"),
                condition=Q(role="client") & ~Q(email=""),
                name="accounts_client_email_unique",
            )
        ]

    def _get_session_auth_hash(self, secret: str | None = None) -> str:
        # Django checks every request's session against this hash (and the hash under each
        # SECRET_KEY_FALLBACKS key), so mixing in session_version ends all sessions at once.
        base = super()._get_session_auth_hash(secret=secret)  # type: ignore[misc]
        if not self.session_version:
            # Version 0 keeps Django's own hash, so existing sessions survive this field.
            return base
        return salted_hmac(
            "daisy.accounts.User.session_version",
            f"{base}:{self.session_version}",
            secret=secret,
            algorithm="sha256",
        ).hexdigest()

    def save(self, *args: Any, **kwargs: Any) -> None:
        # The role is the one source of truth for access (docs/roles.md): Django's own
        # is_staff (may open the back-office) and is_superuser (the manager) follow it, so a
        # login created in the admin with a staff role can sign in, and no box ticked by hand
        # gives a client staff access. Permissions come from the role too (RoleBackend).
        self.is_staff = self.role in STAFF_ROLES
        self.is_superuser = self.role == Role.MANAGER
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "role" in update_fields:
            kwargs["update_fields"] = {*update_fields, "is_staff", "is_superuser"}
        super().save(*args, **kwargs)
    def clean(self) -> None:
        # Staff and client names alike (the admin's forms run this): NFC, no hidden or
        # direction-changing characters (daisy/lib/names.py, issue 16).
        super().clean()
        problems = {}
        for field in ("first_name", "last_name"):
            try:
                setattr(self, field, person_name_clean(getattr(self, field) or ""))
            except ValueError as exc:
                problems[field] = str(exc)
        if problems:
            raise ValidationError(problems)

    @property
    def is_clinic_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def is_clinician(self) -> bool:
        """May record a clinical override (specialists and the manager/medical lead)."""
        return self.role in {Role.SPECIALIST, Role.MANAGER}


class ApiToken(models.Model):
    """A bearer token for the API (DESIGN.md 6). The secret is shown once, at creation; only its
    SHA-256 is stored. Tokens are 256-bit random strings, so a fast hash is enough: there is
    nothing to brute-force that a slow hash would protect."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True, help_text=_("What the token is for."))
    # The public part of the token, for lookup and for naming it in lists and logs.
    prefix = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("API token")

    def __str__(self) -> str:
        return f"{self.prefix} ({self.name or self.user})"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class EmailTokenPurpose(models.TextChoices):
    SIGN_IN = "sign_in", _("Sign-in link")
    PASSWORD_RESET = "password_reset", _("Password reset")


class EmailToken(models.Model):
    """A single-use secret mailed to a user: a sign-in link or a password reset. Only the
    SHA-256 of the secret is stored; the secret itself exists only in the email."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="email_tokens")
    purpose = models.CharField(max_length=20, choices=EmailTokenPurpose.choices)
    secret_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "purpose", "created_at"])]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} for {self.user} ({self.created_at:%Y-%m-%d %H:%M})"
