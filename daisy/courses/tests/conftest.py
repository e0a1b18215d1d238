from __future__ import annotations

from typing import Any

import pytest

from daisy.courses.services import course_presets_install
from tests.support.testing import Clinic, make_clinic


@pytest.fixture
def clinic(db: Any) -> Clinic:
    # Transactional tests flush the rows migration 0002 installed; put them back.
    course_presets_install()
    return make_clinic()
