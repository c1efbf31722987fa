"""The execution page in real Chromium while a run goes on and after: durations and Gantt
bars that grow with the clock, a readable axis for a 30 ms run, outputs folded until
clicked with previews of the files, a long error that does not widen the page, and
labels edited on the page.

Transactional: the daphne server and the django-q2 worker read the committed rows.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from executions.lifecycle import execution_start
from executions.models import Execution, LogLine, State, TaskRun
from flows.models import Flow
from tests.browser.conftest import screenshot_when_asked
from tests.conftest import wait_until
from tests.flows_helpers import finished

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("worker"),
]

ROOT = Path(__file__).resolve().parents[2]
PROCESS = "io.kestra.plugin.core.runner.Process"
SVG = (  # a bar chart, with a script that must never run
    '<svg xmlns="http://www.w3.org/2000/svg" width="240" height="90">'
    '<rect x="10" y="40" width="40" height="50" fill="#4f46e5"/>'
    '<rect x="70" y="10" width="40" height="80" fill="#16a34a"/>'
    '<rect x="130" y="60" width="40" height="30" fill="#c0352b"/>'
    "<script>top.document.title = 'svg ran'</script></svg>"
)
PNG = (  # a 2x2 red PNG
    "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP4z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg=="
)


def _flow(flow_id: str, tasks: str, alice: Any) -> Flow:
    return Flow.save_source(f"id: {flow_id}\nnamespace: browser\ntasks:\n{tasks}", author=alice)


def _commands(task_id: str, *commands: str, outputs: str = "") -> str:
    lines = "".join(f"      - {command}\n" for command in commands)
    return (
        f"  - id: {task_id}\n"
        "    type: io.kestra.plugin.scripts.shell.Commands\n"
        f"    taskRunner:\n      type: {PROCESS}\n"
        f"{outputs}"
        f"    commands:\n{lines}"
    )


def _seconds(text: str) -> float:
    """A duration as the page writes it, in seconds."""
    match = re.fullmatch(r"(?:(\d+) h (\d+) min|(\d+) min (\d+) s|([\d.]+) s|(\d+) ms)", text)
    assert match, f"not a duration: {text!r}"
    h, hm, m, ms_, s, ms = match.groups()
    if h:
        return int(h) * 3600 + int(hm) * 60
    if m:
        return int(m) * 60 + int(ms_)
    return float(s) if s else int(ms) / 1000


def _reading(page: Page) -> dict[str, Any]:
    """The slow task's duration and bar width, the run's duration, read in one go, and
    whether the elements are still the ones marked before (no refresh of the fragment)."""
    return page.evaluate(
        """() => {
          const row = document.querySelector('tr.gantt-row[data-task="slow"]');
          const duration = row.querySelector('[data-testid="task-duration"]');
          const bar = row.querySelector('.gantt-bar');
          const run = document.querySelector('[data-testid="execution-duration"]');
          const same = duration.flowsiteMark === true;
          duration.flowsiteMark = true;
          return {task: duration.textContent.trim(), run: run.textContent.trim(),
                  width: bar.getBoundingClientRect().width, same};
        }"""
    )


def test_the_duration_and_gantt_bar_of_a_running_task_grow(page: Page, alice: Any) -> None:
    flow = _flow(
        "live-durations", _commands("first", "sleep 1") + _commands("slow", "sleep 4"), alice
    )
    execution = execution_start(flow=flow, user=alice)
    page.goto(execution.get_absolute_url())
    slow = page.locator('tr.gantt-row[data-task="slow"]')
    expect(slow).to_contain_text("RUNNING", timeout=30_000)

    first = _reading(page)
    page.wait_for_timeout(1200)
    second = _reading(page)

    assert second["same"], "the page was refreshed: the durations must tick on their own"
    assert _seconds(second["task"]) >= _seconds(first["task"]) + 1.0, (first, second)
    assert _seconds(second["run"]) >= _seconds(first["run"]) + 1.0, (first, second)
    assert second["width"] > first["width"] + 5, (first, second)

    finished(execution)
    expect(page.get_by_test_id("execution-state")).to_have_text("SUCCESS")
    execution.refresh_from_db()
    slow_run = execution.task_runs.get(task_id="slow")
    assert slow_run.duration is not None
    shown = page.locator('tr.gantt-row[data-task="slow"] [data-testid="task-duration"]')
    ended = _seconds(shown.text_content() or "")
    assert abs(ended - slow_run.duration.total_seconds()) < 0.02  # the server's value wins
    page.wait_for_timeout(500)
    assert shown.text_content() is not None and _seconds(shown.text_content() or "") == ended


def _rows_of(alice: Any, flow_id: str, **fields: Any) -> tuple[Execution, TaskRun]:
    flow = _flow(flow_id, _commands("only", "echo hi"), alice)
    start = timezone.now() - timedelta(minutes=1)
    values = {
        "state": State.SUCCESS,
        "started_at": start,
        "ended_at": start + timedelta(milliseconds=30),
    }
    values.update(fields)
    execution = Execution.objects.create(
        flow_revision=flow.current_revision,
        namespace=flow.namespace,
        flow_id=flow.flow_id,
        **values,
    )
    run = TaskRun.objects.create(
        execution=execution,
        task_id="only",
        path="only",
        position=0,
        task_type="io.kestra.plugin.scripts.shell.Commands",
        state=execution.state,
        started_at=start + timedelta(milliseconds=2),
        ended_at=start + timedelta(milliseconds=26),
        error=execution.error,
    )
    return execution, run


def test_a_30_ms_run_has_an_axis_in_ms_with_distinct_labels(page: Page, alice: Any) -> None:
    execution, _ = _rows_of(alice, "short-run")

    page.goto(execution.get_absolute_url())

    labels = page.get_by_test_id("gantt-axis").locator("span").all_text_contents()
    assert labels[:3] == ["0 ms", "10 ms", "20 ms"], labels
    assert len(set(labels)) == len(labels) and all(label.endswith(" ms") for label in labels)
    expect(page.get_by_test_id("execution-duration")).to_have_text("30 ms")
    expect(page.get_by_test_id("task-duration")).to_have_text("24 ms")


def test_a_5000_character_error_does_not_widen_the_page(
    browser_context: Any, page: Page, alice: Any
) -> None:
    error = "E" * 5000
    execution, run = _rows_of(alice, "long-error", state=State.FAILED, error=error)
    LogLine.objects.create(
        execution=execution,
        task_run=run,
        task_id="only",
        stream=LogLine.Stream.STDERR,
        timestamp=timezone.now(),
        message=error,
    )
    page.set_viewport_size({"width": 1440, "height": 900})

    page.goto(execution.get_absolute_url())
    expect(page.locator("#live-status")).to_have_text("finished")  # the last refresh is in
    expect(page.get_by_test_id("task-error")).to_be_visible()
    expect(page.locator("#logs")).to_contain_text("EEEE")

    sizes = page.evaluate(
        """() => ({page: document.documentElement.scrollWidth, window: window.innerWidth,
                   error: document.querySelector('[data-testid="task-error"]').offsetHeight})"""
    )
    assert sizes["page"] <= sizes["window"], sizes
    assert sizes["error"] <= 12 * 16 + 2, sizes  # at most 12rem high, then it scrolls


def test_outputs_are_folded_and_open_on_a_click_with_a_csv_table_and_an_image(
    page: Page, alice: Any
) -> None:
    outputs = "    outputFiles:\n      - weather.csv\n      - dot.png\n      - chart.svg\n"
    flow = _flow(
        "report-files",
        _commands(
            "export",
            "printf 'city,temp\\nParis,21\\nOslo,4\\n' > weather.csv",
            f"echo {PNG} | base64 -d > dot.png",
            f"printf '%s' '{SVG}' > chart.svg",
            'echo \'::{"outputs":{"rows":2,"summary":{"hot":"Paris"}}}::\'',
            outputs=outputs,
        ),
        alice,
    )
    execution = finished(execution_start(flow=flow, user=alice, labels={"team": "data"}))
    assert execution.state == State.SUCCESS

    page.goto(execution.get_absolute_url())

    output = page.locator("details.task-output").first
    expect(output).not_to_have_attribute("open", "")
    preview = output.get_by_test_id("output-preview")
    expect(preview).to_contain_text(
        "exitCode: 0 · outputFiles: {chart.svg, dot.png, weather.csv} · vars: {rows, summary}"
    )
    expect(output.locator("dl.output-items")).not_to_be_visible()
    output.locator("summary").first.click()
    expect(output.locator("dl.output-items")).to_be_visible()

    csv = page.get_by_test_id("file-preview").filter(has_text="Preview weather.csv")
    csv.locator("summary").click()
    table = csv.get_by_test_id("preview-table")
    expect(table.locator("thead")).to_have_text("citytemp")
    expect(table.locator("tbody tr")).to_have_count(2)
    expect(table.locator("tbody tr").first).to_have_text("Paris21")

    image = page.get_by_test_id("file-preview").filter(has_text="Preview dot.png")
    image.locator("summary").click()
    img = image.get_by_test_id("preview-image")
    expect(img).to_be_visible()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth === 2", arg=img.element_handle()
    )

    chart = page.get_by_test_id("file-preview").filter(has_text="Preview chart.svg")
    chart.locator("summary").click()
    svg = chart.get_by_test_id("preview-image")
    page.wait_for_function(
        "img => img.complete && img.naturalWidth === 240", arg=svg.element_handle()
    )
    assert page.title() != "svg ran"  # shown through <img>: its script never runs

    if os.environ.get("FLOWSITE_SCREENSHOT") == "1":  # the README's picture of outputs and previews
        page.locator("details.task-output summary").first.click()  # folded again
        page.set_viewport_size({"width": 1280, "height": 1100})
        page.locator("#logs").evaluate("logs => { logs.scrollTop = logs.scrollHeight; }")
        screenshot_when_asked(page, "execution-outputs.png", full_page=True)


def test_labels_edited_on_the_page_persist(page: Page, alice: Any) -> None:
    execution, _ = _rows_of(alice, "labelled", labels={"team": "data", "system.username": "alice"})
    page.goto(execution.get_absolute_url())

    page.get_by_text("Edit labels").click()
    form = page.get_by_test_id("labels-form")
    form.get_by_label("Label value").first.fill("web")
    form.get_by_label("New label key").fill("env")
    form.get_by_label("New label value").fill("prod")
    form.get_by_role("button", name="Save labels").click()
    expect(page.get_by_test_id("labels")).to_contain_text("env: prod")

    wait_until(
        lambda: (
            Execution.objects.get(pk=execution.pk).labels
            == {"team": "web", "env": "prod", "system.username": "alice"}
        ),
        what="the labels to be saved",
    )
    page.reload()
    labels = page.get_by_test_id("labels")
    expect(labels).to_contain_text("team: web")
    expect(labels).to_contain_text("system.username: alice")

    page.get_by_text("Edit labels").click()
    form = page.get_by_test_id("labels-form")
    form.locator(".label-row").filter(has=page.locator('input[value="env"]')).get_by_role(
        "button", name="Remove"
    ).click()
    form.get_by_role("button", name="Save labels").click()
    expect(page.get_by_test_id("labels")).not_to_contain_text("env: prod")
    wait_until(
        lambda: "env" not in Execution.objects.get(pk=execution.pk).labels,
        what="the label to be removed",
    )
