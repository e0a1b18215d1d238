"""Client account pages: register, confirm the email address, sign in (password or a one-time
emailed link), reset the password, sign out here or everywhere. Staff sign in at /admin/.

Every page answers the same whether or not an address has an account, so none of them tells a
visitor who our clients are; no address ever appears in a URL."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import authenticate, login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from daisy.accounts.forms import EmailForm, RegisterForm, SetPasswordForm, SignInForm
from daisy.accounts.services import user_sessions_end
from daisy.clients import accounts
from daisy.lib.errors import DomainError
from daisy.lib.forms import form_add_domain_error

BACKEND = "daisy.accounts.backends.ClientEmailBackend"
INBOX_KINDS = {"register", "sign-in-link", "password-reset"}


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("portal:home")


@never_cache
@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    form = RegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            accounts.client_register(now=timezone.now(), **form.cleaned_data)
        except DomainError as exc:
            form_add_domain_error(form, exc)
        else:
            return redirect("accounts:check-inbox", kind="register")
    return render(request, "accounts/register.html", {"form": form})


@never_cache
def check_inbox(request: HttpRequest, kind: str) -> HttpResponse:
    if kind not in INBOX_KINDS:
        raise Http404
    return render(request, "accounts/check_inbox.html", {"kind": kind})


@never_cache
def verify_email(request: HttpRequest, token: str) -> HttpResponse:
    # A GET is enough: confirming an address changes nothing anyone could regret.
    try:
        verified = accounts.email_verify(token=token, now=timezone.now())
    except DomainError as exc:
        return render(request, "accounts/link_problem.html", {"message": exc.message}, status=400)
    return render(
        request, "accounts/verified.html", {"has_password": verified.has_usable_password()}
    )


@never_cache
@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    form = SignInForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = authenticate(
            request,
            username=form.cleaned_data["email"],
            password=form.cleaned_data["password"],
        )
        if user is None:
            form.add_error(
                None,
                _(
                    "That email address and password do not match an account. Check them, or "
                    "sign in with a link sent to your email."
                ),
            )
        elif getattr(user, "email_verified_at", None) is None:
            accounts.email_verification_resend(user=user, now=timezone.now())
            form.add_error(
                None,
                _(
                    "Please confirm your email address first: follow the link in the email we "
                    "sent you (we have sent it again if it was a while ago)."
                ),
            )
        else:
            login(request, user, backend=BACKEND)
            return redirect(_next_url(request))
    return render(
        request, "accounts/sign_in.html", {"form": form, "next": request.GET.get("next", "")}
    )


@never_cache
@require_http_methods(["GET", "POST"])
def sign_in_link_request(request: HttpRequest) -> HttpResponse:
    form = EmailForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            accounts.sign_in_link_request(email=form.cleaned_data["email"], now=timezone.now())
        except DomainError as exc:
            form_add_domain_error(form, exc)
        else:
            return redirect("accounts:check-inbox", kind="sign-in-link")
    return render(request, "accounts/sign_in_link_request.html", {"form": form})


@never_cache
@require_http_methods(["GET", "POST"])
def sign_in_link(request: HttpRequest, secret: str) -> HttpResponse:
    # GET only shows a button: mail scanners that open links must not spend a single-use link.
    if request.method == "GET":
        return render(request, "accounts/sign_in_link.html")
    try:
        user = accounts.sign_in_link_use(secret=secret, now=timezone.now())
    except DomainError as exc:
        return render(request, "accounts/link_problem.html", {"message": exc.message}, status=400)
    login(request, user, backend=BACKEND)
    target = _next_url(request)
    if not user.has_usable_password():
        # A guest who came in through a booking message: offer a password for next time.
        return redirect(reverse("accounts:password-set") + "?" + urlencode({"next": target}))
    return redirect(target)


@never_cache
@login_required
@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def password_set(request: HttpRequest) -> HttpResponse:
    """Choose a password, for a signed-in client who has none (see client_password_set)."""
    target = _next_url(request)
    user = request.user
    if user.has_usable_password():
        return redirect(target)
    form = SetPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            accounts.client_password_set(
                user=user,  # type: ignore[arg-type]
                password=form.cleaned_data["password"],
                now=timezone.now(),
            )
        except DomainError as exc:
            form_add_domain_error(form, exc)
        else:
            user.refresh_from_db()
            update_session_auth_hash(request, user)  # type: ignore[arg-type]
            messages.success(
                request, _("Your password is saved: sign in with it and your email any time.")
            )
            return redirect(target)
    return render(request, "accounts/password_set.html", {"form": form, "next": target})


@never_cache
@require_http_methods(["GET", "POST"])
def password_reset(request: HttpRequest) -> HttpResponse:
    form = EmailForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            accounts.password_reset_request(email=form.cleaned_data["email"], now=timezone.now())
        except DomainError as exc:
            form_add_domain_error(form, exc)
        else:
            return redirect("accounts:check-inbox", kind="password-reset")
    return render(request, "accounts/password_reset.html", {"form": form})


@never_cache
@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def password_reset_confirm(request: HttpRequest, secret: str) -> HttpResponse:
    now = timezone.now()
    try:
        accounts.password_reset_check(secret=secret, now=now)
    except DomainError as exc:
        return render(request, "accounts/link_problem.html", {"message": exc.message}, status=400)
    form = SetPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            accounts.password_reset_complete(
                secret=secret, password=form.cleaned_data["password"], now=now
            )
        except DomainError as exc:
            form_add_domain_error(form, exc)
        else:
            logout(request)
            messages.success(request, _("Your password has been changed. Please sign in."))
            return redirect("accounts:sign-in")
    return render(request, "accounts/password_reset_confirm.html", {"form": form})


@never_cache
@require_http_methods(["GET", "POST"])
def sign_out(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        logout(request)
        messages.success(request, _("You have signed out."))
        return redirect("accounts:sign-in")
    return render(request, "accounts/sign_out.html")


@never_cache
@login_required
@require_POST
def sign_out_everywhere(request: HttpRequest) -> HttpResponse:
    user_sessions_end(user=request.user, now=timezone.now())  # type: ignore[arg-type]
    logout(request)
    messages.success(
        request,
        _("You have been signed out on every device, this one included. Please sign in again."),
    )
    return redirect("accounts:sign-in")
