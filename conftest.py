"""Repository-wide pytest plugins: the browser fixtures (browser_page, live_url, shot,
assert_accessible) are available to every app's tests."""

import os

from django.conf import settings

pytest_plugins = ["tests.support.browser"]

# Tests (and the servers and workers they start) use Ofcom's drama range, +44 7700 900xxx,
# which a clinic's own site refuses.
os.environ["DAISY_PHONE_TEST_NUMBERS"] = "1"
settings.DAISY_PHONE_TEST_NUMBERS = True
