"""Daisy's WSGI application for the HTTP bench (plus bench/urls.py's one-query yardstick),
with the clock moved to the bench data set's `now` (DAISY_BENCH_NOW, RFC 3339) and ticking from
there.

The data set lies years ahead (bench/config.py: START, NOW), beyond the staff booking horizon
from today's date. Tests move the clock with time-machine; in a server process the same is done
by shifting `django.utils.timezone.now`, which is how Daisy reads the clock everywhere
(DESIGN.md 8: nothing reads the clock directly). It adds one addition per call."""

from __future__ import annotations

import os
from datetime import datetime

from django.utils import timezone

_real_now = timezone.now
_offset = datetime.fromisoformat(os.environ["DAISY_BENCH_NOW"]) - _real_now()


def _bench_now() -> datetime:
    return _real_now() + _offset


timezone.now = _bench_now  # before Django loads the apps, so every later import sees it

from django.conf import settings  # noqa: E402

# Daisy's URLs plus the bench's one-query yardstick (bench/urls.py).
settings.ROOT_URLCONF = "bench.urls"

from daisy.wsgi import application  # noqa: E402

__all__ = ["application"]
