from __future__ import annotations

import importlib

import pytest
from django.apps import apps


@pytest.fixture
def site_content() -> None:
    """The site's seeded words (migration 0002). Tests on a transactional database need this:
    the flush after each such test empties every table, migration data included."""
    seed = importlib.import_module("daisy.site.migrations.0002_seed_content").seed
    seed(apps, None)
