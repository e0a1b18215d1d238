"""Staff adding a client in the back-office who may already have a record are shown the
possible duplicates, and the new record is saved only when they confirm it is someone else
(issue 11, item 4). Saves go through the client services: validated, keyed, audited."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.urls import reverse

from daisy.audit.models import AuditEntry
from daisy.clients.models import Client
from tests.support.testing import make_client, make_user, staff_login

pytestmark = pytest.mark.django_db

ADD = "admin:clients_client_add"


def _form(http: Any, **details: Any) -> dict[str, Any]:
    """The add form as a browser would post it: the details, plus each inline's empty set."""
    page = http.get(reverse(ADD))
    assert page.status_code == 200
    data: dict[str, Any] = {
        "first_name": "Willow",
        "last_name": "Hall",
        "email": "",
        "phone": "",
        "date_of_birth": "",
        "notes": "",
    }
    for inline in page.context["inline_admin_formsets"]:
        prefix = inline.formset.prefix
        data |= {f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"}
    data.update(details)
    return data


@pytest.fixture
def reception_http(client: Any) -> Any:
    staff_login(client, make_user(role="reception"))
    return client


@pytest.mark.parametrize(
    "details",
    [
        {"email": "WILLOW.HALL@example.com"},
        {"phone": "07700 900017"},
        {"first_name": "willow", "last_name": "HALL", "date_of_birth": "1988-04-02"},
    ],
)
def test_a_possible_duplicate_is_shown_and_nothing_is_saved_until_confirmed(
    reception_http: Any, details: dict[str, str]
) -> None:
    willow = make_client(
        first_name="Willow",
        last_name="Hall",
        email="willow.hall@example.com",
        phone="+447700900017",
        date_of_birth=date(1988, 4, 2),
    )
    data = _form(reception_http, **details)
    page = reception_http.post(reverse(ADD), data)
    assert page.status_code == 200  # the form again, with the warning
    html = page.content.decode()
    assert "may already have a record" in html
    assert reverse("admin:clients_client_change", args=[willow.pk]) in html
    assert 'name="confirm_duplicate"' in html
    assert Client.objects.count() == 1

    saved = reception_http.post(reverse(ADD), {**data, "confirm_duplicate": "on"})
    assert saved.status_code == 302
    new = Client.objects.exclude(pk=willow.pk).get()
    entry = AuditEntry.objects.get(action="client.create", object_id=str(new.pk))
    assert entry.data["duplicate_confirmed"] == str(willow.pk)


def test_a_new_person_is_saved_at_once_through_the_services(reception_http: Any) -> None:
    make_client(first_name="Someone", last_name="Else")
    data = _form(
        reception_http,
        email=" Rowan.Oak@Example.COM",
        phone="07700 900018",
        date_of_birth="1991-02-03",
        notes="Prefers mornings",
    )
    assert reception_http.post(reverse(ADD), data).status_code == 302
    rowan = Client.objects.get(last_name="Hall")
    assert (rowan.email, rowan.phone) == ("Rowan.Oak@example.com", "+447700900018")
    assert (rowan.email_key, rowan.phone_key) == ("rowan.oak@example.com", "+447700900018")
    assert rowan.notes == "Prefers mornings"
    assert AuditEntry.objects.filter(action="client.create", object_id=str(rowan.pk)).exists()


def test_a_phone_that_is_not_one_is_refused_on_the_form(reception_http: Any) -> None:
    page = reception_http.post(reverse(ADD), _form(reception_http, phone="call the shop"))
    assert page.status_code == 200 and "valid phone number" in page.content.decode()
    assert not Client.objects.exists()


def test_changing_a_client_keeps_the_keys_in_step(reception_http: Any) -> None:
    willow = make_client(email="willow@example.com", phone="+447700900017")
    url = reverse("admin:clients_client_change", args=[willow.pk])
    page = reception_http.get(url)
    data: dict[str, Any] = {
        "first_name": willow.first_name,
        "last_name": willow.last_name,
        "email": "W.Hall@Example.org",
        "phone": "07700 900019",
        "date_of_birth": "1990-05-17",
        "notes": "",
    }
    for inline in page.context["inline_admin_formsets"]:
        prefix = inline.formset.prefix
        data |= {f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"}
    assert reception_http.post(url, data).status_code == 302
    willow.refresh_from_db()
    assert (willow.email_key, willow.phone_key) == ("w.hall@example.org", "+447700900019")
    entry = AuditEntry.objects.get(action="client.update", object_id=str(willow.pk))
    assert entry.data["fields"] == ["email", "phone"]
