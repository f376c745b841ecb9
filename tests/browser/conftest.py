"""Playwright (sync API) driving Debian's chromium against pytest-django's live_server.

Playwright never downloads a browser here: the tests use /usr/bin/chromium (``apt-get install
chromium``). Without it they fail in CI (CI=true) and are skipped elsewhere.

While Playwright's sync API is started, an asyncio loop runs in this thread, and Django refuses ORM
calls from it unless DJANGO_ALLOW_ASYNC_UNSAFE is set. The ``browser`` fixture sets that variable
only for as long as the browser runs (this package's tests) and puts it back afterwards: left set,
it would leak into every later test and its subprocesses (``manage.py check --deploy`` rejects it,
async.E001), and a browser kept for the whole session would keep the loop running under them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path(os.environ.get("ENGAGE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
TIMEOUT_MS = 10_000


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


ENVIRONMENT = {"DJANGO_ALLOW_ASYNC_UNSAFE": "true", "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD": "1"}


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    """One chromium for all the browser tests (launched once: about a second)."""
    if not CHROMIUM.exists():
        message = (f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium). "
                   "Never `playwright install`.")
        if _in_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    saved = {name: os.environ.get(name) for name in ENVIRONMENT}
    os.environ.update(ENVIRONMENT)
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield instance
        instance.close()
    finally:
        playwright.stop()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class Console:
    """What went wrong in the page, for assert_clean(): console errors (a CSP violation is one),
    uncaught script errors, and responses of 400 or more (by URL)."""

    # Chrome's own line for a failed response carries no URL; the response listener names it instead.
    DUPLICATE = re.compile(r"^Failed to load resource")

    def __init__(self) -> None:
        self.errors: list[str] = []

    def attach(self, page: Any) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(f"script error: {exc}"))
        page.on("response", self._response)

    def _console(self, msg: Any) -> None:
        if msg.type == "error" and not self.DUPLICATE.search(msg.text):
            self.errors.append(f"console: {msg.text}")

    def _response(self, response: Any) -> None:
        if response.status >= 400:
            self.errors.append(f"HTTP {response.status}: {response.request.method} {response.url}")

    def assert_clean(self, *, allow: tuple[str, ...] = ()) -> None:
        """``allow``: substrings of errors this page is expected to produce."""
        real = [e for e in self.errors if not any(a in e for a in allow)]
        assert not real, "the browser reported errors:\n" + "\n".join(real)


def open_page(browser: Any, viewport: dict[str, int]) -> tuple[Any, Any, Console]:
    context = browser.new_context(viewport=viewport, locale="en-GB")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    console = Console()
    console.attach(page)
    page.console = console
    return context, page, console


@pytest.fixture
def page(browser: Any, live_server: Any) -> Iterator[Any]:
    """A desktop-sized page in a fresh context (no cookies). ``page.console.assert_clean()`` checks errors."""
    context, new_page, _console = open_page(browser, DESKTOP)
    yield new_page
    context.close()


@pytest.fixture
def phone_page(browser: Any, live_server: Any) -> Iterator[Any]:
    context, new_page, _console = open_page(browser, PHONE)
    yield new_page
    context.close()


def sign_in(page: Any, live_server: Any, email: str, password: str) -> None:
    """Sign in through the form, and wait for the page after it."""
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()


def sign_out(page: Any) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name="Sign out").click()


def shot(page: Any, artifacts_dir: Path, name: str) -> Path:
    path = artifacts_dir / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def ensure_playbook_library() -> None:
    """Migration 0002 loads the shipped playbook; a transactional test's flush may have emptied it."""
    from campaigns.models import PlaybookTemplate
    from campaigns.playbook_library import LIBRARY

    for item in LIBRARY:
        PlaybookTemplate.objects.get_or_create(
            team=None, title=item["title"], language="en",
            defaults={"body": item["body"], "phase": item["phase"], "event_kind": item["event_kind"],
                      "purpose": item["purpose"],
                      "urgency": "emergency" if item["purpose"] == "emergency" else "routine"})
