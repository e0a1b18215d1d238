"""Repository-wide pytest plugins: the browser fixtures (browser_page, live_url, shot,
assert_accessible) are available to every app's tests."""

pytest_plugins = ["daisy.lib.browser"]
