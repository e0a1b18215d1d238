"""A client's file at the desk with a long record (issue 14, "make bench"): 12 completed
micro-needling sessions, each with its signed treatment chart (zones, depth, cartridge lot) and
the five standard photos (60 photos), and the photo consent, at the bench clinic.

The record client is built once and kept in the bench data set: a signed chart can never be
deleted (the database refuses it, as in a clinic), so the bench does not try. Photos are rows
only: the pages measured link to each photo's access-checked address and never read the files.
The audit entries the measured pages write (every opening of a file, DOMAIN.md 6.6) are removed
after the run, so the data set stays as it was.

Figures (server time in-process, Django's test client, as a specialist who sees clinical detail
and the photos; no target is set by the issue, the p95 is reported):
  client_file_ms     GET /desk/clients/<id>/: the whole file (timeline, consents, photo section
                     with the latest session's thumbnails);
  client_photos_ms   GET /desk/clients/<id>/photos/: session 1 against session 12, per view,
                     side by side and with the slider."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.test import Client as TestClient
from django_otp.plugins.otp_totp.models import TOTPDevice

from bench import config
from bench.desk import _verify
from bench.figures import Bench, Timed, audit_remove, warm_queries
from daisy.accounts.models import Role, User
from daisy.audit.models import AuditEntry
from daisy.clients.models import Client
from daisy.clients.services import client_keys
from daisy.clinic.models import Device, DeviceKind, Specialist
from daisy.records.charting import AreaIn, ChartIn, ProductIn, chart_save
from daisy.records.models import Photo
from daisy.records.photos import STANDARD_VIEWS
from daisy.scheduling.models import Appointment, Status
from daisy.scheduling.selectors import treatment_template
from tests.support.photos import photo_consent

FIGURES = ("client_file_ms", "client_photos_ms")
EMAIL = "bench-record-client@example.com"
USERNAME = "bench-record-specialist"
SESSIONS = 12
FIRST = config.START - timedelta(weeks=4 * SESSIONS + 2)  # a year of sessions, 4 weeks apart


def _specialist_user() -> User:
    user = User.objects.filter(username=USERNAME).first()
    if user is None:
        user = User.objects.create(
            username=USERNAME, password=make_password(None), role=Role.SPECIALIST
        )
    if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
    return user


def _build(bench: Bench, user: User) -> Client:
    client = Client.objects.filter(email=EMAIL).first()
    if client is not None and Photo.objects.filter(client=client).count() == 5 * SESSIONS:
        return client
    if client is not None:
        raise RuntimeError(f"the bench record client {EMAIL} is incomplete; rebuild the data set")
    location, treatment = bench.location, bench.treatment
    specialist = Specialist.objects.filter(locations=location).order_by("pk").first()
    device = (
        Device.objects.filter(location=location, device_kind=DeviceKind.MICRONEEDLING_PEN)
        .order_by("pk")
        .first()
    )
    template = treatment_template(treatment)
    length = sum((p.duration for p in template.phases if not p.is_buffer), timedelta())
    total = sum((p.duration for p in template.phases), timedelta())
    with transaction.atomic():
        client = Client.objects.create(
            first_name="Record",
            last_name="Bench",
            email=EMAIL,
            date_of_birth=date(1985, 6, 1),
            **client_keys(email=EMAIL, phone=""),
        )
        photo_consent(client, by=user, now=datetime.combine(FIRST, time(8), tzinfo=bench.tz))
        for n in range(SESSIONS):
            # Before the bench's availability window, at 07:00 (before the clinic opens), so
            # no availability figure sees them.
            starts = datetime.combine(FIRST + timedelta(weeks=4 * n), time(7), tzinfo=bench.tz)
            appt = Appointment.objects.create(
                id=uuid.uuid4(),
                client=client,
                treatment=treatment,
                location=location,
                specialist=specialist,
                starts_at=starts,
                ends_at=starts + length,
                busy_until=starts + total,
                status=Status.COMPLETED,
                price=treatment.price,
                created_at=starts - timedelta(days=14),
                updated_at=starts,
            )
            chart_save(
                appointment=appt,
                data=ChartIn(
                    areas=[
                        AreaIn("forehead", Decimal("0.5"), 2, "erythema"),
                        AreaIn("cheek_left", Decimal("1.0"), 3, "erythema"),
                        AreaIn("cheek_right", Decimal("1.0"), 3, "erythema"),
                    ],
                    products=[
                        ProductIn(
                            "cartridge", "Cartridge 12-pin", f"BENCH-REC-{n:02d}", date(2040, 1, 1)
                        ),
                    ],
                    device=device,
                    operator=specialist,
                    cartridge_opened_at_chair=True,
                ),
                by=user,
                now=starts + timedelta(minutes=50),
                sign=True,
            )
            Photo.objects.bulk_create(
                Photo(
                    client=client,
                    appointment=appt,
                    location=location,
                    view=view,
                    source="camera",
                    taken_at=starts + timedelta(minutes=2 + k),
                    taken_by=user,
                    width=2250,
                    height=3000,
                    size_bytes=900_000,
                    sha256="0" * 64,
                )
                for k, view in enumerate(STANDARD_VIEWS)
            )
    return client


def run(bench: Bench) -> dict[str, Any]:
    wanted = [name for name in FIGURES if bench.wanted(name)]
    if not wanted:
        return {}
    user = _specialist_user()
    client = _build(bench, user)
    mark = AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    http = TestClient()
    http.force_login(user)
    session = http.session
    _verify(session, user)
    session.save()
    paths = {
        "client_file_ms": f"/desk/clients/{client.pk}/",
        "client_photos_ms": f"/desk/clients/{client.pk}/photos/",
    }

    def getter(path: str) -> Any:
        def get() -> None:
            response = http.get(path)
            if response.status_code != 200:
                raise RuntimeError(f"GET {path} answered {response.status_code}: not a figure")

        return get

    items = []
    for name in wanted:
        fn = getter(paths[name])
        queries = warm_queries(fn)
        items.append(
            Timed(
                name,
                fn,
                extra={
                    "queries": queries,
                    "sessions": SESSIONS,
                    "photos": 5 * SESSIONS,
                    "what": f"GET {paths[name].replace(str(client.pk), '<id>')} as a "
                    "specialist, in-process",
                },
            )
        )
    try:
        return bench.time(items)
    finally:
        audit_remove(AuditEntry.objects.filter(pk__gt=mark))
