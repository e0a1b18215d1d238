"""Who is asking, by network address: the client's address as a request shows it, the network it
belongs to, and a fixed-window counter in Django's cache for limits keyed on either.

The address is REMOTE_ADDR unless settings.DAISY_CLIENT_ADDRESS_HEADER names the header a
trusted reverse proxy sets (any caller can send such a header, so it is read only when the
operator says a proxy writes it). No business rules: what is limited, and how much, is the
caller's."""

from __future__ import annotations

import hashlib
import ipaddress
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache

UNKNOWN = "unknown"
# One household, office or small provider's customers share an IPv4 /24; an IPv6 /64 is what one
# subscriber (often one device) is given, so counting single IPv6 addresses would count nothing.
IPV4_NETWORK = 24
IPV6_NETWORK = 64


def _parsed(raw: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = (raw or "").strip()
    if text.startswith("[") and "]" in text:  # "[2001:db8::1]:443"
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # "203.0.113.9:443"
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def client_address(request: Any) -> str:
    """The client's address as text ("unknown" when none can be read)."""
    meta = getattr(request, "META", {}) or {}
    header = (getattr(settings, "DAISY_CLIENT_ADDRESS_HEADER", "") or "").strip()
    if header:
        name = "HTTP_" + header.upper().replace("-", "_")
        hops = [part.strip() for part in str(meta.get(name, "")).split(",") if part.strip()]
        count = max(1, int(getattr(settings, "DAISY_PROXY_COUNT", 1) or 1))
        if len(hops) >= count:
            forwarded = _parsed(hops[-count])
            if forwarded is not None:
                return str(forwarded)
    remote = _parsed(str(meta.get("REMOTE_ADDR") or ""))
    return str(remote) if remote is not None else UNKNOWN


def address_network(address: str) -> str:
    """The network an address belongs to for counting: IPv4 /24, IPv6 /64; anything that is not
    an address is its own network."""
    parsed = _parsed(address)
    if parsed is None:
        return address or UNKNOWN
    prefix = IPV4_NETWORK if parsed.version == 4 else IPV6_NETWORK
    return str(ipaddress.ip_network(f"{parsed}/{prefix}", strict=False))


def window_hit(scope: str, ident: str, *, period_seconds: int, now: datetime) -> int:
    """Count one hit for `ident` in the current fixed window of `scope` and return the window's
    count so far. Atomic where the cache is (cache.add, then incr). `now` picks the window, so
    callers that pass time in are testable; the entry itself expires in real time."""
    period = max(1, int(period_seconds))
    window = int(now.timestamp() // period)
    digest = hashlib.sha256(ident.encode("utf-8")).hexdigest()[:32]
    key = f"daisy:window:{scope}:{digest}:{window}"
    if cache.add(key, 1, timeout=period + 1):
        return 1
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=period + 1)
        return 1
