"""Kestra's task properties allowWarning, logLevel and logToFile, taskDefaults, and the
task types AllowFailure, Dag, Template, Resume, trigger Toggle and state Set/Get/Delete,
run on a real django-q2 cluster."""

from __future__ import annotations

from pathlib import Path

import pytest

from accounts.models import NamespaceAllowance
from executions.lifecycle import execution_start
from executions.models import Execution, LogLine, State, StoredState, TaskRun, TaskRunAttempt
from executions.storage import storage_read
from flows.models import Flow
from tests.conftest import wait_until
from tests.flows_helpers import ended, finished, messages, save_flow, started
from triggers.models import TriggerState

pytestmark = pytest.mark.django_db(transaction=True)

EXAMPLES = Path(__file__).resolve().parents[2] / "flows" / "examples"

LOG = "io.kestra.plugin.core.log.Log"
FAIL = "io.kestra.plugin.core.execution.Fail"


def run(source: str, **kwargs) -> Execution:
    return finished(execution_start(flow=save_flow(source), **kwargs))


def runs(execution: Execution) -> dict[str, TaskRun]:
    return {run.task_id: run for run in execution.task_runs.all()}


# --- allowWarning ---------------------------------------------------------------------


def test_a_failure_allowed_with_allow_warning_ends_the_execution_success(worker) -> None:
    execution = run(f"""
id: allow-warning-leaf
namespace: dev
tasks:
  - id: fail
    type: {FAIL}
    allowFailure: true
    allowWarning: true
    retry:
      type: constant
      interval: PT0.1S
      maxAttempt: 3
  - id: after
    type: {LOG}
    message: still here
""")
    assert execution.state == State.SUCCESS
    assert set(runs(execution)) == {"fail", "after"}
    assert TaskRunAttempt.objects.filter(task_run=runs(execution)["fail"]).count() == 3


def test_without_allow_warning_the_same_allowed_failure_ends_the_execution_warning(
    worker,
) -> None:
    execution = run(f"""
id: allow-failure-only
namespace: dev
tasks:
  - id: fail
    type: {FAIL}
    allowFailure: true
  - id: after
    type: {LOG}
    message: still here
""")
    assert execution.state == State.WARNING


def test_allow_warning_on_a_flowable_hides_its_childs_failure_from_the_execution(
    worker,
) -> None:
    execution = run(f"""
id: allow-warning-flowable
namespace: dev
tasks:
  - id: seq
    type: io.kestra.plugin.core.flow.Sequential
    allowFailure: true
    allowWarning: true
    tasks:
      - id: fail
        type: {FAIL}
      - id: never
        type: {LOG}
        message: not reached
  - id: after
    type: {LOG}
    message: I am allowed
""")
    assert execution.state == State.SUCCESS
    assert set(runs(execution)) == {"seq", "fail", "after"}


# --- logLevel, logToFile, taskDefaults ------------------------------------------------


def test_log_level_keeps_only_the_lines_at_or_above_it(worker) -> None:
    execution = run(f"""
id: log-levels
namespace: dev
tasks:
  - id: trace
    type: {LOG}
    message: too fine
    level: TRACE
    logLevel: INFO
  - id: warn
    type: {LOG}
    message: worth keeping
    level: WARN
    logLevel: INFO
  - id: script
    type: io.kestra.plugin.scripts.shell.Commands
    taskRunner:
      type: io.kestra.plugin.core.runner.Process
    logLevel: WARN
    warningOnStdErr: false
    commands:
      - echo chatter
      - echo trouble >&2
""")
    assert execution.state == State.SUCCESS
    assert messages(execution) == ["worth keeping", "trouble"]


def test_log_to_file_stores_each_attempts_lines_as_a_file_and_keeps_them_on_the_page(
    worker,
) -> None:
    execution = run(f"""
id: log-to-file
namespace: dev
tasks:
  - id: hello
    type: {LOG}
    message: Hello World!
    logToFile: true
""")
    assert execution.state == State.SUCCESS
    attempt = TaskRunAttempt.objects.get(task_run__execution=execution)
    assert attempt.log_file.startswith("kestra:///dev/log-to-file/executions/")
    lines = storage_read(attempt.log_file).decode().splitlines()
    assert len(lines) == 1
    assert " INFO Hello World!" in lines[0]
    assert messages(execution) == ["Hello World!"]


def test_task_defaults_fill_what_a_task_leaves_out_and_forced_ones_win(worker) -> None:
    execution = run(f"""
id: task-defaults
namespace: dev
taskDefaults:
  - type: {LOG}
    values:
      message: from the defaults
      level: WARN
  - type: io.kestra.plugin.core.log
    forced: true
    values:
      logLevel: WARN
tasks:
  - id: bare
    type: {LOG}
  - id: own
    type: {LOG}
    message: its own words
  - id: quiet
    type: {LOG}
    message: below the forced level
    level: INFO
""")
    assert execution.state == State.SUCCESS
    assert messages(execution) == ["from the defaults", "its own words"]
    assert set(LogLine.objects.filter(execution=execution).values_list("level", flat=True)) == {
        "WARN"
    }


# --- AllowFailure -----------------------------------------------------------------------


def test_allow_failure_stops_its_block_runs_its_errors_and_lets_the_flow_go_on(worker) -> None:
    execution = run(f"""
id: allow-failure-block
namespace: dev
tasks:
  - id: block
    type: io.kestra.plugin.core.flow.AllowFailure
    tasks:
      - id: first
        type: {LOG}
        message: first
      - id: ko
        type: {FAIL}
      - id: skipped
        type: {LOG}
        message: never
    errors:
      - id: local_error
        type: {LOG}
        message: handled
  - id: after
    type: {LOG}
    message: after
""")
    by_id = runs(execution)
    assert execution.state == State.WARNING
    assert set(by_id) == {"block", "first", "ko", "local_error", "after"}
    assert by_id["block"].state == State.WARNING
    assert messages(execution) == ["first", "Task failure", "handled", "after"]


# --- Dag ----------------------------------------------------------------------------------


DAG = f"""
id: dag
namespace: dev
tasks:
  - id: dag
    type: io.kestra.plugin.core.flow.Dag
    concurrent: CONCURRENT
    tasks:
      - task:
          id: task1
          type: {LOG}
          message: "{{{{ task.id }}}}"
      - task:
          id: task2
          type: {LOG}
          message: "{{{{ task.id }}}}"
        dependsOn: [task1]
      - task:
          id: task3
          type: io.kestra.plugin.core.flow.Sequential
          tasks:
            - id: task3a
              type: {LOG}
              message: "{{{{ task.id }}}}"
        dependsOn: [task1]
      - task:
          id: task4
          type: {LOG}
          message: "{{{{ task.id }}}}"
        dependsOn: [task2]
      - task:
          id: task5
          type: {LOG}
          message: "{{{{ task.id }}}}"
        dependsOn: [task4, task3]
"""


def test_a_dag_starts_each_task_only_after_those_it_depends_on_ended(worker) -> None:
    execution = run(DAG.replace("CONCURRENT", "0"))
    by_id = runs(execution)
    assert execution.state == State.SUCCESS
    assert set(by_id) == {"dag", "task1", "task2", "task3", "task3a", "task4", "task5"}
    for task_id, depends_on in {
        "task2": ["task1"],
        "task3": ["task1"],
        "task4": ["task2"],
        "task5": ["task4", "task3"],
    }.items():
        for dependency in depends_on:
            assert ended(by_id[dependency]) <= started(by_id[task_id]), (task_id, dependency)


def test_a_dag_with_concurrent_one_never_runs_two_of_its_tasks_at_once(worker) -> None:
    execution = run(
        DAG.replace("CONCURRENT", "1").replace("id: dag\nnamespace", "id: dag1\nnamespace")
    )
    assert execution.state == State.SUCCESS
    children = sorted(
        (run for run in execution.task_runs.all() if run.parent and run.parent.task_id == "dag"),
        key=started,
    )
    assert len(children) == 5
    for before, after in zip(children, children[1:], strict=False):
        assert ended(before) <= started(after), (before.task_id, after.task_id)


def test_a_failed_task_in_a_dag_starts_none_of_its_dependents_and_fails_the_dag(worker) -> None:
    execution = run(f"""
id: dag-failing
namespace: dev
tasks:
  - id: dag
    type: io.kestra.plugin.core.flow.Dag
    tasks:
      - task:
          id: broken
          type: {FAIL}
      - task:
          id: dependent
          type: {LOG}
          message: never
        dependsOn: [broken]
""")
    assert execution.state == State.FAILED
    assert set(runs(execution)) == {"dag", "broken"}
    assert runs(execution)["dag"].state == State.FAILED


# --- Template ---------------------------------------------------------------------------


def test_a_template_task_fails_as_kestra_does_with_templates_disabled(worker) -> None:
    execution = run("""
id: with-template
namespace: dev
tasks:
  - id: template
    type: io.kestra.plugin.core.flow.Template
    namespace: dev
    templateId: shared
""")
    assert execution.state == State.FAILED
    error = runs(execution)["template"].error
    assert "templates are disabled" in error
    assert "Subflow" in error


# --- Resume -------------------------------------------------------------------------------

PAUSED = """
id: paused
namespace: NAMESPACE
tasks:
  - id: wait
    type: io.kestra.plugin.core.flow.Pause
  - id: go_on
    type: io.kestra.plugin.core.log.Log
    message: resumed
"""

RESUMER = """
id: resumer
namespace: NAMESPACE
inputs:
  - id: executionId
    type: STRING
tasks:
  - id: resume
    type: io.kestra.plugin.core.execution.Resume
    executionId: "{{ inputs.executionId }}"
"""


def paused_execution(namespace: str) -> Execution:
    execution = execution_start(flow=save_flow(PAUSED.replace("NAMESPACE", namespace)))

    def is_paused() -> bool:
        execution.refresh_from_db()
        return execution.state == State.PAUSED

    wait_until(is_paused, what="the execution to pause")
    return execution


def test_resume_resumes_a_paused_execution_by_its_id(worker) -> None:
    paused = paused_execution("dev")
    resumer = run(RESUMER.replace("NAMESPACE", "dev"), inputs={"executionId": paused.pk})
    assert resumer.state == State.SUCCESS
    assert finished(paused).state == State.SUCCESS
    assert messages(paused) == ["Paused until resumed", "resumed"]


def test_resume_by_default_resumes_a_branch_of_its_own_execution(worker) -> None:
    execution = finished(execution_start(flow=Flow.save_source(example("resume-when-ready"))))
    assert execution.state == State.SUCCESS
    assert "Deployed" in messages(execution)


def test_resume_refuses_an_execution_its_namespace_may_not_reach(worker) -> None:
    paused = paused_execution("dev")
    resumer = run(RESUMER.replace("NAMESPACE", "other"), inputs={"executionId": paused.pk})
    assert resumer.state == State.FAILED
    error = runs(resumer)["resume"].error
    assert f"No execution {paused.pk} found that namespace other may resume" in error
    paused.refresh_from_db()
    assert paused.state == State.PAUSED
    NamespaceAllowance.objects.create(namespace="dev", allowed="other")
    again = run(RESUMER.replace("NAMESPACE", "other"), inputs={"executionId": paused.pk})
    assert again.state == State.SUCCESS
    assert finished(paused).state == State.SUCCESS


# --- Toggle -------------------------------------------------------------------------------

SCHEDULED = """
id: scheduled
namespace: dev.ops
triggers:
  - id: hourly
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "0 * * * *"
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: hello
"""


def toggler(namespace: str, enabled: bool) -> str:
    return f"""
id: toggler
namespace: {namespace}
tasks:
  - id: toggle
    type: io.kestra.plugin.core.trigger.Toggle
    namespace: dev.ops
    flowId: scheduled
    trigger: hourly
    enabled: {str(enabled).lower()}
"""


def test_toggle_disables_and_enables_a_trigger_of_another_flow(worker) -> None:
    save_flow(SCHEDULED)
    trigger = TriggerState.objects.get(flow_id="scheduled", trigger_id="hourly")
    assert run(toggler("dev", False)).state == State.SUCCESS
    trigger.refresh_from_db()
    assert trigger.disabled
    assert run(toggler("dev", True)).state == State.SUCCESS
    trigger.refresh_from_db()
    assert not trigger.disabled


def test_toggle_refuses_a_namespace_it_may_not_reach_and_names_a_missing_trigger(
    worker,
) -> None:
    save_flow(SCHEDULED)
    refused = run(toggler("other", False))
    assert refused.state == State.FAILED
    assert "namespace other may not toggle the triggers of dev.ops" in runs(refused)["toggle"].error
    assert not TriggerState.objects.get(flow_id="scheduled").disabled
    missing = run(toggler("dev", False).replace("trigger: hourly", "trigger: nightly"))
    assert "Flow dev.ops.scheduled has no trigger 'nightly'" in runs(missing)["toggle"].error


# --- state Set / Get / Delete -----------------------------------------------------------

COUNTER = """
id: counter
namespace: dev
tasks:
  - id: get
    type: io.kestra.plugin.core.state.Get
    name: visits
  - id: set
    type: io.kestra.plugin.core.state.Set
    name: visits
    data:
      count: "{{ (outputs.get.data.count ?? 0) | number + 1 }}"
      first: "{{ outputs.get.data.first ?? execution.id }}"
"""


def test_state_is_kept_between_executions_of_a_flow_and_merged_by_set(worker) -> None:
    first = run(COUNTER)
    second = run(COUNTER)
    assert runs(first)["get"].outputs == {"count": 0, "data": {}}
    assert runs(second)["get"].outputs["data"] == {"count": "1", "first": first.pk}
    assert runs(second)["set"].outputs["count"] == 2
    assert StoredState.objects.get(flow_id="counter").data == {"count": "2", "first": first.pk}


def test_state_is_kept_apart_per_loop_value_unless_told_otherwise(worker) -> None:
    execution = run("""
id: per-value
namespace: dev
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: ["a", "b"]
    tasks:
      - id: set_own
        type: io.kestra.plugin.core.state.Set
        name: seen
        data:
          "{{ taskrun.value }}": true
      - id: set_shared
        type: io.kestra.plugin.core.state.Set
        name: seen
        taskrunValue: false
        data:
          "{{ taskrun.value }}": true
  - id: shared
    type: io.kestra.plugin.core.state.Get
    name: seen
    taskrunValue: false
""")
    assert execution.state == State.SUCCESS
    assert runs(execution)["shared"].outputs["data"] == {"a": True, "b": True}
    own = StoredState.objects.exclude(value_key="").values_list("data", flat=True)
    assert sorted(own, key=str) == [{"a": True}, {"b": True}]


def test_state_deleted_is_gone_and_a_namespace_state_is_shared_by_its_flows(worker) -> None:
    setter = run("""
id: setter
namespace: dev
tasks:
  - id: set
    type: io.kestra.plugin.core.state.Set
    name: shared
    namespace: true
    data: {owner: setter}
""")
    reader = run("""
id: reader
namespace: dev
tasks:
  - id: get
    type: io.kestra.plugin.core.state.Get
    name: shared
    namespace: true
  - id: delete
    type: io.kestra.plugin.core.state.Delete
    name: shared
    namespace: true
  - id: again
    type: io.kestra.plugin.core.state.Delete
    name: shared
    namespace: true
  - id: missing
    type: io.kestra.plugin.core.state.Get
    name: shared
    namespace: true
    errorOnMissing: true
""")
    assert setter.state == State.SUCCESS
    by_id = runs(reader)
    assert by_id["get"].outputs["data"] == {"owner": "setter"}
    assert by_id["delete"].outputs == {"deleted": True}
    assert by_id["again"].outputs == {"deleted": False}
    assert reader.state == State.FAILED
    assert by_id["missing"].error == "Unable to find the state 'shared'"


# --- the example flows ----------------------------------------------------------------------


def example(name: str) -> str:
    return (EXAMPLES / f"{name}.yml").read_text()


def test_the_dag_pipeline_example_joins_once_both_fetches_ended_then_publishes_and_archives(
    worker,
) -> None:
    execution = finished(execution_start(flow=Flow.save_source(example("dag-pipeline"))))
    by_id = runs(execution)
    assert execution.state == State.SUCCESS
    assert messages(execution)[0] == "Joined 120 orders with 45 customers"
    for fetch in ("fetch_orders", "fetch_customers"):
        assert ended(by_id[fetch]) <= started(by_id["join"])
    for last in ("publish", "archive"):
        assert ended(by_id["join"]) <= started(by_id[last])


def test_the_optional_steps_example_ends_warning_with_its_report_sent(worker) -> None:
    execution = finished(execution_start(flow=Flow.save_source(example("optional-steps"))))
    by_id = runs(execution)
    assert execution.state == State.WARNING
    assert by_id["refresh_cache"].state == State.WARNING
    assert "warm" not in by_id
    assert messages(execution) == [
        "Cache server unreachable",
        "Cache not refreshed, the report reads the database",
        "Status page did not answer",
        "Nightly report sent",
    ]
    levels = dict(LogLine.objects.filter(execution=execution).values_list("task_id", "level"))
    assert levels["note"] == "WARN"
    assert levels["report"] == "INFO"


def test_the_limited_schedule_example_turns_its_schedule_off_after_its_third_run(
    worker,
) -> None:
    flow = Flow.save_source(example("limited-schedule"))
    trigger = TriggerState.objects.get(flow_id="limited-schedule", trigger_id="hourly")
    for number in (1, 2):
        execution = finished(execution_start(flow=flow))
        assert messages(execution) == [f"Trial run {number} of 3"]
        trigger.refresh_from_db()
        assert not trigger.disabled
    third = finished(execution_start(flow=flow))
    assert third.state == State.SUCCESS
    assert messages(third)[0] == "Trial run 3 of 3"
    trigger.refresh_from_db()
    assert trigger.disabled
