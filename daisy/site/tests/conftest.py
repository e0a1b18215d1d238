from __future__ import annotations

import importlib
from typing import Any

import pytest
from django.apps import apps
from django.core.cache import cache


@pytest.fixture
def site_content() -> None:
    """The site's seeded words and prices (migrations 0002 and 0004). Tests on a transactional
    database need this: the flush after each such test empties every table, migration data
    included."""
    for name in ("0002_seed_content", "0004_seed_privacy_terms_prices"):
        importlib.import_module(f"daisy.site.migrations.{name}").seed(apps, None)


@pytest.fixture(autouse=True)
def _fresh_hold_limits() -> Any:
    """Hold limits are counted in the cache per client address (all tests come from
    127.0.0.1): every test starts with none counted."""
    cache.clear()
    yield
    cache.clear()
