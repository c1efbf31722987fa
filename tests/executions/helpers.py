"""Executions written as rows, the way the engine leaves them, so that each shape of run
can be looked at on its pages without waiting for one."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from executions.models import Execution, State, TaskRun, TaskRunAttempt
from flows.models import Flow

T0 = timezone.make_aware(datetime(2026, 3, 2, 9, 0, 0))
PARALLEL = "io.kestra.plugin.core.flow.Parallel"
SHELL = "io.kestra.plugin.scripts.shell.Commands"
PROCESS = "io.kestra.plugin.core.runner.Process"

PARALLEL_FLOW = f"""id: fan-out
namespace: dev
tasks:
  - id: prepare
    type: io.kestra.plugin.core.log.Log
    message: start
  - id: fan
    type: {PARALLEL}
    tasks:
      - id: left
        type: {SHELL}
        taskRunner: {{type: {PROCESS}}}
        commands: [sleep 1]
      - id: middle
        type: {SHELL}
        taskRunner: {{type: {PROCESS}}}
        commands: [sleep 1]
      - id: right
        type: {SHELL}
        taskRunner: {{type: {PROCESS}}}
        commands: [sleep 1]
  - id: report
    type: io.kestra.plugin.core.log.Log
    message: done
"""

BRANCHES_FLOW = """id: branches
namespace: dev
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: ["a", "b"]
    tasks:
      - id: inner
        type: io.kestra.plugin.core.log.Log
        message: "{{ taskrun.value }}"
  - id: check
    type: io.kestra.plugin.core.flow.If
    condition: "{{ true }}"
    then:
      - id: agree
        type: io.kestra.plugin.core.log.Log
        message: agreed
    else:
      - id: refuse
        type: io.kestra.plugin.core.log.Log
        message: refused
"""


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def make_execution(source: str = PARALLEL_FLOW, **fields: Any) -> Execution:
    flow = Flow.save_source(source)
    values = {"state": State.SUCCESS, "started_at": T0, "ended_at": at(10), "created_at": T0}
    values.update(fields)
    return Execution.objects.create(
        flow_revision=flow.current_revision,
        namespace=flow.namespace,
        flow_id=flow.flow_id,
        **values,
    )


def make_run(
    execution: Execution,
    task_id: str,
    *,
    path: str = "",
    parent: TaskRun | None = None,
    position: int = 0,
    state: str = State.SUCCESS,
    span: tuple[float, float | None] | None = (0, 1),
    task_type: str = SHELL,
    **fields: Any,
) -> TaskRun:
    started, ended = span if span else (None, None)
    return TaskRun.objects.create(
        execution=execution,
        task_id=task_id,
        path=path or task_id,
        parent=parent,
        position=position,
        task_type=task_type,
        state=state,
        started_at=None if started is None else at(started),
        ended_at=None if ended is None else at(ended),
        created_at=at(started or 0),
        **fields,
    )


def make_attempt(run: TaskRun, number: int, state: str, span: tuple[float, float], **fields: Any):
    return TaskRunAttempt.objects.create(
        task_run=run,
        number=number,
        state=state,
        started_at=at(span[0]),
        ended_at=at(span[1]),
        **fields,
    )


def half_run_fan_out() -> tuple[Execution, dict[str, TaskRun]]:
    """fan-out while its Parallel runs: prepare done, left done, middle failing a first
    attempt and retrying, right running, report not started."""
    execution = make_execution(state=State.RUNNING, ended_at=None)
    prepare = make_run(execution, "prepare", span=(0, 1), task_type="io.kestra.plugin.core.log.Log")
    fan = make_run(
        execution, "fan", position=1, state=State.RUNNING, span=(1, None), task_type=PARALLEL
    )
    left = make_run(execution, "left", path="fan/left", parent=fan, span=(1, 2), attempt=1)
    middle = make_run(
        execution,
        "middle",
        path="fan/middle",
        parent=fan,
        position=1,
        state=State.RUNNING,
        span=(1, None),
        attempt=2,
    )
    right = make_run(
        execution,
        "right",
        path="fan/right",
        parent=fan,
        position=2,
        state=State.RUNNING,
        span=(1, None),
        attempt=1,
    )
    make_attempt(left, 1, State.SUCCESS, (1, 2))
    make_attempt(middle, 1, State.FAILED, (1, 1.5), exit_code=3, error="exit code 3")
    TaskRunAttempt.objects.create(task_run=middle, number=2, state=State.RUNNING, started_at=at(2))
    TaskRunAttempt.objects.create(task_run=right, number=1, state=State.RUNNING, started_at=at(1))
    runs = {"prepare": prepare, "fan": fan, "left": left, "middle": middle, "right": right}
    return execution, runs


def listed_executions(html: str) -> list[str]:
    return re.findall(r'<tr data-execution="([^"]+)"', html)


COMPANY_FLOW = PARALLEL_FLOW.replace("namespace: dev", "namespace: company.data")


def execution_page(client: Any, execution: Execution) -> str:
    """The execution page's HTML as ``client`` sees it (200 asserted)."""
    response = client.get(f"/executions/{execution.pk}/")
    assert response.status_code == 200
    return str(response.content.decode())
