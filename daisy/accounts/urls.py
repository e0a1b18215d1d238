from django.urls import path

from daisy.accounts import staff_views, views

app_name = "accounts"
urlpatterns = [
    path("register/", views.register, name="register"),
    path("check-your-inbox/<slug:kind>/", views.check_inbox, name="check-inbox"),
    path("verify/<str:token>/", views.verify_email, name="verify-email"),
    path("sign-in/", views.sign_in, name="sign-in"),
    path("sign-in/link/", views.sign_in_link_request, name="sign-in-link-request"),
    path("sign-in/link/<str:secret>/", views.sign_in_link, name="sign-in-link"),
    path("password/", views.password_set, name="password-set"),
    path("password-reset/", views.password_reset, name="password-reset"),
    path(
        "password-reset/<str:secret>/",
        views.password_reset_confirm,
        name="password-reset-confirm",
    ),
    path("sign-out/", views.sign_out, name="sign-out"),
    path("sign-out-everywhere/", views.sign_out_everywhere, name="sign-out-everywhere"),
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
