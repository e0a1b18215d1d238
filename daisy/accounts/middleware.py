"""Staff pages need a second factor (issue 16): one middleware guards every page under the
staff prefixes, so each new desk view is covered without a decorator of its own.

- Nobody signed in: the staff sign-in page (Django's admin login and the desk's sign-in
  address lead there; a page that takes a password alone is never shown).
- A staff login whose session has not passed the second factor (set up the app first, if they
  have none): the code page, then back to where they were going.
Clients signed in are left to the pages' own checks (they refuse them)."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from daisy.accounts import twofactor

STAFF_PREFIXES = ("/desk/", "/admin/")
# Django's and the desk's own password-only sign-in pages: the staff sign-in replaces them.
SIGN_IN_PAGES = {"/admin/login/": "/admin/", "/desk/sign-in/": "/desk/"}
# Signing out is always allowed, second factor or not.
SIGN_OUT_PAGES = frozenset({"/admin/logout/", "/desk/sign-out/"})


class StaffTwoFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if path.startswith(STAFF_PREFIXES):
            refusal = self._refusal(request, path)
            if refusal is not None:
                return refusal
        return self.get_response(request)

    def _refusal(self, request: HttpRequest, path: str) -> HttpResponse | None:
        user = request.user
        if path in SIGN_IN_PAGES:
            target = request.GET.get("next") or SIGN_IN_PAGES[path]
            return _to("accounts:staff-sign-in", target)
        if path in SIGN_OUT_PAGES:
            return None
        if not user.is_authenticated:
            # Through the area's own sign-in address (which leads to the staff sign-in), so
            # each keeps the address its pages and links already use.
            login = "/desk/sign-in/" if path.startswith("/desk/") else "/admin/login/"
            return redirect_to_login(request.get_full_path(), login)
        if not twofactor.needs_second_factor(user):
            return None
        if user.is_verified():  # type: ignore[union-attr]
            return None
        if not twofactor.has_authenticator(user):  # type: ignore[arg-type]
            return _to("accounts:staff-two-factor-set-up", request.get_full_path())
        return _to("accounts:staff-two-factor", request.get_full_path())


def _to(route: str, target: str) -> HttpResponse:
    return redirect(reverse(route) + "?" + urlencode({"next": target}))
