"""Who may use the front desk at /desk/: the one rule, in one place (issue 13, items 1 and 6).

Every desk view is wrapped in `staff_required`; whoever changes what a role may do at the desk
changes `desk_allowed` (and the role matrix test follows it)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache


def desk_allowed(user: Any) -> bool:
    """Signed-in, active clinic staff (reception, specialists, the manager)."""
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and getattr(user, "is_clinic_staff", False)
    )


def manager_allowed(user: Any) -> bool:
    """The clinic manager (is_superuser follows the manager role: accounts.User.save)."""
    return desk_allowed(user) and bool(getattr(user, "is_superuser", False))


def staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Visitors go to the desk's sign-in page; signed-in people who are not staff get a 403
    page that says so (and nothing about what is behind it)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("desk:sign-in"))
        if not desk_allowed(user):
            return render(request, "backoffice/not_staff.html", status=403)
        return view(request, *args, **kwargs)

    return never_cache(wrapper)


def clinician_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """`staff_required`, and then only clinicians (accounts.User.is_clinician: specialists and
    the manager); other staff get the 403 page that says the page is not for their role,
    before anything is looked up or changed."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_clinician:
            return render(request, "backoffice/not_allowed.html", status=403)
        return view(request, *args, **kwargs)

    return staff_required(wrapper)


def manager_required(
    refusal: Any = None,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """`staff_required`, and then only the clinic manager (`manager_allowed`); other staff get
    the 403 page saying the page is the manager's (`refusal`: in what words), before anything
    is looked up or changed."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not manager_allowed(request.user):
                context = {"refusal": refusal} if refusal else {}
                return render(request, "backoffice/not_manager.html", context, status=403)
            return view(request, *args, **kwargs)

        return staff_required(wrapper)

    return decorate
