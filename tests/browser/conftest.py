"""Playwright fixtures: Debian's Chromium driving a real daphne server and django-q2 worker.

Playwright's own browser download does not work on these machines, so the system
Chromium is launched through ``executable_path``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FlowsiteProcess, skip_or_fail
from tests.personas import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
VIEWPORT = {"width": 1280, "height": 900}


@pytest.fixture(autouse=True)
def fast_passwords() -> None:
    """Keeps the real hashers: daphne, in its own process, must verify alice's password."""


@pytest.fixture(scope="module")
def browser(server_url: str, worker: FlowsiteProcess) -> Iterator[Any]:
    """Chromium, launched once the Flowsite processes run.

    Playwright's sync API keeps an asyncio loop running on this thread, where Django then
    refuses ORM calls; the flag lifts that for this process only. The server and worker
    are started first so that they do not inherit it through flowsite_env().
    """
    if not CHROMIUM.exists():
        skip_or_fail(f"No Chromium at {CHROMIUM}: install Debian's chromium package")
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        skip_or_fail("The playwright package is not installed")
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        # Runs wait on real containers; a machine busy with other suites needs slack.
        expect.set_options(timeout=15_000)
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def browser_context(browser: Any, server_url: str) -> Iterator[Any]:
    """A fresh profile per test: no cookie or session leaks from one test to the next."""
    context = browser.new_context(base_url=server_url, viewport=VIEWPORT)
    context.set_default_timeout(15_000)
    yield context
    context.close()


@pytest.fixture
def page(browser_context: Any, alice: Any) -> Any:
    """A tab in which alice has logged in through the real login page."""
    from playwright.sync_api import expect

    page = browser_context.new_page()
    page.goto("/login/")
    page.get_by_label("Username").fill(alice.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("header.top")).to_contain_text(alice.username)
    return page


DOCS = Path(__file__).resolve().parents[2] / "docs"


def screenshot_when_asked(page: Any, name: str, **options: Any) -> bool:
    """docs/<name>, the README's picture, rewritten only when FLOWSITE_SCREENSHOT=1:
    ``FLOWSITE_SCREENSHOT=1 make test-embedded`` (or one test) redraws them all."""
    if os.environ.get("FLOWSITE_SCREENSHOT") != "1":
        return False
    DOCS.mkdir(exist_ok=True)
    page.screenshot(path=str(DOCS / name), **options)
    return True
