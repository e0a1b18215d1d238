from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
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
