"""The demo clinic that `make demo` seeds."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from daisy.accounts.models import User
from daisy.audit.models import AuditEntry
from daisy.clients.models import Client
from daisy.clinic.models import Device, DeviceKind, Location, Room, Specialist
from daisy.demo.seed import DEMO_CLIENT_EMAIL, DEMO_PASSWORD, STAFF_USERS, demo_seed
from daisy.scheduling.models import Appointment
from daisy.treatments.models import Treatment

pytestmark = pytest.mark.django_db(transaction=True)

NOW = datetime(2031, 5, 14, 11, 37, tzinfo=ZoneInfo("Europe/London"))


def _diary() -> list[tuple[str, str, str]]:
    return sorted(
        (a.starts_at.isoformat(), a.treatment.slug, a.client.email)
        for a in Appointment.objects.select_related("treatment", "client")
    )


def test_demo_clinic_is_seeded_once_with_the_promised_cast_and_diary():
    summary = demo_seed(now=NOW)
    assert summary.created
    assert Location.objects.get().name == "Daisy Laser & Skin Care Clinic"
    assert Specialist.objects.count() == 3
    assert Room.objects.count() == 3
    assert Device.objects.filter(device_kind=DeviceKind.MICRONEEDLING_PEN).count() == 2
    assert Client.objects.count() == 40
    assert set(
        User.objects.filter(username__in=STAFF_USERS).values_list("username", flat=True)
    ) == set(STAFF_USERS)
    assert {"microneedling", "consultation"} <= set(
        Treatment.objects.values_list("slug", flat=True)
    )
    assert Treatment.objects.count() >= 5
    starts = list(Appointment.objects.values_list("starts_at", flat=True))
    assert summary.appointments == len(starts) > 150
    assert min(starts) >= NOW - timedelta(days=29)
    assert max(starts) <= NOW + timedelta(days=57)
    assert min(starts) < NOW < max(starts)
    # Past appointments have an outcome; the future is booked.
    assert not Appointment.objects.filter(
        starts_at__lt=NOW - timedelta(days=1), status="booked"
    ).exists()
    assert (
        not Appointment.objects.filter(starts_at__gt=NOW + timedelta(days=1))
        .exclude(status="booked")
        .exists()
    )
    # The audit trail holds no entry dated after the moment of seeding.
    assert AuditEntry.objects.filter(action="appointment.book").count() >= len(starts)
    assert not AuditEntry.objects.filter(at__gt=NOW).exists()
    # One sample client signs in to the portal with the address `make demo` prints.
    sample = Client.objects.get(email=DEMO_CLIENT_EMAIL)
    assert sample.user is not None and sample.user.email_verified_at is not None
    assert sample.user.email == DEMO_CLIENT_EMAIL and sample.user.check_password(DEMO_PASSWORD)
    assert sample.appointments.exists()  # the portal has something to show
    # Three distinct, believable profiles: their own biography, qualifications and register.
    team = list(Specialist.objects.order_by("name"))
    assert len({s.bio for s in team}) == 3 and all(s.bio.count("\n\n") >= 2 for s in team)
    assert len({s.qualifications for s in team}) == 3
    assert all(s.registration_body and s.slug and s.speciality_list for s in team)
    assert {s.slug for s in team} == {"sofia-marin", "hannah-cole", "ravi-mehta"}
    # A second run reuses what is there.
    again = demo_seed(now=NOW)
    assert not again.created
    assert Appointment.objects.count() == len(starts)


def test_demo_diary_is_deterministic_relative_to_the_day_it_is_seeded():
    demo_seed(now=NOW)
    first = _diary()
    call_command("flush", interactive=False, verbosity=0)
    # Seeding later on the same day gives the same diary.
    demo_seed(now=NOW + timedelta(hours=5))
    assert _diary() == first


def test_the_desk_opens_on_a_full_working_day_in_every_state_with_nothing_dated_later():
    """Issue 13: the demo's /desk/ is today (a Wednesday) full of appointments in every state
    the desk shows, and no audit entry is dated after now to bury today's."""
    from daisy.audit.models import AuditEntry

    demo_seed(now=NOW)
    today = Appointment.objects.filter(
        starts_at__date=NOW.date(), location__slug="daisy-clinic"
    ).values_list("status", flat=True)
    assert len(today) >= 10
    assert {"completed", "no_show", "in_treatment", "checked_in", "booked", "cancelled"} <= set(
        today
    )
    assert not AuditEntry.objects.filter(at__gt=NOW).exists()
