"""The dashboard in Chromium: its counts and its chart's bars match, exactly, the
executions made here: some run for real through the Run button and the worker, the
others written in chosen states at chosen times."""

from __future__ import annotations

import random
import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from executions.models import Execution, State
from flows.models import Flow
from tests.browser.conftest import screenshot_when_asked
from tests.conftest import wait_until
from triggers.clock import schedules_tick

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("worker"),
]

LOG_FLOW = (
    "id: dash-ok\nnamespace: browser\n"
    "tasks:\n  - id: hello\n    type: io.kestra.plugin.core.log.Log\n    message: hello\n"
)
FAIL_FLOW = (
    "id: dash-fail\nnamespace: browser.team\n"
    "tasks:\n  - id: stop\n    type: io.kestra.plugin.core.execution.Fail\n"
    "    errorMessage: on purpose\n"
)
OTHER_FLOW = (
    "id: elsewhere\nnamespace: dev\n"
    "tasks:\n  - id: hello\n    type: io.kestra.plugin.core.log.Log\n    message: hello\n"
)


def _run_in_the_browser(page: Page, flow: Flow) -> Execution:
    page.goto(flow.get_absolute_url())
    page.get_by_role("button", name="Run").click()
    page.wait_for_url(re.compile(r"/executions/[^/]+/$"))
    execution_id = page.url.rstrip("/").rsplit("/", 1)[-1]

    def ended() -> Execution | None:
        execution = Execution.objects.get(pk=execution_id)
        return execution if execution.is_terminal else None

    return wait_until(ended, timeout=30, what=f"execution {execution_id} to end")


def _made(flow: Flow, state: str, ago: timedelta) -> Execution:
    return Execution.objects.create(
        flow_revision=flow.current_revision,
        namespace=flow.namespace,
        flow_id=flow.flow_id,
        state=state,
        created_at=timezone.now() - ago,
    )


@pytest.fixture
def made(page: Page) -> list[Execution]:
    """Two real runs (one succeeds, one fails) and five written ones in ``browser`` and
    its child, and one in ``dev`` that the namespace filter must leave out."""
    ok, failing = Flow.save_source(LOG_FLOW), Flow.save_source(FAIL_FLOW)
    other = Flow.save_source(OTHER_FLOW)
    executions = [_run_in_the_browser(page, ok), _run_in_the_browser(page, failing)]
    assert [e.state for e in executions] == [State.SUCCESS, State.FAILED]
    days = timedelta(days=1)
    for flow, state, ago in [
        (ok, State.SUCCESS, 1 * days),
        (ok, State.SUCCESS, 2 * days + timedelta(hours=3)),
        (ok, State.WARNING, 2 * days),
        (failing, State.KILLED, 4 * days),
        (ok, State.RUNNING, timedelta(minutes=2)),
    ]:
        executions.append(_made(flow, state, ago))
    _made(other, State.FAILED, timedelta(hours=1))
    return executions


def _counts_by_state(executions: list[Execution]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for execution in executions:
        counts[execution.state] = counts.get(execution.state, 0) + 1
    return counts


def test_the_dashboards_counts_and_bars_match_the_executions_made(
    page: Page, made: list[Execution]
) -> None:
    page.goto("/")
    page.get_by_label("Namespace").select_option("browser")
    page.get_by_label("Period").select_option("7d")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"namespace=browser"))

    shown = {
        item.get_attribute("data-state"): int(item.get_attribute("data-count") or "")
        for item in page.locator(".state-counts li[data-state]").all()
    }
    assert shown == _counts_by_state(made)
    expect(page.get_by_test_id("total")).to_have_text(str(len(made)))
    # 3 SUCCESS of the 6 ended (SUCCESS x3, WARNING, FAILED, KILLED).
    expect(page.get_by_test_id("success-rate")).to_have_text("50 %")

    chart = page.get_by_role("img", name=re.compile("Executions by state, last 7 days"))
    expect(chart).to_be_visible()
    bars = chart.locator("g.bar").all()
    starts = [datetime.fromisoformat(bar.get_attribute("data-start") or "") for bar in bars]
    for index, bar in enumerate(bars):
        last = index + 1 == len(starts)
        inside = [
            e
            for e in made
            if starts[index] <= e.created_at and (last or e.created_at < starts[index + 1])
        ]
        expected = _counts_by_state(inside)
        assert bar.get_attribute("data-total") == str(len(inside))
        for state in State.values:
            value = bar.get_attribute(f"data-{state.lower()}")
            assert (int(value) if value else 0) == expected.get(state, 0), (index, state)
        drawn = {
            (seg.get_attribute("class") or "").split("seg-")[-1]
            for seg in bar.locator("rect.seg").all()
        }
        assert drawn == set(expected)
        title = bar.locator("title").text_content() or ""
        for state, count in expected.items():
            assert f"{count} {state}" in title
    assert sum(int(bar.get_attribute("data-total") or "") for bar in bars) == len(made)

    failed = next(e for e in made if e.state == State.FAILED)
    failures = page.get_by_test_id("failures")
    expect(failures).not_to_contain_text("dev.elsewhere")
    failures.get_by_role("link", name="browser.team.dash-fail").first.click()
    page.wait_for_url(re.compile(rf"/executions/{failed.pk}/$"))


def test_the_namespace_page_shows_the_same_overview_for_its_namespace(
    page: Page, made: list[Execution]
) -> None:
    page.goto("/namespaces/browser/")
    overview = page.get_by_test_id("overview")
    expect(overview).to_contain_text(f"{len(made)} executions, 50 % success, 1 running now")
    expect(overview.get_by_test_id("running")).to_contain_text("browser.dash-ok")
    bars = overview.locator("g.bar")
    totals = [int(bars.nth(n).get_attribute("data-total") or "") for n in range(bars.count())]
    assert sum(totals) == len(made)


def test_the_flow_page_overview_unfolds_above_the_editor(page: Page, made: list[Execution]) -> None:
    page.goto("/flows/browser/dash-ok/")
    overview = page.get_by_test_id("overview")
    mine = [e for e in made if e.flow_id == "dash-ok"]
    expect(overview.locator("summary")).to_contain_text(f"{len(mine)} executions")
    expect(overview.get_by_role("img")).to_be_hidden()
    overview.locator("summary").click()
    expect(overview.get_by_role("img")).to_be_visible()
    assert int(overview.get_by_test_id("total").text_content() or "") == len(mine)
    expect(page.locator(".flow-source")).to_be_visible()


def test_charlie_is_told_he_has_no_role(browser_context: Any, charlie: Any) -> None:
    from tests.personas import PASSWORD

    page = browser_context.new_page()
    page.goto("/login/")
    page.get_by_label("Username").fill(charlie.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/$"))
    expect(page.get_by_test_id("dashboard-empty")).to_contain_text("no role on any namespace")
    expect(page.locator("g.bar")).to_have_count(0)


WEEK_FLOWS = [  # (namespace, flow id, hourly schedule?)
    ("company.data", "etl-daily", True),
    ("company.data", "load-warehouse", False),
    ("company.marketing", "weekly-report", True),
    ("dev", "hello-world", False),
]


def test_a_week_of_history_draws_one_bar_a_day_with_that_days_counts(page: Page) -> None:
    """About 150 executions over the week: each day's bar holds that day's executions,
    state by state. With FLOWSITE_SCREENSHOT=1 it is also docs/dashboard.png."""
    schedule = (
        "triggers:\n  - id: hourly\n    type: io.kestra.plugin.core.trigger.Schedule\n"
        '    cron: "0 * * * *"\n'
    )
    flows = [
        Flow.save_source(
            f"id: {flow_id}\nnamespace: {namespace}\ntasks:\n  - id: t\n"
            "    type: io.kestra.plugin.core.log.Log\n    message: m\n"
            + (schedule if scheduled else "")
        )
        for namespace, flow_id, scheduled in WEEK_FLOWS
    ]
    schedules_tick(timezone.now())  # the clock arms the schedules
    pick = random.Random(7)
    weighted = [State.SUCCESS] * 16 + [State.FAILED] * 2 + [State.WARNING, State.KILLED]
    made = [
        _made(pick.choice(flows), pick.choice(weighted), timedelta(hours=pick.uniform(0.2, 166)))
        for _ in range(150)
    ]
    made += [_made(flows[0], State.RUNNING, timedelta(minutes=3))]
    made += [_made(flows[2], State.PAUSED, timedelta(minutes=40))]

    page.goto("/")
    bars = page.get_by_role("img", name=re.compile("Executions by state")).locator("g.bar")
    starts = [
        datetime.fromisoformat(bars.nth(n).get_attribute("data-start") or "")
        for n in range(bars.count())
    ]
    assert len(starts) == 8
    for index, start in enumerate(starts):
        end = starts[index + 1] if index + 1 < len(starts) else timezone.now() + timedelta(days=1)
        expected = _counts_by_state([e for e in made if start <= e.created_at < end])
        bar = bars.nth(index)
        for state in State.values:
            value = bar.get_attribute(f"data-{state.lower()}")
            assert (int(value) if value else 0) == expected.get(state, 0), (index, state)
    expect(page.get_by_test_id("total")).to_have_text(str(len(made)))
    expect(page.get_by_test_id("scheduled")).to_contain_text("company.data.etl-daily")
    page.set_viewport_size({"width": 1280, "height": 900})
    screenshot_when_asked(page, "dashboard.png", full_page=True)
    page.emulate_media(color_scheme="dark")
    screenshot_when_asked(page, "dark-mode.png")
