"""Roles that work (issue 13, item 6): a staff login created in the admin with a role can sign in
and gets exactly that role's access; nothing ticked by hand adds to it or takes from it."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.test import Client as HttpClient

from daisy.accounts.models import Role, User
from daisy.accounts.roles import role_permissions
from tests.support.testing import make_user, staff_login

pytestmark = pytest.mark.django_db

PASSWORD = "meadow-lantern-83"


def _add_in_admin(manager: HttpClient, username: str, role: str) -> User:
    response = manager.post(
        "/admin/accounts/user/add/",
        {
            "username": username,
            "usable_password": "true",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "role": role,
            "_save": "Save",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    return User.objects.get(username=username)


@pytest.mark.parametrize("role", [Role.RECEPTION, Role.SPECIALIST, Role.MANAGER])
def test_a_staff_login_made_in_the_admin_signs_in_with_its_role_access(
    client: HttpClient, role: str
) -> None:
    staff_login(client, make_user(role=Role.MANAGER))
    user = _add_in_admin(client, f"okafor{len(role)}", role)
    client.logout()

    signed_in = client.post(
        "/account/staff/sign-in/?next=/admin/", {"username": user.username, "password": PASSWORD}
    )

    assert signed_in.status_code == 302, "the new login could not sign in"
    # A new staff login sets up its authenticator app first (issue 16), then the admin opens.
    assert "/account/staff/two-factor/set-up/" in signed_in["Location"]
    staff_login(client, user)
    assert client.get("/admin/").status_code == 200
    user = User.objects.get(pk=user.pk)
    if role == Role.MANAGER:
        assert user.is_superuser
    else:
        assert user.get_all_permissions() == set(role_permissions(role))
        assert not user.has_perm("accounts.change_user")


def test_reception_and_specialist_see_different_things() -> None:
    reception, specialist = make_user(role=Role.RECEPTION), make_user(role=Role.SPECIALIST)

    assert reception.has_perm("clinic.add_timeoff")
    assert not reception.has_perm("clients.view_contraindication")
    assert specialist.has_perm("clients.view_contraindication")
    assert not specialist.has_perm("clinic.add_timeoff")


def test_a_permission_ticked_on_one_login_adds_nothing() -> None:
    reception = make_user(role=Role.RECEPTION)
    reception.user_permissions.add(
        Permission.objects.get(content_type__app_label="audit", codename="view_auditentry")
    )

    reception = User.objects.get(pk=reception.pk)
    assert not reception.has_perm("audit.view_auditentry")


def test_changing_the_role_changes_the_access() -> None:
    user = make_user(role=Role.RECEPTION)
    assert user.is_staff

    user.role = Role.CLIENT
    user.save(update_fields=["role"])

    user = User.objects.get(pk=user.pk)
    assert not user.is_staff
    assert not user.is_superuser
    assert user.get_all_permissions() == set()


def test_a_client_ticked_as_staff_stays_a_client() -> None:
    user = make_user(role=Role.CLIENT)
    user.is_staff = True
    user.is_superuser = True
    user.save()

    user = User.objects.get(pk=user.pk)
    assert not user.is_staff and not user.is_superuser


def test_createsuperuser_makes_the_manager() -> None:
    call_command(
        "createsuperuser",
        username="boss",
        email="boss@example.com",
        interactive=False,
        verbosity=0,
    )

    boss = User.objects.get(username="boss")
    assert boss.role == Role.MANAGER and boss.is_staff and boss.is_superuser
