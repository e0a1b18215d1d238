"""Browser-test fixtures (a pytest plugin, registered in the repository's conftest.py).

Playwright's sync API drives Debian's `chromium` package headless against pytest-django's
`live_server`. One browser for the whole run, and the browser tests run last: launching and
closing Chromium is the costly (and, once seen, hanging) part on a small machine, and Playwright's
event loop then never shares the main thread with the rest of the suite. Each test gets a fresh
context, so cookies and sessions never leak between tests.

Without a browser the tests are skipped on a laptop and fail under CI=true: a CI run that
silently skipped the browser suite would claim coverage it does not have (issue 4, item 7).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("DAISY_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
# axe-core impact levels that fail a test (issue 4, item 8: zero serious or critical).
BLOCKING_IMPACTS = frozenset({"serious", "critical"})
_CSP_MESSAGE = re.compile(r"Content Security Policy|Refused to (execute|apply|load)", re.I)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests last (stable order otherwise): see the module's docstring."""

    def uses_browser(item: pytest.Item) -> bool:
        names = getattr(item, "fixturenames", ())
        return item.get_closest_marker("browser") is not None or "browser" in names

    items.sort(key=uses_browser)


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def _no_browser(reason: str) -> None:
    if _in_ci():
        pytest.fail(f"CI=true and {reason}: the browser suite must run in CI.", pytrace=False)
    pytest.skip(reason)


def screenshot_dir() -> Path:
    from django.conf import settings

    path = Path(settings.VAR_DIR) / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        _no_browser(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - the dev extra installs it
        _no_browser("Playwright is not installed")
    # Playwright's sync API keeps an asyncio loop on this thread; Django refuses ORM calls from a
    # thread with a running loop unless told it is safe. Here it is: the loop only talks to the
    # browser, and the test's own queries still run one at a time on this thread.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as pw:
            chromium = pw.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
            )
            try:
                yield chromium
            finally:
                chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def new_page(browser: Any, *, viewport: dict[str, int] | None = None, **context: Any) -> Any:
    """A page in its own context, failing the test if the page breaks the CSP or throws.

    Use this for a second, independent visitor in the same test (two clients racing)."""
    ctx = browser.new_context(viewport=viewport or DESKTOP, locale="en-GB", **context)
    ctx.set_default_timeout(15_000)
    page = ctx.new_page()
    problems: list[str] = []
    page.on(
        "console",
        lambda msg: (
            problems.append(msg.text)
            if msg.type == "error" and _CSP_MESSAGE.search(msg.text)
            else None
        ),
    )
    page.on("pageerror", lambda exc: problems.append(f"JavaScript error: {exc}"))
    page.daisy_problems = problems  # type: ignore[attr-defined]
    return page


def close_page(page: Any) -> None:
    problems = list(page.daisy_problems)
    page.context.close()
    assert not problems, "The page broke its Content Security Policy or threw:\n" + "\n".join(
        problems
    )


@pytest.fixture
def browser_page(browser: Any) -> Iterator[Any]:
    """A desktop-sized page (1280x800). `page.set_viewport_size(PHONE)` for a phone."""
    page = new_page(browser)
    yield page
    close_page(page)


@pytest.fixture
def live_url(live_server: Any) -> str:
    """The live server's base URL, without a trailing slash."""
    return str(live_server.url).rstrip("/")


def shot(page: Any, name: str) -> Path:
    """Save a full-page screenshot as var/screenshots/<name>.png (a test artefact)."""
    path = screenshot_dir() / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def accessibility_violations(page: Any) -> list[dict[str, Any]]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        v for v in results.response.get("violations", []) if v.get("impact") in BLOCKING_IMPACTS
    ]


def assert_accessible(page: Any) -> None:
    """axe-core on the page as it is now: no serious or critical violations."""
    violations = accessibility_violations(page)
    if violations:
        lines = []
        for v in violations:
            targets = ", ".join(" ".join(n.get("target", [])) for n in v.get("nodes", [])[:5])
            lines.append(f"- [{v['impact']}] {v['id']}: {v['help']} ({targets})")
        pytest.fail(f"Accessibility problems on {page.url}:\n" + "\n".join(lines), pytrace=False)


def staff_sign_in(page: Any, live_url: str, user: Any, *, next_url: str = "/admin/") -> None:
    """Sign a staff member in through the staff sign-in page, as they do: username, password
    (the factories' "pw-test-123") and the code their authenticator app shows now (issue 16)."""
    from tests.support.testing import authenticator_code

    page.goto(f"{live_url}/account/staff/sign-in/?next={next_url}")
    page.get_by_label("Username").fill(user.get_username())
    page.get_by_label("Password").fill("pw-test-123")
    page.get_by_label("Code from your authenticator app").fill(authenticator_code(user))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**{next_url}")
