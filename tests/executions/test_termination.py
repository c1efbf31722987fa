"""No execution is left RUNNING by an error of ours: a runIf that does not render, a
flowable that cannot decide, an exception in the planner. The task fails, named with
its expression, and the execution goes on to errors and finally, then ends."""

from __future__ import annotations

import pytest

from executions.lifecycle import execution_start
from executions.models import Execution, State, TaskRun
from tests.executions.driving import inconsistencies
from tests.flows_helpers import ended, finished, messages, save_flow

pytestmark = pytest.mark.django_db(transaction=True)

LOG = "io.kestra.plugin.core.log.Log"
AFTERWARDS = f"""errors:
  - id: alert
    type: {LOG}
    message: errors ran
finally:
  - id: cleanup
    type: {LOG}
    message: finally ran
"""


def flow(flow_id: str, tasks: str, extra: str = AFTERWARDS) -> str:
    return f"id: {flow_id}\nnamespace: dev\ntasks:\n{tasks}{extra}"


def log(task_id: str, message: str = "ok", extra: str = "") -> str:
    return f'  - id: {task_id}\n    type: {LOG}\n    message: "{message}"\n{extra}'


def runs(execution: Execution) -> dict[str, TaskRun]:
    return {run.path: run for run in execution.task_runs.all()}


def run_on_worker(source: str) -> Execution:
    execution = finished(execution_start(flow=save_flow(source)), timeout=30)
    assert inconsistencies(execution) == []
    return execution


def test_a_run_if_that_does_not_render_fails_its_task_and_the_execution_goes_on(worker) -> None:
    source = flow(
        "run-if-broken",
        log("first") + log("guarded", extra='    runIf: "{{ outputs.nowhere.value }}"\n'),
    )
    execution = run_on_worker(source)
    assert execution.state == State.FAILED
    by_path = runs(execution)
    assert by_path["first"].state == State.SUCCESS  # the task before is not blamed
    error = by_path["guarded"].error
    assert "'guarded'" in error and "runIf" in error and "{{ outputs.nowhere.value }}" in error
    assert error in messages(execution)  # in the task's logs too
    assert {"errors ran", "finally ran"} <= set(messages(execution))


def test_a_run_if_that_fails_on_the_first_task_ends_the_execution_as_it_starts(worker) -> None:
    source = flow("run-if-first", log("guarded", extra='    runIf: "{{ 1 / 0 }}"\n') + log("next"))
    execution = run_on_worker(source)
    assert execution.state == State.FAILED
    assert "next" not in runs(execution)
    assert "'guarded'" in runs(execution)["guarded"].error
    assert {"errors ran", "finally ran"} <= set(messages(execution))


def test_a_broken_run_if_on_a_task_allowed_to_fail_lets_the_flow_go_on_in_warning(worker) -> None:
    source = flow(
        "run-if-allowed",
        log("guarded", extra='    runIf: "{{ nope }}"\n    allowFailure: true\n')
        + log("next", "went on"),
        extra="",
    )
    execution = run_on_worker(source)
    assert execution.state == State.WARNING
    assert runs(execution)["guarded"].state == State.FAILED
    assert "went on" in messages(execution)


@pytest.mark.parametrize(
    ("task", "named"),
    [
        (
            "  - id: each\n    type: io.kestra.plugin.core.flow.ForEach\n"
            '    values: "{{ outputs.missing.values }}"\n    tasks:\n'
            "      - {id: inner, type: io.kestra.plugin.core.log.Log, message: x}\n",
            ["'each'", "values", "{{ outputs.missing.values }}"],
        ),
        (
            "  - id: each\n    type: io.kestra.plugin.core.flow.ForEach\n"
            "    values: \"{{ 'not a list' }}\"\n    tasks:\n"
            "      - {id: inner, type: io.kestra.plugin.core.log.Log, message: x}\n",
            ["'each'", "values", "must be a list", "not a list"],
        ),
        (
            "  - id: pick\n    type: io.kestra.plugin.core.flow.Switch\n"
            '    value: "{{ inputs.absent }}"\n    cases:\n'
            "      a: [{id: inner, type: io.kestra.plugin.core.log.Log, message: x}]\n",
            ["'pick'", "value", "{{ inputs.absent }}"],
        ),
        (
            "  - id: check\n    type: io.kestra.plugin.core.flow.If\n"
            '    condition: "{{ vars.nothing.here }}"\n    then:\n'
            "      - {id: inner, type: io.kestra.plugin.core.log.Log, message: x}\n",
            ["'check'", "condition", "{{ vars.nothing.here }}"],
        ),
    ],
    ids=["foreach-render", "foreach-not-a-list", "switch", "if"],
)
def test_a_flowable_that_cannot_decide_fails_naming_its_expression(
    worker, task: str, named: list[str]
) -> None:
    source = flow("undecided", log("first") + task + log("never"))
    execution = run_on_worker(source)
    assert execution.state == State.FAILED
    by_path = runs(execution)
    undecided = next(
        run for run in by_path.values() if run.task_type.endswith(("ForEach", "Switch", "If"))
    )
    assert all(part in undecided.error for part in named), undecided.error
    assert "inner" not in by_path and "never" not in by_path
    assert {"errors ran", "finally ran"} <= set(messages(execution))


def test_a_flowable_that_cannot_decide_inside_a_parallel_lets_its_siblings_end(worker) -> None:
    source = flow(
        "undecided-in-parallel",
        "  - id: both\n    type: io.kestra.plugin.core.flow.Parallel\n    tasks:\n"
        "      - id: sibling\n        type: io.kestra.plugin.scripts.shell.Commands\n"
        "        taskRunner: {type: io.kestra.plugin.core.runner.Process}\n"
        "        commands: [sleep 1]\n"
        "      - id: check\n        type: io.kestra.plugin.core.flow.If\n"
        '        condition: "{{ 1 / 0 }}"\n'
        "        then: [{id: inner, type: io.kestra.plugin.core.log.Log, message: x}]\n",
    )
    execution = run_on_worker(source)
    assert execution.state == State.FAILED
    by_path = runs(execution)
    assert by_path["both/check"].state == State.FAILED
    assert by_path["both/sibling"].state in (State.SUCCESS, State.FAILED)  # ended, not cut off
    assert ended(by_path["both"]) >= ended(by_path["both/sibling"])
