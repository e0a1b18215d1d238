from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from daisy.accounts.models import User


@admin.register(User)
class DaisyUserAdmin(UserAdmin):
    list_display = ("username", "email", "first_name", "last_name", "role", "is_active")
    list_filter = ("role", "is_active", "is_staff")
    fieldsets = (
        *UserAdmin.fieldsets,
        ("Daisy", {"fields": ("role", "email_verified_at", "session_version")}),
    )
    # Set by the client's own links and "sign out everywhere", not typed by staff.
    readonly_fields = ("email_verified_at", "session_version")
    add_fieldsets = (*UserAdmin.add_fieldsets, ("Daisy", {"fields": ("role",)}))
