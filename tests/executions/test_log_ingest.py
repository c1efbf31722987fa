"""A task's output at volume: every line stored, in order, masked, within the cap.

Real runs of real scripts; a million lines take seconds since lines are stored in large
batches (executions/live.py, executions/log_rows.py).
"""

from __future__ import annotations

import re

import pytest

from executions import live
from executions.models import LogLine, State
from flows.models import Flow
from namespaces.masking import MASK
from namespaces.models import Secret
from tests.flows_helpers import PROCESS, flow_yaml, run_here, save_flow

pytestmark = pytest.mark.django_db(transaction=True)


def printing_flow(script: str, *, env: str = "") -> Flow:
    """A flow whose Process task runs the Python ``script``."""
    body = "\n".join(f"        {line}" for line in script.strip().splitlines())
    return save_flow(
        flow_yaml(
            f"  - id: print\n    type: io.kestra.plugin.scripts.shell.Commands\n"
            f"    taskRunner:\n      type: {PROCESS}\n{env}"
            f"    commands:\n      - |\n        python3 - <<'EOF'\n{body}\n        EOF\n"
        )
    )


def stored_output(execution) -> list[str]:
    lines = LogLine.objects.filter(execution=execution, stream=LogLine.Stream.STDOUT)
    return list(lines.order_by("id").values_list("message", flat=True))


def test_a_task_printing_a_million_lines_has_every_line_stored_in_order(api) -> None:
    execution = run_here(printing_flow("for i in range(1000000): print(i)"))
    assert execution.state == State.SUCCESS
    messages = stored_output(execution)
    assert len(messages) == 1_000_000
    assert messages[0] == "0" and messages[987_654] == "987654" and messages[-1] == "999999"
    assert messages == [str(i) for i in range(1_000_000)]
    ids = list(LogLine.objects.filter(execution=execution).values_list("id", flat=True))
    assert len(ids) == len(set(ids)) and ids == sorted(ids)
    assert paged_back(api, execution.pk) == messages


def paged_back(api, execution_id: str) -> list[str]:
    """The task's printed lines as Kestra's logs API gives them back, page after page."""
    printed: list[str] = []
    path = f"/api/v1/logs/{execution_id}?size=10000"
    while path:
        response = api.get(path)
        assert response.status_code == 200
        printed += [entry["message"] for entry in response.json() if entry["message"].isdigit()]
        link = response.headers.get("Link")
        path = f"/api/v1/logs/{execution_id}" + link[1 : link.index(">")] if link else ""
    return printed


@pytest.mark.docker
def test_a_docker_task_printing_200000_lines_has_every_line_stored_in_order(
    docker_engine,
) -> None:
    flow = save_flow(
        flow_yaml(
            "  - id: print\n    type: io.kestra.plugin.scripts.python.Script\n"
            "    containerImage: python:3.11-slim\n"
            "    script: |\n      for i in range(200000):\n          print(i)\n"
        )
    )
    execution = run_here(flow)
    assert execution.state == State.SUCCESS
    assert stored_output(execution) == [str(i) for i in range(200_000)]


def test_output_past_the_line_cap_is_not_stored_and_one_line_says_so(settings) -> None:
    settings.FLOWSITE_TASK_LOG_MAX_LINES = 1000
    script = """
import json
for i in range(5000):
    print(i)
print("::" + json.dumps({"outputs": {"last": i}}) + "::")
"""
    execution = run_here(printing_flow(script))
    assert execution.state == State.SUCCESS  # truncating the output does not fail the task
    assert stored_output(execution) == [str(i) for i in range(1000)]
    warnings = LogLine.objects.filter(execution=execution, level="WARN")
    assert [line.message for line in warnings] == [
        "Output truncated after 1,000 lines (0.0 MB), the limit of FLOWSITE_TASK_LOG_MAX_LINES:"
        " the task runs on, its further output is not stored"
    ]
    assert warnings[0].stream == LogLine.Stream.SYSTEM
    # The script's outputs printed after the cap still reach the task run.
    assert execution.task_runs.get(task_id="print").outputs["vars"] == {"last": 4999}


def test_output_past_the_byte_cap_is_not_stored_and_one_line_names_that_setting(
    settings,
) -> None:
    settings.FLOWSITE_TASK_LOG_MAX_BYTES = 10_000
    execution = run_here(printing_flow('for i in range(5000): print("x" * 99)'))
    assert execution.state == State.SUCCESS
    assert len(stored_output(execution)) == 100  # 100 bytes a line with its newline
    truncated = LogLine.objects.get(execution=execution, level="WARN")
    assert truncated.message.startswith("Output truncated after 100 lines (0.0 MB)")
    assert "FLOWSITE_TASK_LOG_MAX_BYTES" in truncated.message


def test_a_secret_printed_all_through_a_big_output_is_masked_in_every_batch(
    monkeypatch, alice
) -> None:
    # Batches of about 64 kB: the output spans a hundred of them, and lines split the
    # secret at every place, across the end of one batch and the start of the next too.
    monkeypatch.setattr(live, "FLUSH_BYTES", 64 * 1024)
    secret = "sk-live-batch-0123456789"
    Secret.store(namespace="dev", key="TOKEN", value=secret, user=alice)
    script = """
import os
t = os.environ["TOKEN"]
for i in range(200000):
    if i % 2:
        print(i, t[: i % len(t)])
        print(t[i % len(t) :], i)
    else:
        print(i, t)
"""
    flow = printing_flow(script, env="    env:\n      TOKEN: \"{{ secret('TOKEN') }}\"\n")
    execution = run_here(flow)
    assert execution.state == State.SUCCESS
    messages = stored_output(execution)
    assert len(messages) == 300_000
    masked = re.compile(rf"\d+ {re.escape(MASK)}|{re.escape(MASK)} \d+")
    assert [text for text in messages if not masked.fullmatch(text)] == []
    assert messages[:3] == [f"0 {MASK}", f"1 {MASK}", f"{MASK} 1"]
    assert messages[-2:] == [f"199999 {MASK}", f"{MASK} 199999"]
