"""Merging two records of one person (issue 11, item 4): appointments, findings, holds, courses,
important dates, messages, alerts and audit entries move to the record kept; the other is
retired, pointing at it; nothing is lost, and a merge by someone not allowed changes nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.forms.models import model_to_dict
from django.urls import reverse

from daisy.accounts.models import ApiToken, Role, User
from daisy.accounts.tokens import api_token_create
from daisy.aftercare.models import Alert, CalendarFeed, CheckIn, Severity, Trend
from daisy.aftercare.services import calendar_feed_issue
from daisy.audit.models import AuditEntry
from daisy.booking.merge import client_merge
from daisy.booking.services import appointment_book
from daisy.booking.waitlist import waitlist_join
from daisy.clients.models import Client, ClinicalHold, Contraindication, Tier
from daisy.clients.selectors import client_find, client_get, client_list
from daisy.clients.services import client_hold_place, client_update
from daisy.courses.models import ImportantDate, Plan
from daisy.courses.services import course_presets_install, important_date_create, plan_create
from daisy.lib.errors import NotFound, PermissionDenied, ValidationFailed
from daisy.notifications.models import Message
from daisy.notifications.services import message_schedule
from daisy.scheduling.models import Appointment
from tests.support.testing import (
    MONDAY,
    Clinic,
    at,
    booking_now,
    make_client,
    make_clinic,
    make_user,
    staff_login,
)

pytestmark = pytest.mark.django_db

NOW = booking_now()


def _history(clinic: Clinic, client: Client, *, hour: int) -> dict[str, Any]:
    """A record with one of everything: an appointment (with its messages and a check-in that
    raised an alert), a finding, a clinical hold, a course, an important date, a message of its
    own, a calendar feed and audit entries about it."""
    appointment = appointment_book(
        client=client,
        treatment=clinic.microneedling,
        starts_at=at(MONDAY, hour),
        booked_by=clinic.reception,
        now=NOW,
    ).appointment
    finding = Contraindication.objects.create(
        client=client, condition="Isotretinoin", tier=Tier.DEFER, until_on=MONDAY + timedelta(90)
    )
    hold = client_hold_place(client=client, reason="Swelling", source=f"test:{hour}", now=NOW)
    plan = plan_create(
        client=client, treatment=clinic.microneedling, by=clinic.reception, now=NOW, sessions=3
    )
    day = important_date_create(
        client=client,
        kind="job_interview",
        start_on=MONDAY + timedelta(days=60 + hour),
        by=clinic.reception,
        now=NOW,
    )
    message = message_schedule(
        channel="email",
        recipient=client.email,
        template="generic",
        context={
            "subject": "Hello",
            "paragraphs": ["Hi"],
            "name": "x",
            "link": "",
            "link_text": "",
        },
        send_after=NOW,
        dedupe_key=f"test:{client.pk}",
        about=f"test:{client.pk}",
        client=client,
        now=NOW,
    )
    checkin = CheckIn.objects.create(
        appointment=appointment,
        kind="24h",
        redness=Trend.WORSE,
        swelling=Trend.NONE,
        pain=Trend.SAME,
        hot_or_weeping=True,
        spots=False,
        blisters=False,
        dark_patches=False,
        fever=False,
        submitted_at=NOW,
        severity=Severity.URGENT,
    )
    alert = Alert.objects.create(
        checkin=checkin,
        appointment=appointment,
        client=client,
        severity=Severity.URGENT,
        summary="Hot, weeping skin",
        raised_at=NOW,
    )
    feed = calendar_feed_issue(by=clinic.reception, now=NOW, client=client)
    waiting = waitlist_join(
        client=client, treatment=clinic.microneedling, by=clinic.reception, now=NOW
    )
    client_update(client=client, by=clinic.reception, now=NOW, last_name=client.last_name + "e")
    return {
        "waitlist": waiting,
        "appointment": appointment,
        "finding": finding,
        "hold": hold,
        "plan": plan,
        "day": day,
        "message": message,
        "alert": alert,
        "feed": feed,
    }


def everything() -> dict[str, Any]:
    """Every row a merge could touch, as plain values (to show that nothing was lost)."""
    return {
        "clients": [model_to_dict(c) for c in Client.objects.order_by("pk")],
        "appointments": Appointment.objects.count(),
        "findings": Contraindication.objects.count(),
        "holds": ClinicalHold.objects.count(),
        "plans": Plan.objects.count(),
        "important_dates": ImportantDate.objects.count(),
        "messages": Message.objects.count(),
        "alerts": Alert.objects.count(),
        "feeds": list(
            CalendarFeed.objects.order_by("pk").values_list("pk", "client", "revoked_at")
        ),
        "audit": list(AuditEntry.objects.order_by("pk").values_list("pk", "object_id", "data")),
        "users": list(User.objects.order_by("pk").values_list("pk", "is_active")),
    }


@pytest.fixture
def clinic() -> Clinic:
    course_presets_install()
    return make_clinic()


@pytest.fixture
def pair(clinic: Clinic) -> tuple[Client, Client, dict[str, Any], dict[str, Any]]:
    """Willow Hall twice: the record the clinic made, and one a phone booking made."""
    keep = make_client(
        first_name="Willow", last_name="Hall", email="willow.hall@example.com", phone=""
    )
    dup = make_client(
        first_name="Willow",
        last_name="Hall",
        email="WILLOW.HALL@example.com",
        phone="+447700900017",
        notes="Booked by phone",
        user=make_user(role=Role.CLIENT, email="willow.hall@example.com"),
    )
    return keep, dup, _history(clinic, keep, hour=10), _history(clinic, dup, hour=14)


def test_a_merge_moves_everything_to_the_record_kept_and_loses_nothing(clinic, pair) -> None:
    keep, dup, kept_rows, moved_rows = pair
    before = everything()
    dup_audit = list(AuditEntry.objects.filter(object_id=str(dup.pk)).values_list("pk", "action"))
    assert dup_audit  # client.create... client.update, client.hold

    result = client_merge(
        keep=keep, merge=dup, by=clinic.reception, reason="Same person: phone booking", now=NOW
    )

    after = everything()
    # Nothing was deleted: the same rows, now filed under the record kept.
    for kind in ("appointments", "findings", "holds", "plans", "important_dates", "messages"):
        assert after[kind] == before[kind], kind
    assert after["alerts"] == before["alerts"]
    assert len(after["clients"]) == len(before["clients"])
    for name, row in {**kept_rows, **moved_rows}.items():
        row.refresh_from_db()
        assert row.client_id == keep.pk, name
    assert keep.appointments.count() == 2 and keep.contraindications.count() == 2
    assert keep.clinical_holds.filter(cleared_at__isnull=True).count() == 2
    assert keep.plans.count() == 2 and keep.important_dates.count() == 2
    assert keep.alerts.count() == 2
    assert not Message.objects.filter(client=dup).exists()
    # Both waited for micro-needling: one place in the queue stays, the other is withdrawn.
    assert keep.waitlist_entries.count() == 2
    assert keep.waitlist_entries.filter(status="waiting").count() == 1
    # One live calendar feed per client: the kept record's stays, the other's is revoked.
    moved_rows["feed"].refresh_from_db()
    kept_rows["feed"].refresh_from_db()
    assert moved_rows["feed"].revoked_at == NOW and kept_rows["feed"].revoked_at is None

    # No row of any app points at the merged record any more (a new table with a client key
    # that the merge forgets fails here).
    for rel in Client._meta.related_objects:
        if rel.related_model is Client:
            continue  # merged_into: records merged into this one
        left = rel.related_model._default_manager.filter(**{rel.field.name: dup})
        assert not left.exists(), rel.related_model
    # The merged record stays, empty, pointing at the one kept; nothing finds it any more.
    dup.refresh_from_db()
    keep.refresh_from_db()
    assert dup.merged_into == keep and dup.merged_at == NOW
    assert client_find(email="willow.hall@example.com") == keep
    assert client_find(phone="07700 900017") == keep  # the phone the kept record lacked
    assert dup not in client_list() and keep in client_list()
    with pytest.raises(NotFound):
        client_get(dup.pk)
    # What the kept record lacked it took; what it had it kept. The login moved to it.
    assert keep.phone == "+447700900017" and keep.email == "willow.hall@example.com"
    assert "Booked by phone" in keep.notes
    assert keep.user is not None and keep.user.email == "willow.hall@example.com"
    assert dup.user is None
    assert result.moved["appointments"] == 1 and "phone" in result.taken

    # The audit trail reads whole on the kept record, and says what each entry was about.
    for pk, _action in dup_audit:
        entry = AuditEntry.objects.get(pk=pk)
        assert entry.object_id == str(keep.pk) and entry.data["merged_from"] == str(dup.pk)
    merge = AuditEntry.objects.get(action="client.merge")
    assert merge.actor == clinic.reception and merge.object_id == str(keep.pk)
    assert merge.data["kept"] == str(keep.pk) and merge.data["merged"] == str(dup.pk)
    assert merge.data["reason"] == "Same person: phone booking"
    assert len(after["audit"]) == len(before["audit"]) + 1


def test_when_both_records_have_a_login_the_merged_one_stops_working(clinic) -> None:
    keep = make_client(user=make_user(role=Role.CLIENT, email="a@example.com"))
    dup = make_client(user=make_user(role=Role.CLIENT, email="b@example.com"))
    token = api_token_create(user=dup.user, name="phone app", now=NOW)
    old_login = dup.user
    client_merge(keep=keep, merge=dup, by=clinic.manager, reason="Same person", now=NOW)
    old_login.refresh_from_db()
    keep.refresh_from_db()
    assert keep.user.email == "a@example.com" and keep.user.is_active
    assert not old_login.is_active and old_login.session_version == 1
    assert ApiToken.objects.get(pk=token.token.pk).revoked_at == NOW
    assert AuditEntry.objects.filter(action="account.retire", object_id=str(old_login.pk))


@pytest.mark.parametrize("who", ["specialist", "client", "nobody", "inactive reception"])
def test_a_merge_by_someone_not_allowed_changes_nothing(clinic, pair, who: str) -> None:
    keep, dup, _kept, _moved = pair
    inactive = make_user(role=Role.RECEPTION)
    User.objects.filter(pk=inactive.pk).update(is_active=False)
    inactive.refresh_from_db()
    by = {
        "specialist": clinic.specialists[0].user,
        "client": dup.user,
        "nobody": None,
        "inactive reception": inactive,
    }[who]
    before = everything()
    with pytest.raises(PermissionDenied):
        client_merge(keep=keep, merge=dup, by=by, reason="Same person", now=NOW)
    assert everything() == before


@pytest.mark.parametrize(("reason", "same"), [("", False), ("   ", False), ("Same person", True)])
def test_a_merge_needs_a_reason_and_two_records(clinic, pair, reason: str, same: bool) -> None:
    keep, dup, _kept, _moved = pair
    before = everything()
    with pytest.raises(ValidationFailed):
        client_merge(
            keep=keep, merge=keep if same else dup, by=clinic.manager, reason=reason, now=NOW
        )
    assert everything() == before


def test_a_record_already_merged_cannot_be_merged_again(clinic, pair) -> None:
    keep, dup, _kept, _moved = pair
    client_merge(keep=keep, merge=dup, by=clinic.manager, reason="Same person", now=NOW)
    other = make_client()
    before = everything()
    for k, m in ((other, dup), (dup, other)):
        with pytest.raises(ValidationFailed):
            client_merge(keep=k, merge=m, by=clinic.manager, reason="Again", now=NOW)
    assert everything() == before


# --- the back-office ---------------------------------------------------------------------------

CHANGELIST = "admin:clients_client_changelist"


def _action(http: Any, first: Client, second: Client, **extra: str) -> Any:
    return http.post(
        reverse(CHANGELIST),
        {"action": "merge_clients", "_selected_action": [str(first.pk), str(second.pk)], **extra},
    )


def test_reception_merges_in_the_admin_after_choosing_the_record_and_confirming(
    client, clinic, pair
) -> None:
    keep, dup, _kept, _moved = pair
    staff_login(client, clinic.reception)
    page = _action(client, keep, dup)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Record to keep" in html and "Why these are the same person" in html
    assert Client.objects.filter(merged_into__isnull=False).count() == 0
    # Without the confirmation box ticked, nothing happens.
    again = _action(client, keep, dup, apply="1", keep=str(keep.pk), reason="Same person")
    assert again.status_code == 200 and not Client.objects.filter(merged_at__isnull=False)
    done = _action(
        client, keep, dup, apply="1", keep=str(keep.pk), reason="Same person", confirm="on"
    )
    assert done.status_code == 302
    dup.refresh_from_db()
    assert dup.merged_into == keep
    assert AuditEntry.objects.get(action="client.merge").actor == clinic.reception
    # The retired record is listed only when asked for, and can no longer be changed.
    listed = client.get(reverse(CHANGELIST)).content.decode()
    assert str(dup.pk) not in listed and str(keep.pk) in listed
    assert str(dup.pk) in client.get(reverse(CHANGELIST), {"record": "merged"}).content.decode()
    view = client.get(reverse("admin:clients_client_change", args=[dup.pk]))
    assert view.status_code == 200 and 'name="first_name"' not in view.content.decode()


def test_a_specialist_has_no_merge_in_the_admin_and_a_client_no_admin(client, clinic, pair) -> None:
    keep, dup, _kept, _moved = pair
    before = everything()
    staff_login(client, clinic.specialists[0].user)
    assert "merge_clients" not in client.get(reverse(CHANGELIST)).content.decode()
    _action(client, keep, dup, apply="1", keep=str(keep.pk), reason="x", confirm="on")
    client.force_login(dup.user)
    response = _action(client, keep, dup, apply="1", keep=str(keep.pk), reason="x", confirm="on")
    assert response.status_code == 302 and "/login/" in response["Location"]
    after = everything()
    # Opening the list is not a write; nothing else was written either.
    assert after == before


def test_a_merged_record_is_not_offered_when_choosing_a_client(client, clinic, pair) -> None:
    keep, dup, _kept, _moved = pair
    client_merge(keep=keep, merge=dup, by=clinic.manager, reason="Same person", now=NOW)
    staff_login(client, clinic.manager)
    found = client.get(
        reverse("admin:autocomplete"),
        {
            "term": "Willow",
            "app_label": "clients",
            "model_name": "contraindication",
            "field_name": "client",
        },
    ).json()
    assert [r["id"] for r in found["results"]] == [str(keep.pk)]


def test_a_guest_typing_the_address_of_a_retired_login_books_on_the_record_kept(clinic) -> None:
    from daisy.clients.accounts import client_account_ensure

    keep = make_client(user=make_user(role=Role.CLIENT, email="a@example.com"))
    dup = make_client(
        email="b@example.com", user=make_user(role=Role.CLIENT, email="b@example.com")
    )
    client_merge(keep=keep, merge=dup, by=clinic.manager, reason="Same person", now=NOW)
    user, client, created = client_account_ensure(
        email="B@example.com",
        first_name="Willow",
        last_name="Hall",
        phone="",
        date_of_birth=None,
        now=NOW,
    )
    assert (user, client, created) == (None, keep, False)
    assert User.objects.filter(role=Role.CLIENT).count() == 2
