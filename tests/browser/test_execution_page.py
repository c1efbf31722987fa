"""A user writes a flow in the browser, runs it and watches its output arrive live.

Each test drives Debian's Chromium against a real daphne server and a real django-q2
worker that runs tasks in Docker, so data must be committed: transactional tests.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from playwright.sync_api import Page, expect

from executions.lifecycle import execution_start
from executions.models import Execution, State
from executions.queue import enqueue_task_run
from flows.models import Flow
from tests.browser.conftest import screenshot_when_asked
from tests.conftest import wait_until

pytestmark = [
    pytest.mark.browser,
    pytest.mark.docker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("docker_engine", "worker"),
]

ROOT = Path(__file__).resolve().parents[2]
PIP_INSTALL_TIMEOUT_MS = 90_000  # pip install runs inside the container


def _python_flow(flow_id: str, script: str) -> str:
    body = "".join(f"      {line}\n" for line in textwrap.dedent(script).strip().splitlines())
    return (
        f"id: {flow_id}\n"
        "namespace: browser\n"
        "tasks:\n"
        "  - id: script\n"
        "    type: io.kestra.plugin.scripts.python.Script\n"
        "    script: |\n"
        f"{body}"
    )


def _run(page: Page, flow: Flow) -> str:
    """Open the flow's page, click Run, land on the new execution's page; return its URL."""
    page.goto(flow.get_absolute_url())
    page.get_by_role("button", name="Run").click()
    page.wait_for_url(re.compile(r"/executions/[^/]+/$"))
    _mark_document(page)
    return page.url


def _mark_document(page: Page) -> None:
    # A reload or navigation would drop this flag: it proves updates came in place.
    page.evaluate("window.flowsiteSameDocument = true")


def _still_same_document(page: Page) -> bool:
    return page.evaluate("window.flowsiteSameDocument === true")


def _state(page: Page) -> Any:
    return page.get_by_test_id("execution-state")


def _snapshot_when_logs_contain(page: Page, text: str, timeout: float = 30_000) -> dict:
    """The page's state badge and log text read in one go, the moment ``text`` shows up."""
    handle = page.wait_for_function(
        """text => {
          const logs = document.getElementById("logs").textContent;
          if (!logs.includes(text)) return null;
          const state = document.querySelector('[data-testid="execution-state"]');
          return {logs, state: state.textContent.trim()};
        }""",
        arg=text,
        timeout=timeout,
    )
    return handle.json_value()


def test_a_user_pastes_a_flow_saves_it_runs_it_and_sees_its_output(page: Page) -> None:
    example = (ROOT / "flows" / "examples" / "hello-world-colored.yml").read_text()
    source = example.replace("id: hello-world-colored\n", "id: hello-world-colored-browser\n", 1)
    assert source != example

    page.get_by_role("link", name="New flow").click()
    page.get_by_label("Flow YAML").fill(source)
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/flows/dev/hello-world-colored-browser/")
    expect(page.get_by_label("Flow YAML")).to_have_value(source)

    page.get_by_role("button", name="Run").click()
    page.wait_for_url(re.compile(r"/executions/[^/]+/$"))
    _mark_document(page)
    logs = page.locator("#logs")
    expect(logs).to_contain_text("Hello World in red text", timeout=PIP_INSTALL_TIMEOUT_MS)
    expect(logs.locator(".ansi-fg-red")).to_have_text("Hello World in red text")
    expect(_state(page)).to_have_text("SUCCESS")
    expect(page.locator("tr[data-task='python-script']")).to_contain_text("SUCCESS")
    expect(page.get_by_role("button", name="Kill")).to_have_count(0)
    assert _still_same_document(page)

    expect(page.locator("#live-status")).to_have_text("finished")
    page.locator("#logs").evaluate("logs => { logs.scrollTop = logs.scrollHeight; }")
    screenshot_when_asked(page, "execution-page.png")


def test_output_arrives_live_while_the_execution_is_still_running(page: Page, alice: Any) -> None:
    flow = Flow.save_source(
        _python_flow(
            "live-output",
            """
            import time
            print("first line")
            time.sleep(3)
            print("second line")
            """,
        ),
        author=alice,
    )
    _run(page, flow)

    seen = _snapshot_when_logs_contain(page, "first line")
    assert seen["state"] == "RUNNING"
    assert "second line" not in seen["logs"]

    expect(page.locator("#logs")).to_contain_text("second line")
    expect(_state(page)).to_have_text("SUCCESS")
    assert _still_same_document(page)


def test_an_invalid_flow_shows_its_errors_with_line_and_column_and_keeps_the_text(
    page: Page, alice: Any
) -> None:
    stored = _python_flow("kept-flow", 'print("hello")')
    flow = Flow.save_source(stored, author=alice)
    broken = (
        "id: kept-flow\n"
        "namespace: browser\n"
        "tasks:\n"
        "  - id: hello\n"
        "    type: io.kestra.plugin.scripts.python.Script\n"
        "    script: |\n"
        '      print("hello")\n'
        "   - id: misplaced\n"
    )

    page.goto(flow.get_absolute_url())
    page.get_by_label("Flow YAML").fill(broken)
    page.get_by_role("button", name="Save").click()

    errors = page.get_by_test_id("flow-errors")
    expect(errors).to_be_visible()
    expect(errors.locator("li").first).to_contain_text("Line 8, column 4")
    expect(page.get_by_label("Flow YAML")).to_have_value(broken)
    expect(page.get_by_role("status")).to_have_count(0)

    page.reload()
    expect(page.get_by_label("Flow YAML")).to_have_value(stored)
    expect(page.get_by_test_id("flow-errors")).to_have_count(0)
    expect(page.locator("#editor")).to_contain_text("Revision 1")


def test_kill_stops_a_running_execution_from_the_page(page: Page, alice: Any) -> None:
    flow = Flow.save_source(
        _python_flow(
            "sleeps-a-minute",
            """
            import time
            print("going to sleep")
            time.sleep(60)
            print("woke up")
            """,
        ),
        author=alice,
    )
    _run(page, flow)
    # Kill once the container really runs, not while the task run is still queued.
    expect(page.locator("#logs")).to_contain_text("going to sleep")
    expect(_state(page)).to_have_text("RUNNING")

    page.get_by_role("button", name="Kill").click()

    expect(_state(page)).to_have_text("KILLED", timeout=10_000)
    expect(page.get_by_role("button", name="Kill")).to_have_count(0)
    expect(page.locator("tr[data-task='script']")).to_contain_text("KILLED")
    expect(page.locator("#logs")).not_to_contain_text("woke up")
    assert _still_same_document(page)


def test_a_page_opened_mid_run_shows_the_earlier_lines_then_follows(page: Page, alice: Any) -> None:
    flow = Flow.save_source(
        _python_flow(
            "opened-late",
            """
            import time
            print("early one")
            print("early two")
            time.sleep(4)
            print("late line")
            """,
        ),
        author=alice,
    )
    url = _run(page, flow)
    expect(page.locator("#logs")).to_contain_text("early two")

    late_page = page.context.new_page()
    late_page.goto(url)
    _mark_document(late_page)
    seen = _snapshot_when_logs_contain(late_page, "early one")
    assert "early two" in seen["logs"]
    assert "late line" not in seen["logs"]
    assert seen["state"] == "RUNNING"

    logs = late_page.locator("#logs")
    expect(logs).to_contain_text("late line")
    expect(_state(late_page)).to_have_text("SUCCESS")
    for text in ("early one", "early two", "late line"):
        expect(logs.locator(".line", has_text=text)).to_have_count(1)
    assert _still_same_document(late_page)


def test_a_page_rendered_just_before_the_run_started_still_shows_it_running(
    page: Page, alice: Any
) -> None:
    flow = Flow.save_source(
        _python_flow("starts-late", 'import time\nprint("started")\ntime.sleep(3)'), author=alice
    )
    # The page is rendered while the execution is CREATED, and its websocket only reaches
    # the server once the worker has marked it RUNNING: its first message is a change.
    with mock.patch("executions.queue.enqueue_task_run") as enqueue:
        execution = execution_start(flow=flow, user=alice)
    (task_run_id,), _ = enqueue.call_args

    def start_the_run_then_connect(socket: Any) -> None:
        enqueue_task_run(task_run_id)
        wait_until(
            lambda: Execution.objects.filter(pk=execution.pk, state=State.RUNNING).exists(),
            what="the worker to start the run",
        )
        socket.connect_to_server()

    page.route_web_socket(re.compile(r"/ws/executions/"), start_the_run_then_connect)
    page.goto(execution.get_absolute_url())
    expect(_state(page)).to_have_text("CREATED")
    _mark_document(page)

    seen = _snapshot_when_logs_contain(page, "started")
    assert seen["state"] == "RUNNING"
    expect(_state(page)).to_have_text("SUCCESS")
    assert _still_same_document(page)
