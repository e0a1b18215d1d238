"""Lot recall over 100,000 charted sessions (issue 14 item 6, "make bench").

A records clinic is built once in each engine's bench database and kept (its location's slug
carries the generator's version, so a changed generator builds a new one): 20,000 clients and
100,000 completed micro-needling sessions over three years before config.NOW, each with a
signed chart of 2 to 5 zones and its lots, as a clinic receives them:

* a new single-use cartridge lot every session (100,000 lots of one use each);
* numbing cream, glide serum and post-procedure gel lots that each last about two weeks of
  sessions (a few hundred sessions per lot), with a second supplier's product alongside;
* so about 400,000 lot uses and 350,000 charted zones.

Rows are inserted in bulk (the charts unsigned first, then signed in one UPDATE: the database
refuses zones and lots added to a signed chart); the records services are not timed here, the
recall is.

Figure:
  lot_recall_ms   what the desk's recall page and GET /api/v1/lots/{lot}/treatments do: find
                  the lots with a printed number, list every session charted with them (client,
                  appointment, date, zones) and write the CSV. Timed round-robin over 60
                  different lots (40 multi-use lots of a few hundred sessions, 20 single-use
                  cartridges), so no answer is a repeat of the one before. Target: p95 < 1 s.
"""

from __future__ import annotations

import random
import uuid
from datetime import datetime, time, timedelta
from decimal import Decimal
from time import perf_counter
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from bench import config
from bench.figures import Bench, Timed
from daisy.accounts.models import Role, User
from daisy.clients.models import Client
from daisy.clinic.models import Location
from daisy.records.models import Chart, ChartArea, ChartProduct, Lot, Product
from daisy.records.recall import lot_treatments, lot_treatments_csv, lots_by_number
from daisy.records.zones import ZONE_KEYS
from daisy.scheduling.models import Appointment, Status

FIGURES = ("lot_recall_ms",)
GENERATOR = 1
SLUG = f"bench-records-v{GENERATOR}"
SESSIONS = 100_000
CLIENTS = 20_000
YEARS = 3
# Sessions per multi-use lot: a tube or bottle lot lasts about two weeks of a busy clinic.
PER_LOT = {"numbing": 600, "glide": 450, "post_care": 750}
BATCH = 2_000
CHUNK = 10_000
SEED = 140614


def _built() -> Location | None:
    return Location.objects.filter(slug=SLUG).first()


def _build(bench: Bench) -> Location:
    started = perf_counter()
    rng = random.Random(SEED)
    treatment = bench.treatment
    with transaction.atomic():
        location = Location.objects.create(
            name="Bench records clinic",
            slug=SLUG,
            address_line1="2 Bench Street",
            city="London",
            postcode="N1 1AA",
            time_zone=config.TIME_ZONE,
        )
        clients = [
            Client(
                id=uuid.uuid4(),
                first_name=f"Rec{n}",
                last_name=f"Client{n:05d}",
                email=f"records{n}@example.com",
                email_key=f"records{n}@example.com",
                phone=f"+4477009{n % 100000:05d}",
                phone_key=f"+4477009{n % 100000:05d}",
            )
            for n in range(CLIENTS)
        ]
        Client.objects.bulk_create(clients, batch_size=BATCH)
        products = {
            kind: [
                Product.objects.create(kind=kind, name=f"Bench {kind} {k}", is_single_use=False)
                for k in ("A", "B")
            ]
            for kind in PER_LOT
        }
        cartridge = Product.objects.create(
            kind="cartridge", name="Bench 14-pin cartridge", is_single_use=True
        )
        signer = User.objects.create(
            username=f"{SLUG}-signer", password=make_password(None), role=Role.SPECIALIST
        )
        first_day = config.NOW.date() - timedelta(days=365 * YEARS)
        span_days = 365 * YEARS - 1
        tz = bench.tz
        # Sessions in date order, spread over the three years; each multi-use lot covers a run
        # of consecutive sessions, as stock is used up in order. Written a chunk at a time, so
        # memory stays small.
        days = sorted(rng.randrange(span_days) for _ in range(SESSIONS))
        lots: dict[tuple[str, int, int], Lot] = {}
        counts = {"areas": 0, "uses": 0, "lots": 0}
        for chunk in range(0, SESSIONS, CHUNK):
            new_lots: list[Lot] = []
            appointments: list[Appointment] = []
            charts: list[Chart] = []
            areas: list[ChartArea] = []
            uses: list[ChartProduct] = []
            for n in range(chunk, min(chunk + CHUNK, SESSIONS)):
                day = first_day + timedelta(days=days[n])
                start = datetime.combine(day, time(9 + n % 9, 15 * (n % 4)), tzinfo=tz)
                client = clients[rng.randrange(CLIENTS)]
                appt = Appointment(
                    id=uuid.uuid4(),
                    client=client,
                    treatment=treatment,
                    location=location,
                    starts_at=start,
                    ends_at=start + timedelta(minutes=80),
                    busy_until=start + timedelta(minutes=95),
                    status=Status.COMPLETED,
                    price=treatment.price,
                    created_at=config.NOW,
                    updated_at=config.NOW,
                )
                appointments.append(appt)
                chart = Chart(
                    id=uuid.uuid4(),
                    appointment=appt,
                    client=client,
                    performed_on=day,
                    cartridge_opened_at_chair=True,
                    skin_type=1 + rng.randrange(6),
                    created_at=config.NOW,
                    updated_at=config.NOW,
                )
                charts.append(chart)
                for zone in rng.sample(ZONE_KEYS, 2 + rng.randrange(4)):
                    areas.append(
                        ChartArea(
                            chart=chart,
                            zone=zone,
                            depth_mm=Decimal(rng.choice(("0.25", "0.50", "0.75", "1.00", "1.50"))),
                            passes=2 + rng.randrange(3),
                            pattern="crosshatch",
                            endpoint="erythema" if rng.random() < 0.7 else "pinpoint_bleeding",
                        )
                    )
                single = Lot(
                    id=uuid.uuid4(),
                    product=cartridge,
                    number=f"CRT-{n:06d}",
                    expires_on=day + timedelta(days=700),
                )
                new_lots.append(single)
                uses.append(ChartProduct(chart=chart, lot=single))
                for kind, per in PER_LOT.items():
                    if kind == "glide" and rng.random() < 0.2:
                        continue  # not every session uses a serum
                    which = rng.randrange(2)  # two suppliers' products in use side by side
                    key = (kind, which, n // per)
                    lot = lots.get(key)
                    if lot is None:
                        lot = lots[key] = Lot(
                            id=uuid.uuid4(),
                            product=products[kind][which],
                            number=f"{kind[:3].upper()}{which}-{n // per:04d}",
                            expires_on=day + timedelta(days=540),
                        )
                        new_lots.append(lot)
                    amount = "4 g" if kind == "numbing" else ""
                    uses.append(ChartProduct(chart=chart, lot=lot, amount=amount))
            Appointment.objects.bulk_create(appointments, batch_size=BATCH)
            Lot.objects.bulk_create(new_lots, batch_size=BATCH)
            Chart.objects.bulk_create(charts, batch_size=BATCH)
            ChartArea.objects.bulk_create(areas, batch_size=BATCH)
            ChartProduct.objects.bulk_create(uses, batch_size=BATCH)
            counts["areas"] += len(areas)
            counts["uses"] += len(uses)
            counts["lots"] += len(new_lots)
        # Signed last: zones and lots may not be added to a signed chart (migration 0004).
        Chart.objects.filter(appointment__location=location).update(
            signed_at=config.NOW, signed_by=signer
        )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    bench.log(
        f"  records clinic: {SESSIONS} charts, {counts['areas']} zones, {counts['uses']} lot "
        f"uses, {counts['lots']} lots in {perf_counter() - started:.1f}s"
    )
    return location


def _lot_numbers(location: Location) -> list[str]:
    """60 lots to ask about, spread over the three years: 40 multi-use, 20 cartridges."""
    rng = random.Random(SEED + 1)
    multi = list(
        Lot.objects.exclude(product__kind="cartridge")
        .filter(product__name__startswith="Bench ")
        .order_by("number")
        .values_list("number", flat=True)
    )
    singles = [f"CRT-{rng.randrange(SESSIONS):06d}" for _ in range(20)]
    return rng.sample(multi, min(40, len(multi))) + singles


def run(bench: Bench) -> dict[str, Any]:
    if not bench.wanted("lot_recall_ms"):
        return {}
    location = _built()
    if location is None:
        bench.log("  building the records clinic (100,000 charted sessions; kept for next runs)")
        location = _build(bench)
    numbers = _lot_numbers(location)
    turn = [0]
    sizes: list[int] = []

    def recall() -> None:
        number = numbers[turn[0] % len(numbers)]
        turn[0] += 1
        rows = lot_treatments(lots_by_number(number))
        lot_treatments_csv(rows)
        sizes.append(len(rows))

    with CaptureQueriesContext(connection) as captured:
        recall()
    queries = len(captured.captured_queries)
    multi_sizes = [len(lot_treatments(lots_by_number(n))) for n in numbers[:40:8]]
    out = bench.time(
        [
            Timed(
                "lot_recall_ms",
                recall,
                {
                    "sessions_charted": Chart.objects.filter(
                        appointment__location=location
                    ).count(),
                    "lots_asked": len(numbers),
                    "queries": queries,
                    "sessions_per_multi_use_lot_sample": multi_sizes,
                    "what": "lots_by_number + lot_treatments + CSV, rotating over 60 lots "
                    "(40 multi-use of a few hundred sessions each, 20 single-use cartridges)",
                },
            )
        ]
    )
    return out
