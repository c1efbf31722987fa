"""Flowable tasks as Kestra runs them, on a real worker: ``errors`` and ``finally`` on
any flowable, the older EachSequential and EachParallel loops, ForEach's null and
repeated values, and what expressions see inside loops (``currentEachOutput``,
``parent``, ``parents``)."""

from __future__ import annotations

import pytest

from executions.lifecycle import execution_start
from executions.models import Execution, State, TaskRun
from executions.signals import execution_ended
from flows.language import FlowInvalid, parse_flow
from tests.conftest import wait_until
from tests.flows_helpers import finished, messages, save_flow

pytestmark = pytest.mark.django_db(transaction=True)

LOG = "io.kestra.plugin.core.log.Log"
FAIL = "io.kestra.plugin.core.execution.Fail"
RETURN = "io.kestra.plugin.core.debug.Return"


def run(source: str) -> Execution:
    return finished(execution_start(flow=save_flow(source)))


def states(execution: Execution) -> dict[str, str]:
    return {run.task_id: run.state for run in TaskRun.objects.filter(execution=execution)}


def test_it_runs_a_sequentials_errors_then_its_finally_and_the_sequential_still_fails(
    worker,
) -> None:
    execution = run(f"""
id: local-handlers
namespace: dev
tasks:
  - id: group
    type: io.kestra.plugin.core.flow.Sequential
    tasks:
      - {{id: boom, type: {FAIL}, errorMessage: broken}}
      - {{id: never, type: {LOG}, message: never}}
    errors:
      - {{id: alert, type: {LOG}, message: "caught in group"}}
    finally:
      - {{id: cleanup, type: {LOG}, message: "group cleanup"}}
errors:
  - {{id: flow_alert, type: {LOG}, message: "caught by the flow"}}
""")
    assert execution.state == State.FAILED
    seen = states(execution)
    assert seen["group"] == State.FAILED
    assert seen["alert"] == State.SUCCESS and seen["cleanup"] == State.SUCCESS
    assert "never" not in seen
    logged = messages(execution)
    assert logged.index("caught in group") < logged.index("group cleanup")
    assert logged.index("group cleanup") < logged.index("caught by the flow")


def test_it_runs_a_parallels_finally_when_all_went_well_and_not_its_errors(worker) -> None:
    execution = run(f"""
id: parallel-finally
namespace: dev
tasks:
  - id: fan
    type: io.kestra.plugin.core.flow.Parallel
    tasks:
      - {{id: left, type: {LOG}, message: left}}
      - {{id: right, type: {LOG}, message: right}}
    errors:
      - {{id: alert, type: {LOG}, message: alert}}
    finally:
      - {{id: tidy, type: {LOG}, message: tidy}}
  - {{id: after, type: {LOG}, message: after}}
""")
    assert execution.state == State.SUCCESS
    assert "alert" not in states(execution)
    assert messages(execution)[-2:] == ["tidy", "after"]


def test_a_failing_finally_fails_the_if_it_belongs_to(worker) -> None:
    execution = run(f"""
id: if-finally
namespace: dev
tasks:
  - id: check
    type: io.kestra.plugin.core.flow.If
    condition: "{{{{ true }}}}"
    then:
      - {{id: fine, type: {LOG}, message: fine}}
    finally:
      - {{id: tidy, type: {FAIL}, errorMessage: tidy failed}}
""")
    assert execution.state == State.FAILED
    assert states(execution)["check"] == State.FAILED


def test_each_sequential_runs_its_tasks_per_value_in_order_with_objects_as_json(worker) -> None:
    execution = run(f"""
id: each-sequential
namespace: dev
tasks:
  - id: each
    type: io.kestra.core.tasks.flows.EachSequential
    value: '["a", {{"k": 1}}, 3]'
    tasks:
      - {{id: show, type: {LOG}, message: "value {{{{ taskrun.value }}}}"}}
""")
    assert execution.state == State.SUCCESS
    assert messages(execution) == ["value a", 'value {"k":1}', "value 3"]


def test_each_parallel_runs_every_value_and_keeps_each_values_outputs(worker) -> None:
    execution = run(f"""
id: each-parallel
namespace: dev
tasks:
  - id: each
    type: io.kestra.core.tasks.flows.EachParallel
    value: [x, y, z]
    concurrent: 2
    tasks:
      - {{id: echo, type: {RETURN}, format: "got {{{{ taskrun.value }}}}"}}
  - id: report
    type: {LOG}
    message: "{{{{ outputs.echo.x.value }}}} {{{{ outputs.echo.z.value }}}}"
""")
    assert execution.state == State.SUCCESS
    assert messages(execution)[-1] == "got x got z"


def test_a_null_among_foreach_values_fails_the_loop_instead_of_iterating_over_null(
    worker,
) -> None:
    execution = run(f"""
id: foreach-null
namespace: dev
tasks:
  - id: loop
    type: io.kestra.plugin.core.flow.ForEach
    values: '["a", null]'
    tasks:
      - {{id: show, type: {LOG}, message: "{{{{ taskrun.value }}}}"}}
""")
    assert execution.state == State.FAILED
    loop = TaskRun.objects.get(execution=execution, task_id="loop")
    assert loop.state == State.FAILED
    assert "Found 1 null value" in loop.error
    assert "show" not in states(execution)


def test_a_value_repeated_in_foreach_runs_once_as_in_kestra(worker) -> None:
    execution = run(f"""
id: foreach-repeat
namespace: dev
tasks:
  - id: loop
    type: io.kestra.plugin.core.flow.ForEach
    values: [a, b, a]
    tasks:
      - {{id: show, type: {LOG}, message: "{{{{ taskrun.value }}}}"}}
""")
    assert execution.state == State.SUCCESS
    assert messages(execution) == ["a", "b"]


def test_current_each_output_reads_this_iterations_output_in_nested_loops(worker) -> None:
    execution = run(f"""
id: current-each
namespace: dev
tasks:
  - id: outer
    type: io.kestra.plugin.core.flow.ForEach
    values: [a, b]
    tasks:
      - id: inner
        type: io.kestra.plugin.core.flow.ForEach
        values: ["1", "2"]
        tasks:
          - {{id: first, type: {RETURN}, format: "{{{{ parent.taskrun.value }}}}-{{{{ taskrun.value }}}}"}}
          - id: second
            type: {LOG}
            message: "{{{{ currentEachOutput(outputs.first).value }}}} {{{{ parents[0].taskrun.value }}}}"
  - id: nested
    type: {LOG}
    message: "{{{{ outputs.first.b['2'].value }}}}"
""")
    assert execution.state == State.SUCCESS
    assert messages(execution) == ["a-1 a", "a-2 a", "b-1 b", "b-2 b", "b-2"]


def test_errors_on_a_flowable_that_is_not_a_list_of_tasks_is_refused_with_its_place() -> None:
    with pytest.raises(FlowInvalid) as caught:
        parse_flow(f"""id: bad
namespace: dev
tasks:
  - id: group
    type: io.kestra.plugin.core.flow.Sequential
    tasks:
      - {{id: a, type: {LOG}, message: a}}
    errors: nope
""")
    assert any(error.line == 8 and "errors" in str(error) for error in caught.value.errors)


def test_a_flowables_retry_retries_its_failed_task_in_place(worker) -> None:
    execution = run(f"""
id: flowable-retry
namespace: dev
tasks:
  - id: group
    type: io.kestra.plugin.core.flow.Sequential
    retry:
      type: constant
      interval: PT0.1S
      maxAttempts: 3
    tasks:
      - id: flaky
        type: io.kestra.plugin.scripts.shell.Commands
        taskRunner: {{type: io.kestra.plugin.core.runner.Process}}
        commands:
          - 'test "{{{{ taskrun.attemptsCount }}}}" -ge 2'
      - {{id: after, type: {LOG}, message: "went on"}}
""")
    assert execution.state == State.SUCCESS
    flaky = TaskRun.objects.get(execution=execution, task_id="flaky")
    assert list(flaky.attempts.values_list("state", flat=True)) == [
        State.FAILED,
        State.FAILED,
        State.SUCCESS,
    ]


def test_a_flowables_retry_in_a_new_execution_replays_until_max_attempts(
    worker, django_capture_on_commit_callbacks
) -> None:
    first = run(f"""
id: flowable-retry-new
namespace: dev
tasks:
  - id: group
    type: io.kestra.plugin.core.flow.Sequential
    retry:
      type: constant
      interval: PT1S
      maxAttempts: 2
      behavior: CREATE_NEW_EXECUTION
    tasks:
      - {{id: broken, type: {FAIL}, errorMessage: always}}
""")
    assert first.state == State.FAILED
    assert TaskRun.objects.get(execution=first, task_id="broken").attempts.count() == 1

    def replay() -> Execution | None:
        return Execution.objects.filter(original_id=first.pk).first()

    second = finished(wait_until(replay, what="the retry in a new execution"))
    assert second.state == State.FAILED
    # Its end asks for no third: two executions are the two attempts allowed.
    with django_capture_on_commit_callbacks() as callbacks:
        execution_ended.send(sender=Execution, execution=second)
    assert callbacks == []


def test_allow_failure_runs_its_errors_then_only_warns_and_the_flow_goes_on(worker) -> None:
    execution = run(f"""
id: allow-failure
namespace: dev
tasks:
  - id: tolerant
    type: io.kestra.core.tasks.flows.AllowFailure
    tasks:
      - {{id: boom, type: {FAIL}, errorMessage: broken}}
    errors:
      - {{id: noted, type: {LOG}, message: noted}}
  - {{id: after, type: {LOG}, message: after}}
""")
    assert execution.state == State.WARNING
    assert states(execution)["tolerant"] == State.WARNING
    assert messages(execution)[-2:] == ["noted", "after"]
