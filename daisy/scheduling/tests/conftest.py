from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _fresh_hold_limits() -> Any:
    """Hold limits are counted in the cache: every test starts with none counted."""
    cache.clear()
    yield
    cache.clear()
