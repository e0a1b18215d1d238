from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from daisy.accounts.models import User
from daisy.audit.adminlog import AuditedAdminMixin


@admin.register(User)
class DaisyUserAdmin(AuditedAdminMixin, UserAdmin):
    list_display = ("username", "email", "first_name", "last_name", "role", "is_active")
    list_filter = ("role", "is_active")
    # The role is the only access setting (docs/roles.md): is_staff, is_superuser, groups and
    # per-login permissions follow from it, so they are not offered here.
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "email")}),
        (
            _("Access"),
            {
                "fields": ("role", "is_active"),
                "description": _(
                    "The role decides what this person can see and do: reception, specialist "
                    "or manager open the staff pages; a client only their own portal."
                ),
            },
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
        (_("Sign-in"), {"fields": ("email_verified_at", "session_version")}),
    )
    # Set by the client's own links and "sign out everywhere", not typed by staff.
    readonly_fields = ("email_verified_at", "session_version", "last_login", "date_joined")
    add_fieldsets = (*UserAdmin.add_fieldsets, ("Daisy", {"fields": ("role",)}))

    def user_change_password(self, request: Any, id: str, form_url: str = "") -> Any:
        """Django's "change password" page, with the change in the audit trail (never the
        password itself), in the same transaction as the new password."""
        with transaction.atomic():
            user = self.get_object(request, unquote(id))
            before = user.password if user is not None else None
            response = super().user_change_password(request, id, form_url)
            if user is not None and request.method == "POST":
                user.refresh_from_db(fields=["password"])
                if user.password != before:
                    self._audit(
                        request,
                        "settings.change",
                        user,
                        {
                            "changes": {
                                "password": "changed"
                                if user.has_usable_password()
                                else "sign-in with a password turned off"
                            }
                        },
                    )
        return response


# --- Staff two-factor sign-in (issue 16) ---------------------------------------------------------
# Authenticator secrets are not shown in the admin (django-otp's own pages would show a staff
# member's QR code to whoever opens them); a manager resets a lost one with the action below.
from django.contrib import messages  # noqa: E402
from django.contrib.admin.exceptions import NotRegistered  # noqa: E402
from django.utils import timezone  # noqa: E402
from django_otp.plugins.otp_static.models import StaticDevice  # noqa: E402
from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: E402

from daisy.accounts.twofactor import two_factor_reset  # noqa: E402
from daisy.lib.errors import DomainError  # noqa: E402

for _model in (TOTPDevice, StaticDevice):
    try:
        admin.site.unregister(_model)
    except NotRegistered:
        pass


@admin.action(description="Reset two-factor sign-in (lost phone)", permissions=["change"])
def reset_two_factor(modeladmin: admin.ModelAdmin, request: object, queryset: object) -> None:
    done = []
    for user in queryset:  # type: ignore[attr-defined]
        if not user.is_clinic_staff:
            continue
        try:
            two_factor_reset(user=user, by=request.user, now=timezone.now())  # type: ignore[attr-defined]
        except DomainError as exc:
            modeladmin.message_user(request, exc.message, messages.ERROR)  # type: ignore[arg-type]
            return
        done.append(user.get_full_name() or user.username)
    if done:
        modeladmin.message_user(
            request,  # type: ignore[arg-type]
            f"Two-factor sign-in reset for {', '.join(done)}: they have been signed out, and set "
            "up their authenticator app again when they next sign in with their password.",
            messages.SUCCESS,
        )
    else:
        modeladmin.message_user(request, "Choose staff logins to reset.", messages.WARNING)  # type: ignore[arg-type]


DaisyUserAdmin.actions = [*(DaisyUserAdmin.actions or ()), reset_two_factor]
