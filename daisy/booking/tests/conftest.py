from __future__ import annotations

from typing import Any

import pytest

from daisy.courses.services import course_presets_install
from daisy.lib.testing import Clinic, make_clinic


@pytest.fixture
def clinic(db: Any) -> Clinic:
    # Transactional tests flush the rows data migrations installed; put them back.
    course_presets_install()
    return make_clinic()
