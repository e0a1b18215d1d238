"""Consent rules, as plain functions over plain data (DESIGN.md 1.2; DOMAIN.md 6.4).

A signed consent is bound to three things: the exact text the client read (its SHA-256 hash is
stored beside it), the version of the clinic's template it came from, and the plan it was given
for (the zones treated, the depth per zone, the products used). DOMAIN.md 6.4: "Re-confirm
consent at each session if the plan changes (depth, zone, product)"; a new template version
needs a new signature too.

The plan is `PlanFacts`. Today the course plan gives the treatment and the zones; the treatment
chart adds depth per zone and products when it has them (`plan_facts_merge`). What a client
agreed to covers doing less, never more: a zone or product added, or a deeper setting at a zone
than the depth consented, makes the consent out of date; a zone dropped does not.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum


class Kind(StrEnum):
    """What a consent is for. Photos are separate and each optional (DOMAIN.md 6.4, 6.6)."""

    TREATMENT = "treatment"
    PHOTOS_RECORD = "photos_record"
    PHOTOS_MARKETING = "photos_marketing"


class State(StrEnum):
    SIGNED = "signed"  # signed, not withdrawn, for the current template version and plan
    MISSING = "missing"  # never signed, or withdrawn
    OUT_OF_DATE = "out_of_date"  # signed, but the template or the plan changed since
    NOT_NEEDED = "not_needed"  # the clinic asks no consent for this treatment


def document_hash(text: str) -> str:
    """SHA-256 (hex) of the exact text, as UTF-8. Nothing is normalised: the hash is of what
    was shown, so a changed space is a changed document."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _depth(value: object) -> str:
    """A depth in mm as a canonical string ("1.5", "0.25"), so 1.50 and 1.5 are one depth."""
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValueError(f"not a depth: {value!r}") from None
    if not number.is_finite() or number < 0:
        raise ValueError(f"not a depth: {value!r}")
    text = format(number.normalize(), "f")
    return text


def _key(value: str) -> str:
    return " ".join(str(value).split()).casefold()


@dataclass(frozen=True)
class PlanFacts:
    """What a treatment consent is given for. Zones and products are compared by name (case
    and spacing aside); `depths` maps a zone to its depth in mm (a canonical string)."""

    treatment: str = ""
    zones: frozenset[str] = frozenset()
    depths: Mapping[str, str] = field(default_factory=dict)
    products: frozenset[str] = frozenset()

    def as_dict(self) -> dict[str, object]:
        return {
            "treatment": self.treatment,
            "zones": sorted(self.zones),
            "depths": dict(sorted(self.depths.items())),
            "products": sorted(self.products),
        }


def plan_facts(
    *,
    treatment: str,
    zones: Iterable[str] = (),
    depths: Mapping[str, object] | None = None,
    products: Iterable[str] = (),
) -> PlanFacts:
    """Facts from loose input: names tidied, depths made canonical, a zone with a depth is a
    zone. Raises ValueError for a depth that is not a non-negative number."""
    canonical = {_key(z): _depth(d) for z, d in (depths or {}).items() if str(z).strip()}
    return PlanFacts(
        treatment=_key(treatment),
        zones=frozenset({_key(z) for z in zones if str(z).strip()} | set(canonical)),
        depths=canonical,
        products=frozenset(_key(p) for p in products if str(p).strip()),
    )


def plan_facts_from(data: Mapping[str, object] | None) -> PlanFacts:
    """Facts as stored (`PlanFacts.as_dict`) back into facts; empty for nothing stored."""
    if not data:
        return PlanFacts()
    zones = data.get("zones") or []
    products = data.get("products") or []
    depths = data.get("depths") or {}
    return plan_facts(
        treatment=str(data.get("treatment") or ""),
        zones=[str(z) for z in zones] if isinstance(zones, list) else [],
        depths={str(k): v for k, v in depths.items()} if isinstance(depths, dict) else {},
        products=[str(p) for p in products] if isinstance(products, list) else [],
    )


def plan_facts_merge(base: PlanFacts, more: PlanFacts) -> PlanFacts:
    """The plan with what the chart adds (depths, products, zones); `more` wins on a depth."""
    return PlanFacts(
        treatment=base.treatment or more.treatment,
        zones=base.zones | more.zones,
        depths={**base.depths, **more.depths},
        products=base.products | more.products,
    )


def plan_fingerprint(facts: PlanFacts) -> str:
    """SHA-256 (hex) of the facts in one canonical JSON form: equal plans, equal fingerprints,
    whatever order or spelling of spacing they were given in."""
    canonical = json.dumps(facts.as_dict(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Change:
    """One way the plan now goes beyond what was consented. `what`: zone, depth, product,
    treatment."""

    what: str
    zone: str = ""
    name: str = ""
    before: str = ""
    after: str = ""


def plan_changes(signed: PlanFacts, now: PlanFacts) -> tuple[Change, ...]:
    """What the plan now does that the signed consent did not cover, in a stable order."""
    changes: list[Change] = []
    if signed.treatment and now.treatment and signed.treatment != now.treatment:
        changes.append(Change("treatment", before=signed.treatment, after=now.treatment))
    for zone in sorted(now.zones - signed.zones):
        changes.append(Change("zone", zone=zone))
    for zone in sorted(now.zones & signed.zones):
        before, after = signed.depths.get(zone), now.depths.get(zone)
        if before is not None and after is not None and Decimal(after) > Decimal(before):
            changes.append(Change("depth", zone=zone, before=before, after=after))
    for product in sorted(now.products - signed.products):
        changes.append(Change("product", name=product))
    return tuple(changes)


@dataclass(frozen=True)
class Signed:
    """A signed consent as the rules see it."""

    template_version: int
    plan: PlanFacts
    is_withdrawn: bool = False


@dataclass(frozen=True)
class Status:
    state: State
    # Why it is out of date: the template version moved on, and/or what the plan added.
    template_changed: bool = False
    changes: tuple[Change, ...] = ()
    signed_version: int | None = None
    current_version: int | None = None


def consent_state(
    signed: Signed | None, *, current_version: int | None, plan: PlanFacts | None = None
) -> Status:
    """The state of a consent against the clinic's current template version (None: the clinic
    asks none) and, for a treatment consent, the plan of the session (None: not compared)."""
    if current_version is None:
        return Status(State.NOT_NEEDED)
    if signed is None or signed.is_withdrawn:
        return Status(State.MISSING, current_version=current_version)
    changed = signed.template_version != current_version
    changes = plan_changes(signed.plan, plan) if plan is not None else ()
    if changed or changes:
        return Status(
            State.OUT_OF_DATE,
            template_changed=changed,
            changes=changes,
            signed_version=signed.template_version,
            current_version=current_version,
        )
    return Status(
        State.SIGNED, signed_version=signed.template_version, current_version=current_version
    )
