"""The client's address as the hold limits see it: REMOTE_ADDR, unless the operator says a proxy
sets a header (anyone can send one), and the network it belongs to."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache
from django.test import RequestFactory

from daisy.lib.addresses import address_network, client_address, window_hit


def request(remote="198.51.100.7", **headers):
    return RequestFactory().get("/", REMOTE_ADDR=remote, headers=headers)


def test_the_address_is_remote_addr_and_a_forwarded_header_is_ignored_unless_configured():
    assert client_address(request()) == "198.51.100.7"
    assert client_address(request(**{"X-Forwarded-For": "203.0.113.9"})) == "198.51.100.7"
    assert client_address(request(remote="")) == "unknown"
    assert client_address(request(remote="not an address")) == "unknown"


def test_a_configured_proxy_header_gives_the_address_the_proxy_saw(settings):
    settings.DAISY_CLIENT_ADDRESS_HEADER = "X-Forwarded-For"
    # The client may put anything on the left; the proxy appends what it saw on the right.
    spoofed = {"X-Forwarded-For": "1.2.3.4, 203.0.113.9"}
    assert client_address(request(**spoofed)) == "203.0.113.9"
    settings.DAISY_PROXY_COUNT = 2
    assert client_address(request(**spoofed)) == "1.2.3.4"
    settings.DAISY_PROXY_COUNT = 3  # fewer entries than proxies: the header is not trusted
    assert client_address(request(**spoofed)) == "198.51.100.7"
    settings.DAISY_PROXY_COUNT = 1
    for junk in ("", "garbage", ", ,", "x" * 5000, "203.0.113.9\n, evil"):
        assert client_address(request(**{"X-Forwarded-For": junk})) == "198.51.100.7"
    assert client_address(request(**{"X-Forwarded-For": "[2001:db8::1]:443"})) == "2001:db8::1"


@pytest.mark.parametrize(
    ("address", "network"),
    [
        ("203.0.113.9", "203.0.113.0/24"),
        ("::ffff:203.0.113.9", "203.0.113.0/24"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("unknown", "unknown"),
        ("", "unknown"),
    ],
)
def test_networks_are_ipv4_slash_24_and_ipv6_slash_64(address, network):
    assert address_network(address) == network


def test_window_hits_count_up_within_a_window_and_start_again_in_the_next():
    cache.clear()
    now = datetime(2030, 1, 7, 10, 0, 30, tzinfo=UTC)
    assert [window_hit("t", "a", period_seconds=60, now=now) for _ in range(3)] == [1, 2, 3]
    assert window_hit("t", "b", period_seconds=60, now=now) == 1
    assert window_hit("t", "a", period_seconds=60, now=now + timedelta(seconds=60)) == 1
    cache.clear()
