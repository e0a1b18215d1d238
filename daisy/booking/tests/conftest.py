from __future__ import annotations

from typing import Any

import pytest

from daisy.courses.services import course_presets_install
from tests.support.testing import Clinic, make_clinic


@pytest.fixture
def clinic(db: Any) -> Clinic:
    # Transactional tests flush the rows data migrations installed; put them back.
    course_presets_install()
    return make_clinic()


@pytest.fixture(autouse=True)
def site_content(db: Any) -> None:
    """The site's seeded words, for tests that walk the booking pages."""
    import importlib

    from django.apps import apps

    importlib.import_module("daisy.site.migrations.0002_seed_content").seed(apps, None)
