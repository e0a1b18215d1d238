"""Repository-wide pytest plugins: the browser fixtures (browser_page, live_url, shot,
assert_accessible) are available to every app's tests."""

import os

import pytest
from django.conf import settings
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

pytest_plugins = ["tests.support.browser"]


@pytest.fixture(autouse=True)
def _fresh_caches() -> None:
    """Each test starts with empty caches (the in-process ones and Django's). The cached
    set-up is keyed by the database's set-up stamp; a test's rolled-back transaction puts the
    stamp it started with back, so the next test could be answered from what an earlier one
    built."""
    from django.core.cache import cache

    from daisy.scheduling.selectors import caches_clear

    caches_clear()
    if "locmem" in settings.CACHES["default"]["BACKEND"]:  # never flush a real (shared) Redis
        cache.clear()


# Tests (and the servers and workers they start) use Ofcom's drama range, +44 7700 900xxx,
# which a clinic's own site refuses.
os.environ["DAISY_PHONE_TEST_NUMBERS"] = "1"
settings.DAISY_PHONE_TEST_NUMBERS = True

# Passwords made in tests are hashed with MD5 (Django's advice for test runs): the shipped
# Argon2 costs about 0.2 s of CPU per hash, and every test clinic makes four staff logins, which
# was most of the suite's time. Argon2 and PBKDF2 stay listed so their hashes still verify
# (test_client_accounts checks a real sign-up with daisy.settings' own list).
settings.PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    *settings.PASSWORD_HASHERS,
]

# Property tests judge behaviour, never speed: Hypothesis's per-example deadline and its "input
# generation is slow" check are timing assertions that fail on a busy CI machine (they did), so
# the suite turns them off once here. Speed is measured in `make bench`.
hypothesis_settings.register_profile(
    "daisy", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.load_profile("daisy")
