"""The log view of a run that printed a million lines: light to open and to use.

The lines are written straight into the database (benchmarks/log_rows.py), as real rows;
Chromium opens the page on a real daphne server."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from executions.live import execution_wake
from executions.models import Execution, LogLine, State
from tests.browser.conftest import screenshot_when_asked
from tests.executions.test_log_page import MILLION, a_run
from tests.personas import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROWS_AT_MOST = 500  # the rows of one screen and a margin, whatever the run's size


def rows(page: Page) -> Any:
    return page.locator("#logs .line")


def line(page: Page, text: str) -> Any:
    """The row of exactly this message (not "line 1" for "line 10")."""
    return page.locator("#logs .line").filter(has_text=re.compile(rf"\s{re.escape(text)}$"))


def opened(page: Page, execution: Execution, last: str) -> float:
    """Open the page; how long until its last line showed, from the navigation, in ms."""
    page.goto(execution.get_absolute_url(), wait_until="commit")
    shown = page.wait_for_function(
        """text => [...document.querySelectorAll("#logs .line")].some(
             (row) => row.textContent.endsWith(" " + text)) && performance.now()""",
        arg=last,
    )
    page.locator("#logs").scroll_into_view_if_needed()  # below the task runs
    return float(shown.json_value())


def add_lines(execution: Execution, *texts: str) -> None:
    task_run = execution.task_runs.get()
    for text in texts:
        LogLine.objects.create(
            execution=execution,
            task_run=task_run,
            task_id=task_run.task_id,
            stream=LogLine.Stream.STDOUT,
            timestamp=timezone.now(),
            message=text,
        )
    execution_wake(execution.pk)


def test_a_million_line_run_opens_on_its_last_lines_with_a_small_dom(page: Page) -> None:
    execution = a_run(lines=MILLION)

    took = opened(page, execution, "line 999999")
    print(f"a 1M-line run's page showed its last line {took:.0f} ms after the navigation")

    expect(line(page, "line 999999")).to_be_in_viewport()
    assert rows(page).count() < ROWS_AT_MOST
    expect(page.get_by_test_id("log-position")).to_contain_text("–1,000,000 of 1,000,000")
    page.get_by_role("button", name="Start").click()
    expect(line(page, "line 0")).to_be_in_viewport()
    expect(page.get_by_test_id("log-position")).to_contain_text(re.compile(r"lines 1–\d+ of"))
    page.locator("#logs").evaluate("logs => { logs.scrollTop = logs.scrollHeight / 2; }")
    expect(rows(page).first).to_contain_text(re.compile(r"line [45]\d{5}$"))
    expect(page.locator("#logs .line-pending")).to_have_count(0)
    assert rows(page).count() < ROWS_AT_MOST


def test_the_level_filter_shows_only_that_level_and_above(page: Page) -> None:
    execution = a_run(lines=MILLION)
    opened(page, execution, "line 999999")

    page.get_by_test_id("log-level").select_option("WARN")

    expect(line(page, "line 999999")).to_be_in_viewport()  # an ERROR line
    expect(line(page, "line 999998")).to_have_count(0)
    expect(page.get_by_test_id("log-position")).to_contain_text("of 100,000")
    page.get_by_role("button", name="Start").click()
    expect(line(page, "line 9")).to_be_in_viewport()
    expect(page.locator("#logs .line-pending")).to_have_count(0)
    assert rows(page).count() < ROWS_AT_MOST
    levels = rows(page).evaluate_all(
        "rows => rows.map((row) => row.classList.contains('level-INFO'))"
    )
    assert levels and not any(levels)


def test_a_search_finds_line_987654_and_brings_it_into_view(page: Page) -> None:
    execution = a_run(lines=MILLION)
    opened(page, execution, "line 999999")
    page.get_by_role("button", name="Start").click()

    page.get_by_label("Search the logs").fill("line 987654")

    found = line(page, "line 987654")
    expect(found).to_be_in_viewport()
    expect(found).to_have_class(re.compile(r"\bcurrent-match\b"))
    expect(page.get_by_test_id("log-matches")).to_have_text("1 of 1")
    assert rows(page).count() < ROWS_AT_MOST
    expect(page.locator("#logs .line-pending")).to_have_count(0)
    page.locator(".log-toolbar").scroll_into_view_if_needed()
    screenshot_when_asked(page, "log-view.png")


def test_the_view_follows_new_lines_until_the_reader_scrolls_up(page: Page) -> None:
    execution = a_run(lines=MILLION)
    Execution.objects.filter(pk=execution.pk).update(state=State.RUNNING)
    opened(page, execution, "line 999999")

    add_lines(execution, "fresh one", "fresh two")
    expect(line(page, "fresh two")).to_be_in_viewport()

    page.locator("#logs").hover()
    page.mouse.wheel(0, -2000)
    expect(page.get_by_role("button", name="Follow")).to_have_attribute("aria-pressed", "false")
    add_lines(execution, "fresh three")
    expect(page.get_by_test_id("log-position")).to_contain_text("of 1,000,003")
    expect(line(page, "fresh three")).not_to_be_in_viewport()

    page.get_by_role("button", name="Follow").click()
    expect(line(page, "fresh three")).to_be_in_viewport()
    add_lines(execution, "fresh four")
    expect(line(page, "fresh four")).to_be_in_viewport()
    assert rows(page).count() < ROWS_AT_MOST


def test_the_download_link_carries_the_filters_and_serves_their_lines(page: Page) -> None:
    execution = a_run(lines=200)
    opened(page, execution, "line 199")

    page.get_by_test_id("log-level").select_option("ERROR")

    link = page.get_by_role("link", name="Download")
    expect(link).to_have_attribute("href", re.compile(r"/logs/download\?minLevel=ERROR$"))
    text = page.request.get(link.get_attribute("href") or "").text()
    assert [row.split(" ", 2)[2] for row in text.splitlines()] == ["line 99", "line 199"]


def test_times_show_their_date_in_the_reader_s_time_zone(
    browser: Any, server_url: str, alice: Any
) -> None:
    execution = a_run(lines=0)
    LogLine.objects.create(
        execution=execution,
        task_run=execution.task_runs.get(),
        task_id="talk",
        stream=LogLine.Stream.STDOUT,
        timestamp=datetime(2026, 1, 2, 23, 30, 5, 250_000, tzinfo=UTC),
        message="near midnight in London",
    )
    context = browser.new_context(base_url=server_url, timezone_id="Asia/Tokyo", locale="en-GB")
    page = context.new_page()
    page.goto("/login/")
    page.get_by_label("Username").fill(alice.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("header.top")).to_contain_text(alice.username)

    opened(page, execution, "near midnight in London")

    expect(rows(page)).to_contain_text("2026-01-03 08:30:05.250")
    expect(page.get_by_test_id("log-position")).to_contain_text("times in Asia/Tokyo")
    context.close()
