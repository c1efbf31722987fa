"""The execution page of a run that printed a million lines, in Chromium as the browser
tests drive it: how soon it shows the last lines, and how soon it answers input.

The lines are written straight into the database (benchmarks/log_rows.py). "Input delay"
is the time from an input (a scroll jump, a key, a filter change) to the end of the next
frame drawn: the main thread's work for it. The server's answer to what the input asks
for (the lines of a new place, a filter's count) is timed apart: "filled"."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.test import Client

from executions.models import Execution, State, TaskRun
from flows.models import Flow

from .environment import BENCH_USER, NAMESPACE
from .log_rows import log_lines_insert
from .report import Report
from .stack import Stack

LINES = 1_000_000
LOADS = 5
INPUTS = 20
CHROMIUM = Path("/usr/bin/chromium")  # as tests/browser/conftest.py launches it
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-quic"]
LOAD_TARGET = 1.0  # seconds, navigation to the last lines shown
INPUT_TARGET = 0.1  # seconds, input to the next frame

# Runs in the page: `act` changes the view, then the time to the end of the next frame
# (requestAnimationFrame, then a task after it) and to every row on screen filled.
MEASURE_JS = """async (act) => {
  const logs = document.getElementById("logs");
  const level = document.getElementById("log-level");
  const began = performance.now();
  if (act === "jump") logs.scrollTop = Math.random() * logs.scrollHeight;
  else if (act === "page") logs.scrollTop -= logs.clientHeight;
  else { level.value = level.value ? "" : "WARN"; level.dispatchEvent(new Event("change")); }
  await new Promise((done) => requestAnimationFrame(() => setTimeout(done)));
  const frame = performance.now() - began;
  while (!logs.querySelector(".line") || logs.querySelector(".line-pending"))
    await new Promise((done) => setTimeout(done, 2));
  return {frame, filled: performance.now() - began, rows: logs.querySelectorAll(".line").length};
}"""


def _run_of_a_million_lines(flow: Flow) -> Execution:
    execution = Execution.objects.create(
        flow_revision=flow.current_revision,
        namespace=NAMESPACE,
        flow_id=flow.flow_id,
        state=State.SUCCESS,
    )
    task_run = TaskRun.objects.create(execution=execution, task_id="talk", position=0)
    log_lines_insert(task_run=task_run, count=LINES)
    return execution


def _session_cookie(port: int) -> dict[str, Any]:
    client = Client()
    client.force_login(get_user_model().objects.get(username=BENCH_USER))
    value = client.cookies["sessionid"].value
    return {"name": "sessionid", "value": value, "url": f"http://127.0.0.1:{port}"}


def log_page_measure(flow: Flow, *, stack: Stack, report: Report) -> None:
    report.section(f"execution page, a run of {LINES:,} lines (Chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        report.skipped("log page", "the playwright package is not installed")
        return
    if not CHROMIUM.exists():
        report.skipped("log page", f"no Chromium at {CHROMIUM}")
        return
    execution = _run_of_a_million_lines(flow)
    url = f"http://127.0.0.1:{stack.port}{execution.get_absolute_url()}"
    cookie = _session_cookie(stack.port)  # before Playwright's loop, where the ORM may not go
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            context.add_cookies([cookie])  # type: ignore[list-item]
            _measure(context.new_page(), url, report)
        finally:
            browser.close()
    execution.delete()


def _measure(page: Any, url: str, report: Report) -> None:
    loads = []
    for _ in range(LOADS):
        page.goto(url, wait_until="commit")
        shown = page.wait_for_function(
            """() => [...document.querySelectorAll("#logs .line")].some(
                 (row) => row.textContent.endsWith(" line 999999")) && performance.now()"""
        )
        loads.append(float(shown.json_value()) / 1000)
    report.measured(
        "load: navigation to the last lines shown",
        loads,
        target=f"< {LOAD_TARGET * 1000:.0f} ms",
        ok=statistics.median(loads) < LOAD_TARGET,
    )
    rows = 0
    for act, name in (
        ("jump", "a scroll jump"),
        ("page", "a page up"),
        ("filter", "a level filter"),
    ):
        samples = [page.evaluate(MEASURE_JS, act) for _ in range(INPUTS)]
        frames = [sample["frame"] / 1000 for sample in samples]
        rows = max(rows, *(sample["rows"] for sample in samples))
        report.measured(
            f"input delay: {name}, to the next frame",
            frames,
            target=f"< {INPUT_TARGET * 1000:.0f} ms",
            ok=max(frames) < INPUT_TARGET,
        )
        report.measured(f"  {name}: rows on screen filled", [s["filled"] / 1000 for s in samples])
    report.derived("log rows in the DOM at most", str(rows), target="< 500", ok=rows < 500)
