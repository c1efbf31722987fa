"""The execution page draws the run in real Chromium: a Parallel's branches side by side
in the topology, live; a Gantt row per task run with its attempts; clicking a row or an
attempt narrows the logs to it.

Transactional: the daphne server and the django-q2 worker read the committed rows.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from executions.lifecycle import execution_start
from executions.models import Execution, LogLine, State, TaskRun, TaskRunAttempt
from flows.models import Flow
from tests.browser.conftest import screenshot_when_asked
from tests.conftest import wait_until

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("worker"),
]

PROCESS = "io.kestra.plugin.core.runner.Process"
SLEEPER = f"""
      - id: {{name}}
        type: io.kestra.plugin.scripts.shell.Commands
        taskRunner:
          type: {PROCESS}
        commands:
          - echo {{name}} starts
          - sleep 1
"""
BRANCHES = ("left", "middle", "right")
PARALLEL_FLOW = (
    "id: three-sleeps\n"
    "namespace: browser\n"
    "tasks:\n"
    "  - id: fan\n"
    "    type: io.kestra.plugin.core.flow.Parallel\n"
    "    tasks:" + "".join(SLEEPER.format(name=name) for name in BRANCHES) + "  - id: report\n"
    "    type: io.kestra.plugin.core.log.Log\n"
    "    message: all done\n"
)


def _boxes(page: Page, selectors: dict[str, str]) -> dict[str, dict[str, float]]:
    """Where each selector's element is drawn, read in one go: a refresh of the fragment
    between two separate reads would measure an element no longer in the page."""
    boxes = page.evaluate(
        """selectors => Object.fromEntries(Object.entries(selectors).map(([name, selector]) => {
          const element = document.querySelector(selector);
          const r = element && element.getBoundingClientRect();
          return [name, r && {x: r.x, y: r.y, width: r.width, height: r.height}];
        }))""",
        selectors,
    )
    missing = [name for name, box in boxes.items() if box is None]
    assert not missing, f"not displayed: {missing}"
    return boxes


def test_a_finished_parallel_run_shows_its_branches_side_by_side_and_a_gantt_of_attempts(
    page: Page, alice: Any
) -> None:
    """Needs the engine that runs Parallel: it fails until that engine lands."""
    flow = Flow.save_source(PARALLEL_FLOW, author=alice)
    execution = execution_start(flow=flow, user=alice)
    page.goto(execution.get_absolute_url())
    page.evaluate("window.flowsiteSameDocument = true")

    # The engine's part first, so that a stuck run is told apart from a stale page.
    try:
        wait_until(lambda: Execution.objects.get(pk=execution.pk).is_terminal, timeout=30)
    except AssertionError as stuck:
        raise AssertionError(f"The run did not end; its task runs: {_states(execution)}") from stuck
    expect(page.get_by_test_id("execution-state")).to_have_text("SUCCESS", timeout=10_000)
    topology = page.get_by_test_id("run-topology")
    for task_id in ("fan", "left", "middle", "right", "report"):
        expect(topology.locator(f"[data-node='{task_id}']")).to_have_class(
            "run-node node-SUCCESS", timeout=10_000
        )
    expect(page.locator("#live-status")).to_have_text("finished")
    boxes = _boxes(
        page,
        {
            **{task_id: f"[data-node='{task_id}']" for task_id in BRANCHES + ("report",)},
            **{f"bar-{task_id}": f"tr[data-task='{task_id}'] .gantt-bar" for task_id in BRANCHES},
            "bar-report": "tr[data-task='report'] .gantt-bar",
        },
    )
    # The three branches sit beside each other: one row, left to right...
    left, middle, right = (boxes[task_id] for task_id in BRANCHES)
    assert left["y"] == middle["y"] == right["y"]
    assert left["x"] < middle["x"] < right["x"]
    # ...and the task after the Parallel below them, not beside them.
    assert boxes["report"]["y"] > max(b["y"] + b["height"] for b in (left, middle, right))

    gantt = page.get_by_test_id("gantt")
    expect(gantt.locator("tr.gantt-row")).to_have_count(5)
    for task_id in BRANCHES:
        segments = gantt.locator(f"tr[data-task='{task_id}'] .gantt-attempt")
        expect(segments).to_have_count(1)
        expect(segments).to_have_class("gantt-attempt attempt-SUCCESS")
        expect(segments).to_have_attribute("title", re.compile(r"^Attempt 1 · SUCCESS · "))
    # Branches that truly ran at once have bars that overlap on the time scale.
    spans = sorted(
        (
            boxes[f"bar-{task_id}"]["x"],
            boxes[f"bar-{task_id}"]["x"] + boxes[f"bar-{task_id}"]["width"],
        )
        for task_id in BRANCHES
    )
    assert spans[1][0] < spans[0][1] and spans[2][0] < spans[1][1]
    # The task after the Parallel starts once all three ended (2 px of rounding).
    assert boxes["bar-report"]["x"] >= max(end for _, end in spans) - 2
    assert page.evaluate("window.flowsiteSameDocument === true")  # updated in place, live
    screenshot_when_asked(page, "execution-run.png", full_page=True)


def _states(execution: Execution) -> list[tuple[str, str]]:
    return list(execution.task_runs.values_list("path", "state"))


def _run_with_retries(alice: Any) -> Execution:
    """A finished run written directly: ``flaky`` failed once and then succeeded."""
    flow = Flow.save_source(
        PARALLEL_FLOW.replace("three-sleeps", "three-sleeps-rows"), author=alice
    )
    start = timezone.now() - timedelta(seconds=20)
    at = lambda seconds: start + timedelta(seconds=seconds)  # noqa: E731
    execution = Execution.objects.create(
        flow_revision=flow.current_revision,
        namespace=flow.namespace,
        flow_id=flow.flow_id,
        state=State.SUCCESS,
        started_at=at(0),
        ended_at=at(10),
        labels={"team": "data"},
    )
    fan = TaskRun.objects.create(
        execution=execution,
        task_id="fan",
        path="fan",
        position=0,
        task_type="io.kestra.plugin.core.flow.Parallel",
        state=State.SUCCESS,
        started_at=at(0),
        ended_at=at(9),
    )
    for position, task_id in enumerate(("left", "middle", "right")):
        run = TaskRun.objects.create(
            execution=execution,
            task_id=task_id,
            path=f"fan/{task_id}",
            parent=fan,
            position=position,
            task_type="io.kestra.plugin.scripts.shell.Commands",
            state=State.SUCCESS,
            started_at=at(0),
            ended_at=at(9),
            attempt=2 if task_id == "middle" else 1,
        )
        attempts = (
            [(State.FAILED, 0, 3), (State.SUCCESS, 4, 9)]
            if task_id == "middle"
            else [(State.SUCCESS, 0, 9)]
        )
        for number, (state, begin, end) in enumerate(attempts, start=1):
            TaskRunAttempt.objects.create(
                task_run=run,
                number=number,
                state=state,
                started_at=at(begin),
                ended_at=at(end),
                exit_code=1 if state == State.FAILED else 0,
                error="exit code 1" if state == State.FAILED else "",
            )
            LogLine.objects.create(
                execution=execution,
                task_run=run,
                task_id=task_id,
                attempt=number,
                stream=LogLine.Stream.STDOUT,
                timestamp=at(begin),
                message=f"{task_id} attempt {number} says hello",
            )
    return execution


def test_clicking_a_gantt_row_shows_that_task_run_s_logs_and_then_one_attempt_s(
    page: Page, alice: Any
) -> None:
    execution = _run_with_retries(alice)
    page.goto(execution.get_absolute_url())
    logs = page.locator("#logs")
    expect(logs).to_contain_text("right attempt 1 says hello")

    page.locator("tr[data-task='middle'] td.gantt-task").click()

    expect(page.get_by_test_id("log-filter")).to_contain_text("Logs of middle")
    expect(logs.locator(".line:visible")).to_have_count(2)
    expect(logs.locator(".line:visible").filter(has_text="right attempt")).to_have_count(0)
    page.get_by_role("button", name="Attempt 1").click()
    expect(logs.locator(".line:visible")).to_have_count(1)
    expect(logs.locator(".line:visible")).to_contain_text("middle attempt 1 says hello")

    page.get_by_role("button", name="Show all logs").click()
    expect(logs.locator(".line:visible")).to_have_count(4)


def test_clicking_a_failed_attempt_shows_its_logs_and_its_tooltip_says_why(
    page: Page, alice: Any
) -> None:
    execution = _run_with_retries(alice)
    page.goto(execution.get_absolute_url())
    expect(page.locator("#logs")).to_contain_text("middle attempt 2 says hello")

    failed = page.locator("tr[data-task='middle'] .gantt-attempt.attempt-FAILED")
    expect(failed).to_have_attribute(
        "title", re.compile(r"^Attempt 1 · FAILED · 3\.00 s · exit code 1 · exit code 1")
    )
    expect(failed).to_have_css("background-color", "rgb(192, 53, 43)")  # red
    failed.click()

    visible = page.locator("#logs .line:visible")
    expect(visible).to_have_count(1)
    expect(visible).to_contain_text("middle attempt 1 says hello")
    expect(page.get_by_role("button", name="Attempt 1")).to_have_attribute("aria-pressed", "true")


def test_a_label_chip_leads_to_the_executions_it_labels(page: Page, alice: Any) -> None:
    execution = _run_with_retries(alice)
    page.goto(execution.get_absolute_url())

    page.get_by_test_id("labels").get_by_role("link", name="team: data").click()

    page.wait_for_url("**/executions/?label=team:data")
    expect(page.locator(f"tr[data-execution='{execution.pk}']")).to_have_count(1)
