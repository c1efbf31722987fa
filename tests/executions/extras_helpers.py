"""Helpers shared by the extras tests: run a flow on the worker, its task runs by id,
and the example flows."""

from __future__ import annotations

from pathlib import Path

from executions.lifecycle import execution_start
from executions.models import Execution, TaskRun
from tests.flows_helpers import finished, save_flow

EXAMPLES = Path(__file__).resolve().parents[2] / "flows" / "examples"
LOG = "io.kestra.plugin.core.log.Log"
FAIL = "io.kestra.plugin.core.execution.Fail"


def run(source: str, **kwargs) -> Execution:
    return finished(execution_start(flow=save_flow(source), **kwargs))


def runs(execution: Execution) -> dict[str, TaskRun]:
    return {run.task_id: run for run in execution.task_runs.all()}


def example(name: str) -> str:
    return (EXAMPLES / f"{name}.yml").read_text()
