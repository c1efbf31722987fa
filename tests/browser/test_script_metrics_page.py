"""alice runs a flow whose script reports metrics and log lines the way Kestra's helper
prints them: the execution page shows a Metrics section per task run and the log lines
as plain text at their level, with no ``::{...}::`` left in sight."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from flows.models import Flow
from tests.flows_helpers import PROCESS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("worker"),
]


def said(payload: dict[str, Any]) -> str:
    return json.dumps("echo '::" + json.dumps(payload) + "::'")


def test_the_execution_page_shows_metrics_per_task_run_and_clean_log_lines(
    page: Page, alice: Any
) -> None:
    rows = {"name": "rows", "type": "counter", "value": 42, "tags": {"table": "orders"}}
    took = {"name": "took", "type": "timer", "value": 2.5}
    log = {"level": "WARN", "message": "3 rows skipped"}
    flow = Flow.save_source(
        "id: measured\nnamespace: browser\ntasks:\n"
        "  - id: extract\n    type: io.kestra.plugin.scripts.shell.Commands\n"
        f"    taskRunner: {{type: {PROCESS}}}\n    commands:\n"
        f"      - {said({'metrics': [rows, took]})}\n"
        f"      - {said({'logs': [log]})}\n"
        "      - echo done\n",
        author=alice,
    )
    page.goto(flow.get_absolute_url())
    page.get_by_role("button", name="Run").click()
    page.wait_for_url(re.compile(r"/executions/[^/]+/$"))

    metrics = page.get_by_test_id("metrics")
    expect(metrics).to_contain_text("extract")
    expect(metrics.locator('[data-metric="rows"]')).to_contain_text("counter")
    expect(metrics.locator('[data-metric="rows"]')).to_contain_text("42")
    expect(metrics.locator('[data-metric="rows"]')).to_contain_text("table=orders")
    expect(metrics.locator('[data-metric="took"]')).to_contain_text("2.5 s")
    logs = page.locator("#logs")
    expect(logs).to_contain_text("3 rows skipped")
    expect(logs).to_contain_text("done")
    expect(logs).not_to_contain_text("::{")
