"""allowWarning, logLevel, logToFile and taskDefaults on tasks, and the AllowFailure and
Template task types, on a real django-q2 cluster."""

from __future__ import annotations

import pytest

from executions.lifecycle import execution_start
from executions.models import LogLine, State, TaskRunAttempt
from executions.storage import storage_read
from flows.models import Flow
from tests.executions.extras_helpers import FAIL, LOG, example, run, runs
from tests.flows_helpers import finished, messages

pytestmark = pytest.mark.django_db(transaction=True)


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


# --- the example flow ----------------------------------------------------------------


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
