"""The staff's sign-in pages under /account/staff/. daisy/urls.py puts them and the clients'
account pages (daisy/portal/account_urls.py) in one "accounts" namespace."""

from django.urls import path

from daisy.accounts import staff_views

urlpatterns = [
    # Staff: password and a second factor (issue 16).
    path("staff/sign-in/", staff_views.staff_sign_in, name="staff-sign-in"),
    path("staff/two-factor/", staff_views.staff_two_factor, name="staff-two-factor"),
    path(
        "staff/two-factor/set-up/",
        staff_views.staff_two_factor_set_up,
        name="staff-two-factor-set-up",
    ),
    path(
        "staff/two-factor/recovery-codes/",
        staff_views.staff_recovery_codes,
        name="staff-recovery-codes",
    ),
]
