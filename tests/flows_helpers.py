"""Small helpers to write flows and run them in tests."""

from __future__ import annotations

from datetime import datetime
from textwrap import dedent
from typing import Any

from executions.jobs import run_task_run
from executions.lifecycle import execution_start
from executions.models import Execution, LogLine, TaskRun
from flows.models import Flow

PROCESS = "io.kestra.plugin.core.runner.Process"


def flow_yaml(tasks: str, *, flow_id: str = "test-flow", namespace: str = "dev") -> str:
    return f"id: {flow_id}\nnamespace: {namespace}\n\ntasks:\n{dedent(tasks).rstrip()}\n"


def save_flow(source: str) -> Flow:
    return Flow.save_source(dedent(source))


def run_here(flow: Flow, user: Any = None) -> Execution:
    """Start an execution and run its jobs in this process, as a worker would."""
    execution = execution_start(flow=flow, user=user)
    first = execution.task_runs.order_by("position").first()
    if first is not None:
        run_task_run(first.pk)
    execution.refresh_from_db()
    return execution


def messages(execution: Execution, stream: str | None = None) -> list[str]:
    lines = LogLine.objects.filter(execution=execution).order_by("id")
    if stream:
        lines = lines.filter(stream=stream)
    return list(lines.values_list("message", flat=True))


def finished(execution: Execution, timeout: float = 60) -> Execution:
    """Wait for ``execution`` to end, refreshed; fail the test after ``timeout`` s."""
    from tests.conftest import wait_until

    def done() -> Execution | None:
        execution.refresh_from_db()
        return execution if execution.is_terminal else None

    return wait_until(done, timeout=timeout, what=f"execution {execution.pk} to end")


def started(row: Execution | TaskRun) -> datetime:
    """When ``row`` started; fails the test if it has not."""
    assert row.started_at is not None, f"{row} has not started"
    return row.started_at


def ended(row: Execution | TaskRun) -> datetime:
    """When ``row`` ended; fails the test if it has not."""
    assert row.ended_at is not None, f"{row} has not ended"
    return row.ended_at


def own_labels(execution: Execution) -> dict[str, str]:
    """An execution's labels but the ``system.*`` ones Flowsite sets on every execution."""
    execution.refresh_from_db()
    return {k: v for k, v in (execution.labels or {}).items() if not k.startswith("system.")}
