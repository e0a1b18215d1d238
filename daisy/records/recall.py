"""Lot recall (issue 14 item 6; DOMAIN.md 6.2): every client treated with a lot, as a list, as
CSV, and one message to each of them in one action.

The list is one indexed query on the lot's uses (records_chartproduct_lot: lot, chart) joined
to their charts, clients and appointments, and one more for the zones of those charts, so it
costs the same whatever the number of charts in the clinic (`make bench`: lot_recall_ms, over
100,000 charted sessions)."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from daisy.audit.services import audit_record
from daisy.clients.models import Client
from daisy.lib.errors import NotFound, ValidationFailed
from daisy.notifications.services import MessageSpec, message_schedule_many
from daisy.records.models import ChartArea, ChartProduct, Lot
from daisy.records.zones import zone_label

MAX_MESSAGE = 2000


@dataclass(frozen=True)
class Treated:
    client_id: Any
    client_name: str
    client_email: str
    client_phone: str
    contact_channel: str
    appointment_id: Any
    starts_at: datetime
    performed_on: date
    zones: tuple[str, ...]
    lot_id: Any
    lot_number: str
    product: str
    is_signed: bool
    via_amendment: bool

    @property
    def zone_labels(self) -> list[str]:
        return [zone_label(z) for z in self.zones]


def lot_list(query: str = "", *, limit: int = 200) -> QuerySet[Lot]:
    """Lots, newest expiry first, with how many sessions and clients each was used for."""
    lots = Lot.objects.select_related("product").annotate(
        sessions=Count("uses", distinct=True),
        clients=Count("uses__chart__client", distinct=True),
    )
    text = query.strip()
    if text:
        lots = lots.filter(Q(number__icontains=text) | Q(product__name__icontains=text))
    return lots.order_by("-expires_on", "number")[:limit]


def lot_get(lot_id: Any) -> Lot:
    try:
        return Lot.objects.select_related("product").get(pk=lot_id)
    except (Lot.DoesNotExist, ValueError, ValidationFailed) as exc:
        raise NotFound(_("That lot does not exist.")) from exc
    except Exception as exc:  # a malformed id from the address bar
        raise NotFound(_("That lot does not exist.")) from exc


def lots_by_number(number: str) -> list[Lot]:
    """Every lot with this number (two makers may print the same one)."""
    return list(Lot.objects.select_related("product").filter(number=number.strip()))


def lot_treatments(lots: Sequence[Lot]) -> list[Treated]:
    """Every session a lot was charted for, oldest first: client, appointment, date, zones."""
    if not lots:
        return []
    uses = list(
        ChartProduct.objects.filter(lot__in=list(lots))
        .select_related("chart__client", "chart__appointment", "lot__product")
        .order_by("chart__appointment__starts_at", "pk")
    )
    zones: dict[Any, list[str]] = defaultdict(list)
    for chart_id, zone in (
        ChartArea.objects.filter(chart_id__in={u.chart_id for u in uses})
        .order_by("pk")
        .values_list("chart_id", "zone")
    ):
        zones[chart_id].append(zone)
    out = []
    for use in uses:
        chart, client = use.chart, use.chart.client
        out.append(
            Treated(
                client_id=client.pk,
                client_name=client.full_name,
                client_email=client.email,
                client_phone=client.phone,
                contact_channel=client.contact_channel,
                appointment_id=chart.appointment_id,
                starts_at=chart.appointment.starts_at,
                performed_on=chart.performed_on,
                zones=tuple(zones.get(chart.pk, ())),
                lot_id=use.lot_id,
                lot_number=use.lot.number,
                product=use.lot.product.name,
                is_signed=chart.signed_at is not None,
                via_amendment=use.amendment_id is not None,
            )
        )
    return out


def lot_treatments_csv(rows: Iterable[Treated]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "client_id",
            "client",
            "email",
            "phone",
            "appointment_id",
            "date",
            "zones",
            "product",
            "lot",
        ]
    )
    for r in rows:
        writer.writerow(
            [
                r.client_id,
                _csv_safe(r.client_name),
                _csv_safe(r.client_email),
                _csv_safe(r.client_phone),
                r.appointment_id,
                r.performed_on.isoformat(),
                " ".join(r.zones),
                _csv_safe(r.product),
                _csv_safe(r.lot_number),
            ]
        )
    return out.getvalue()


def _csv_safe(value: str) -> str:
    # A cell a spreadsheet would run as a formula is kept as text (CSV injection).
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def lot_recall_record_view(*, lot: Lot, by: Any, now: datetime, via: str, count: int) -> None:
    """The list names clients treated: reading it is reading health records, so audited."""
    audit_record(
        actor=by,
        action="lot.recall_view",
        obj=lot,
        at=now,
        data={"via": via, "lot": lot.number, "sessions": count},
        name=str(lot),
    )


def default_recall_text(lot: Lot) -> str:
    return _(
        "We are contacting you about a product used at one of your treatments with us: "
        "%(product)s, lot %(lot)s. Its supplier has asked clinics to check on the people it "
        "was used for. Please call us so we can talk it through and arrange a check-up if you "
        "would like one."
    ) % {"product": lot.product.name, "lot": lot.number}


def lot_recall_send(*, lot: Lot, text: str, by: Any, now: datetime) -> int:
    """One message to every client treated with `lot`, each once (a second recall of the same
    lot sends nothing new), by the channel they chose, enqueued in this transaction; audited.
    Returns how many clients were told."""
    text = text.strip()
    if not text:
        raise ValidationFailed(_("Write the message to send."), fields={"text": "required"})
    if len(text) > MAX_MESSAGE:
        raise ValidationFailed(
            _("Keep the message under %(n)s characters.") % {"n": MAX_MESSAGE},
            fields={"text": "too long"},
        )
    subject = _("About a product used at your treatment")
    with transaction.atomic():
        rows = lot_treatments([lot])
        clients = Client.objects.in_bulk({r.client_id for r in rows})
        seen: set[Any] = set()
        specs: list[MessageSpec] = []
        for row in rows:
            if row.client_id in seen:
                continue
            seen.add(row.client_id)
            first_name = row.client_name.split(" ")[0]
            when = row.performed_on.strftime("%d %B %Y")
            paragraphs = [
                _("Your treatment on %(day)s.") % {"day": when},
                text,
            ]
            channels = []
            if row.client_email and row.contact_channel in ("email", "both"):
                channels.append(("email", row.client_email))
            if row.client_phone and row.contact_channel in ("sms", "both"):
                channels.append(("sms", row.client_phone))
            if not channels and row.client_email:
                channels.append(("email", row.client_email))
            if not channels and row.client_phone:
                channels.append(("sms", row.client_phone))
            for channel, recipient in channels:
                specs.append(
                    MessageSpec(
                        channel=channel,
                        recipient=recipient,
                        template="generic",
                        context={"name": first_name, "subject": subject, "paragraphs": paragraphs},
                        send_after=now,
                        dedupe_key=f"lot-recall:{lot.pk}:{row.client_id}:{channel}",
                        about=f"lot:{lot.pk}",
                        client=clients.get(row.client_id),
                    )
                )
        if specs:
            message_schedule_many(messages=specs, now=now)
        audit_record(
            actor=by,
            action="lot.recall_send",
            obj=lot,
            at=now,
            data={"lot": lot.number, "clients": len(seen), "messages": len(specs)},
            name=str(lot),
        )
    return len(seen)
