"""The clients' account pages under /account/ (register, confirm the address, sign in, reset the
password, sign out). daisy/urls.py puts them and the staff's (daisy/accounts/urls.py) in one
"accounts" namespace."""

from django.urls import path

from daisy.portal import account_views as views

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
]
