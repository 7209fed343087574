"""Fixtures for the browser tests: Debian's Chromium driven by Playwright against live_server."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

# Playwright's sync API runs an event loop in the test thread; Django would then refuse every
# ORM call made from that thread (fixtures building data) as "async unsafe". The calls are in
# fact synchronous, so the check is switched off for the processes that run these tests.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

from django.conf import settings  # noqa: E402
from django.core.servers.basehttp import WSGIServer  # noqa: E402
from django.test.testcases import LiveServerThread  # noqa: E402
from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402

if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # On SQLite the live server's request threads all use the test database's one in-memory
    # connection; requests made at the same moment (the start page loads its widgets together)
    # would use it at once ("bad parameter or other API misuse"). There the server answers one
    # request at a time; with PostgreSQL each thread has its own connection and stays threaded.

    class _OneRequestAtATime(WSGIServer):
        def __init__(self, *args, connections_override=None, **kwargs):
            # The live server thread itself already uses the shared connection.
            super().__init__(*args, **kwargs)

    LiveServerThread.server_class = _OneRequestAtATime

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Every wait (clicks, navigation, expect) gives up after this many milliseconds.
TIMEOUT_MS = 10_000
expect.set_options(timeout=TIMEOUT_MS)


def _chromium_path() -> str | None:
    if os.path.exists(CHROMIUM):
        return CHROMIUM
    return shutil.which("chromium")


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    executable = _chromium_path()
    if executable is None:
        reason = "Chromium not installed: apt-get install chromium"
        # CI promises browser tests; a machine without the browser must not pass silently.
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, live_server) -> Iterator[Page]:
    """A fresh browser context per test (no cookies carried over), Dutch like our users.

    Console errors, uncaught script errors and failed requests (e.g. a missing stylesheet) are
    collected and fail the test at teardown.
    """
    context = browser.new_context(locale="nl-NL", base_url=live_server.url)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    problems: list[str] = []

    def on_console(message) -> None:
        if message.type == "error":
            problems.append(f"console error: {message.text} ({message.location.get('url')})")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    # A request the browser itself cancels because the page moved on (net::ERR_ABORTED, e.g. a
    # font still loading when a form is submitted) is not a problem of the page.
    page.on(
        "requestfailed",
        lambda request: (
            problems.append(f"request failed: {request.url} ({request.failure})")
            if request.failure != "net::ERR_ABORTED"
            else None
        ),
    )
    page.on(
        "response",
        lambda response: (
            problems.append(f"HTTP {response.status}: {response.url}")
            if response.status >= 400
            else None
        ),
    )
    yield page
    context.close()
    if problems:
        pytest.fail("The browser reported problems:\n" + "\n".join(problems))
