"""Playwright fixtures: Debian's Chromium driving a real daphne server and django-q2 worker.

Playwright's own browser download does not work on these machines, so the system
Chromium is launched through ``executable_path``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from tests.conftest import FlowsiteProcess, flowsite_env, skip_or_fail
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


@pytest.fixture(scope="module")
def worker(django_db_setup: Any, django_db_blocker: Any) -> Iterator[FlowsiteProcess]:
    """tests/conftest.py's worker, with a log file of this queue's own.

    start_worker() logs to data/test-worker.log and waits for "running" in it; a suite
    run at the same time on another queue truncates that file, so readiness was missed.
    """
    name = f"{settings.Q_CLUSTER['name']}-worker"
    process = FlowsiteProcess(
        ["manage.py", "qcluster"], flowsite_env(FLOWSITE_QUEUE_LOG_LEVEL="INFO"), name
    )
    try:
        process.wait_for(lambda: "running" in process.log_path.read_text(), "django-q2 cluster")
    except BaseException:
        process.stop()
        raise
    yield process
    process.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        skip_or_fail(f"No Chromium at {CHROMIUM}: install Debian's chromium package")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("The playwright package is not installed")
    with sync_playwright() as playwright:
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
