"""A user steers runs from the execution page in real Chromium: restart a failed run,
replay from a chosen task, resume a paused one."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from executions.lifecycle import execution_start
from executions.models import Execution
from flows.models import Flow
from tests.flows_helpers import finished

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("worker"),
]


def _shell(task_id: str, command: str) -> str:
    return (
        f"  - id: {task_id}\n"
        "    type: io.kestra.plugin.scripts.shell.Commands\n"
        "    taskRunner:\n"
        "      type: io.kestra.plugin.core.runner.Process\n"
        f"    commands:\n      - {command}\n"
    )


def test_a_failed_run_is_restarted_from_its_page_and_reruns_only_the_failed_task(
    page: Page, alice: Any, task_tmp_path: Path
) -> None:
    marker = task_tmp_path / "ready"
    source = "id: restartable\nnamespace: browser\ntasks:\n" + (
        _shell("first", "echo first") + _shell("needs_marker", f"test -f {marker}")
    )
    execution = finished(execution_start(flow=Flow.save_source(source, author=alice)))
    page.goto(execution.get_absolute_url())
    expect(page.get_by_test_id("execution-state")).to_have_text("FAILED")
    marker.touch()
    page.get_by_role("button", name="Restart").click()
    expect(page.get_by_test_id("execution-state")).to_have_text("SUCCESS")
    row = page.locator("tr.gantt-row[data-task='needs_marker']")
    expect(row.locator(".gantt-attempt")).to_have_count(2)
    expect(page.locator("tr.gantt-row[data-task='first'] .gantt-attempt")).to_have_count(1)


def test_a_run_is_replayed_from_a_chosen_task_into_a_new_execution(page: Page, alice: Any) -> None:
    source = "id: replayable\nnamespace: browser\ntasks:\n" + (
        _shell("extract", "echo extracted") + _shell("load", "echo loaded")
    )
    execution = finished(execution_start(flow=Flow.save_source(source, author=alice)))
    page.goto(execution.get_absolute_url())
    # Once the page has followed the run to its end, no refresh resets the form.
    expect(page.locator("#live-status")).to_have_text("finished")
    page.get_by_label("Replay from").select_option(label="load")
    expect(page.get_by_label("Replay from")).to_have_value(
        execution.task_runs.get(task_id="load").pk
    )
    page.get_by_role("button", name="Replay").click()
    page.wait_for_url(re.compile(r"/executions/[^/]+/$"))
    assert execution.pk not in page.url
    expect(page.get_by_test_id("execution-state")).to_have_text("SUCCESS")
    replay = Execution.objects.get(original_id=execution.pk)
    assert replay.task_runs.get(task_id="extract").attempts.count() == 0  # kept, not rerun
    assert replay.task_runs.get(task_id="load").attempts.count() == 1


def test_a_paused_run_is_resumed_from_its_page(page: Page, alice: Any) -> None:
    source = "id: pausable\nnamespace: browser\ntasks:\n" + (
        "  - id: approve\n    type: io.kestra.plugin.core.flow.Pause\n"
        "  - id: after\n    type: io.kestra.plugin.core.log.Log\n    message: approved\n"
    )
    execution = execution_start(flow=Flow.save_source(source, author=alice))
    page.goto(execution.get_absolute_url())
    expect(page.get_by_test_id("execution-state")).to_have_text("PAUSED")
    page.get_by_role("button", name="Resume").click()
    expect(page.get_by_test_id("execution-state")).to_have_text("SUCCESS")
