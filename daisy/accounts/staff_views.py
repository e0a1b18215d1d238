"""Staff sign-in with a second factor (issue 16): /account/staff/...

Staff sign in with their username, password and the code their authenticator app shows (or one
of their recovery codes), on one form that password managers fill. The first time, without an
app yet, the password alone leads straight to setting one up; the staff pages (/desk/, /admin/)
open only once the session has passed the second factor (daisy.accounts.middleware)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login

from daisy.accounts import twofactor
from daisy.accounts.forms import AuthenticatorConfirmForm, StaffCodeForm, StaffSignInForm
from daisy.accounts.lockout import PASSABLE
from daisy.accounts.models import STAFF_ROLES, User
from daisy.lib.errors import DomainError
from daisy.lib.forms import form_add_domain_error

NO_MATCH = _(
    "That username, password and code do not match a staff account. Check them and try again."
)


def _home() -> str:
    """Where staff land: the desk when this Daisy has one, else the admin."""
    for candidate in ("/desk/", "/admin/"):
        try:
            resolve(candidate)
        except Resolver404:
            continue
        return candidate
    return "/"


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return _home()


def _with_next(route: str, target: str) -> str:
    return reverse(route) + "?" + urlencode({"next": target})


def _backend() -> str:
    # The last backend is the one that signs staff in by username (ModelBackend or its kin).
    return str(settings.AUTHENTICATION_BACKENDS[-1])


def _staff_user(username: str) -> User | None:
    return User.objects.filter(username=username, role__in=STAFF_ROLES, is_active=True).first()


def _locked_sign_in(request: HttpRequest, username: str, password: str, code: str) -> User | None:
    """Sign-in while strangers' failures have paused this account: the password and a code
    together still let its owner in. The answer is the same whichever of the two was wrong, so
    the pause tells a guesser nothing about the password."""
    user = _staff_user(username)
    if user is None:
        User().set_password(password)  # the same time as a real check
    elif user.check_password(password) and twofactor.has_authenticator(user):
        if twofactor.second_factor_verify(user=user, code=code) is not None:
            return user
    user_login_failed.send(
        sender=__name__, credentials={"username": username}, request=request
    )
    return None


def _sign_in(request: HttpRequest, user: User, device: Any, target: str) -> HttpResponse:
    login(request, user, backend=_backend())
    if device is None:
        return redirect(_with_next("accounts:staff-two-factor-set-up", target))
    otp_login(request, device)
    return redirect(target)


@never_cache
@sensitive_post_parameters("password", "code")
@require_http_methods(["GET", "POST"])
def staff_sign_in(request: HttpRequest) -> HttpResponse:
    target = _next(request)
    form = StaffSignInForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"].strip()
        password = form.cleaned_data["password"]
        code = form.cleaned_data["code"]
        user = authenticate(request, username=username, password=password)
        if getattr(request, "axes_locked_out", False):
            if code and getattr(request, "daisy_lock", None) in PASSABLE:
                owner = _locked_sign_in(request, username, password, code)
                if owner is not None:
                    request.axes_locked_out = False  # type: ignore[attr-defined]
                    device = twofactor.authenticator_get(owner)
                    return _sign_in(request, owner, device, target)
            # django-axes' middleware answers with the lockout page (lockout.locked_out).
            return HttpResponse(status=429)
        if user is None or getattr(user, "role", None) not in STAFF_ROLES:
            form.add_error(None, NO_MATCH)
        elif not twofactor.has_authenticator(user):
            # First sign-in (or after a manager's reset): the password, then set up the app.
            return _sign_in(request, user, None, target)
        elif not code:
            form.add_error(
                "code",
                _("Type the code your authenticator app shows now, or one of your recovery codes."),
            )
        else:
            device = twofactor.second_factor_verify(user=user, code=code)
            if device is None:
                # A wrong code counts as a failed sign-in, like a wrong password.
                user_login_failed.send(
                    sender=__name__, credentials={"username": username}, request=request
                )
                if getattr(request, "axes_locked_out", False):
                    return HttpResponse(status=429)
                form.add_error(
                    "code",
                    _(
                        "That code did not work. Type the one your app shows now (codes change "
                        "every 30 seconds), or an unused recovery code."
                    ),
                )
            else:
                return _sign_in(request, user, device, target)
    return render(request, "accounts/staff_sign_in.html", {"form": form, "next": target})


def _require_staff(request: HttpRequest) -> HttpResponse | None:
    if not twofactor.needs_second_factor(request.user):
        return redirect(_with_next("accounts:staff-sign-in", request.get_full_path()))
    return None


@never_cache
@sensitive_post_parameters("code")
@require_http_methods(["GET", "POST"])
def staff_two_factor(request: HttpRequest) -> HttpResponse:
    """A signed-in staff session that has not passed the second factor yet proves it here."""
    denied = _require_staff(request)
    if denied:
        return denied
    target = _next(request)
    user: User = request.user  # type: ignore[assignment]
    if not twofactor.has_authenticator(user):
        return redirect(_with_next("accounts:staff-two-factor-set-up", target))
    if request.user.is_verified():  # type: ignore[union-attr]
        return redirect(target)
    form = StaffCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = twofactor.second_factor_verify(user=user, code=form.cleaned_data["code"])
        if device is not None:
            otp_login(request, device)
            return redirect(target)
        form.add_error(
            "code",
            _(
                "That code did not work. Type the one your app shows now (codes change every "
                "30 seconds), or an unused recovery code."
            ),
        )
    return render(request, "accounts/staff_two_factor.html", {"form": form, "next": target})


@never_cache
@sensitive_post_parameters("code")
@require_http_methods(["GET", "POST"])
def staff_two_factor_set_up(request: HttpRequest) -> HttpResponse:
    """Set up the authenticator app: scan the QR code (or type the secret), confirm with a code,
    then keep the recovery codes. Someone who already has an app must pass it first (so a
    stolen password alone cannot swap in another phone)."""
    denied = _require_staff(request)
    if denied:
        return denied
    target = _next(request)
    user: User = request.user  # type: ignore[assignment]
    if twofactor.has_authenticator(user) and not request.user.is_verified():  # type: ignore[union-attr]
        return redirect(_with_next("accounts:staff-two-factor", request.get_full_path()))
    device = twofactor.authenticator_setup_start(user=user)
    form = AuthenticatorConfirmForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            done = twofactor.authenticator_setup_confirm(
                user=user, code=form.cleaned_data["code"], now=timezone.now()
            )
        except DomainError as exc:
            form_add_domain_error(form, exc)
        else:
            otp_login(request, done.device)
            return render(
                request,
                "accounts/staff_recovery_codes.html",
                {"codes": done.recovery_codes, "next": target, "just_set_up": True},
            )
    url = twofactor.setup_url(device)
    return render(
        request,
        "accounts/staff_two_factor_set_up.html",
        {
            "form": form,
            "next": target,
            "qr_svg": twofactor.qr_svg(url, title=_("QR code to scan with your authenticator app")),
            "secret": twofactor.secret_text(device),
            "username": user.get_username(),
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
def staff_recovery_codes(request: HttpRequest) -> HttpResponse:
    """How many recovery codes are left, and a fresh set on request (the old ones then stop)."""
    denied = _require_staff(request)
    if denied:
        return denied
    user: User = request.user  # type: ignore[assignment]
    if not request.user.is_verified():  # type: ignore[union-attr]
        return redirect(_with_next("accounts:staff-two-factor", request.get_full_path()))
    target = _next(request)
    if request.method == "POST":
        codes = twofactor.recovery_codes_renew(user=user, now=timezone.now())
        messages.success(request, _("New recovery codes are ready; the old ones no longer work."))
        return render(
            request, "accounts/staff_recovery_codes.html", {"codes": codes, "next": target}
        )
    return render(
        request,
        "accounts/staff_recovery_codes.html",
        {"codes": None, "left": twofactor.recovery_codes_left(user), "next": target},
    )
