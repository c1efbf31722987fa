"""The flow-level language: pluginDefaults, a flow's retry, deleted, listeners and
afterExecution, SLAs, and Switch's ``defaults: null``, each as Kestra runs it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from executions.models import State, TaskRunAttempt
from flows.language import FlowInvalid, parse_flow
from flows.language.tasks import LogTask
from flows.models import Flow
from tests.flows_helpers import messages, run_here, save_flow
from triggers.clock import clock_tick
from triggers.models import SlaMonitor, TriggerState

DEFAULTS = """
id: defaults
namespace: dev
pluginDefaults:
  - type: io.kestra.plugin.core.log
    values:
      message: "from the defaults"
      level: WARN
  - type: io.kestra.plugin.core.log.Log
    forced: true
    values:
      level: ERROR
tasks:
  - id: plain
    type: io.kestra.plugin.core.log.Log
  - id: own_message
    type: io.kestra.core.tasks.log.Log
    message: "its own"
"""


def test_plugin_defaults_fill_what_a_task_leaves_out_and_forced_ones_win() -> None:
    definition = parse_flow(DEFAULTS)
    plain, own = definition.tasks
    assert isinstance(plain, LogTask) and isinstance(own, LogTask)
    assert plain.message == "from the defaults"  # by prefix
    assert own.message == "its own"  # the task's own value wins over a soft default
    assert plain.level == own.level == "ERROR"  # forced, and by the other name of the type


def test_without_its_defaults_the_same_task_is_refused_for_what_it_lacks() -> None:
    with pytest.raises(FlowInvalid, match="Missing required property 'message'"):
        parse_flow(DEFAULTS.replace("      message:", "      other:"))


@pytest.mark.django_db(transaction=True)
def test_the_defaulted_message_is_what_the_task_logs() -> None:
    run = run_here(save_flow(DEFAULTS))
    assert run.state == State.SUCCESS
    assert "from the defaults" in messages(run)


RETRIED = """
id: retried
namespace: dev
retry:
  type: constant
  interval: PT0S
  maxAttempts: 3
tasks:
  - id: flaky
    type: io.kestra.plugin.core.execution.Fail
  - id: never
    type: io.kestra.plugin.core.log.Log
    message: never
errors:
  - id: careful
    type: io.kestra.plugin.core.execution.Fail
    retry:
      type: constant
      interval: PT0S
      maxAttempts: 2
"""


@pytest.mark.django_db(transaction=True)
def test_a_flow_retry_reaches_every_task_without_its_own() -> None:
    run = run_here(save_flow(RETRIED))
    assert run.state == State.FAILED
    attempts = {
        task_id: TaskRunAttempt.objects.filter(
            task_run__execution=run, task_run__task_id=task_id
        ).count()
        for task_id in ("flaky", "careful")
    }
    assert attempts == {"flaky": 3, "careful": 2}


@pytest.mark.django_db
def test_a_flow_saved_deleted_is_kept_deleted_with_no_trigger_armed() -> None:
    source = """
id: gone
namespace: dev
deleted: true
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: hi
triggers:
  - id: daily
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "0 9 * * *"
"""
    flow = save_flow(source)
    assert flow.deleted_at is not None
    assert not Flow.objects.live().filter(flow_id="gone").exists()
    assert not TriggerState.objects.filter(flow_id="gone").exists()
    revived = save_flow(source.replace("deleted: true", "deleted: false"))
    assert revived.deleted_at is None and revived.revision == 2
    assert TriggerState.objects.filter(flow_id="gone").exists()


LISTENED = """
id: listened
namespace: dev
inputs:
  - id: fail
    type: BOOLEAN
    defaults: true
tasks:
  - id: first
    type: io.kestra.plugin.core.log.Log
    message: starting
  - id: maybe
    type: io.kestra.plugin.core.flow.If
    condition: "{{ inputs.fail }}"
    then:
      - id: boom
        type: io.kestra.plugin.core.execution.Fail
listeners:
  - conditions:
      - type: io.kestra.plugin.core.condition.ExecutionStatus
        in: [FAILED]
    tasks:
      - id: on_failure
        type: io.kestra.plugin.core.log.Log
        message: "listener saw {{ execution.id }} fail"
  - conditions:
      - type: io.kestra.plugin.core.condition.ExecutionStatus
        in: [SUCCESS]
    tasks:
      - id: on_success
        type: io.kestra.plugin.core.execution.Fail
afterExecution:
  - id: always
    type: io.kestra.plugin.core.log.Log
    message: after it all
"""


@pytest.mark.django_db(transaction=True)
def test_listeners_run_after_the_end_when_their_conditions_hold_and_change_nothing() -> None:
    run = run_here(save_flow(LISTENED))
    assert run.state == State.FAILED
    ran = set(run.task_runs.values_list("task_id", flat=True))
    assert {"on_failure", "always"} <= ran and "on_success" not in ran
    assert f"listener saw {run.pk} fail" in messages(run)


@pytest.mark.django_db(transaction=True)
def test_a_failing_listener_task_leaves_a_successful_execution_successful() -> None:
    flow = save_flow(LISTENED.replace("defaults: true", "defaults: false"))
    run = run_here(flow)
    assert run.state == State.SUCCESS
    assert run.task_runs.get(task_id="on_success").state == State.FAILED


SLA = """
id: promised
namespace: dev
inputs:
  - id: mode
    type: SELECT
    values: [PASS, CANCEL, LABEL]
    defaults: PASS
sla:
  - id: no_cancel
    type: EXECUTION_ASSERTION
    behavior: CANCEL
    assert: "{{ inputs.mode != 'CANCEL' }}"
  - id: only_label
    type: EXECUTION_ASSERTION
    behavior: NONE
    assert: "{{ inputs.mode != 'LABEL' }}"
    labels:
      sla: violated
tasks:
  - id: work
    type: io.kestra.plugin.core.log.Log
    message: working
"""


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("mode", "state", "labelled"),
    [
        ("PASS", State.SUCCESS, False),
        ("CANCEL", State.CANCELLED, False),
        ("LABEL", State.SUCCESS, True),
    ],
)
def test_an_execution_assertion_cancels_or_labels_as_its_behavior_says(
    mode: str, state: State, labelled: bool
) -> None:
    flow = save_flow(SLA.replace("defaults: PASS", f"defaults: {mode}"))
    run = run_here(flow)
    assert run.state == state
    assert (run.labels.get("sla") == "violated") is labelled
    if state == State.CANCELLED:
        assert not run.task_runs.filter(state=State.SUCCESS).exists()
        assert any("SLA 'no_cancel' violated" in m for m in messages(run))


@pytest.mark.django_db(transaction=True)
def test_a_max_duration_sla_fails_an_execution_still_running_at_its_deadline() -> None:
    flow = save_flow(
        """
id: bounded
namespace: dev
sla:
  - id: one_hour
    type: MAX_DURATION
    behavior: FAIL
    duration: PT1H
    labels:
      late: "true"
tasks:
  - id: wait
    type: io.kestra.plugin.core.flow.Pause
"""
    )
    run = run_here(flow)
    assert run.state == State.PAUSED
    [monitor] = SlaMonitor.objects.filter(execution_id=run.pk)
    clock_tick(monitor.deadline - timedelta(seconds=1))
    run.refresh_from_db()
    assert run.state == State.PAUSED
    clock_tick(timezone.now() + timedelta(hours=1, seconds=1))
    run.refresh_from_db()
    assert run.state == State.FAILED
    assert run.labels["late"] == "true"
    assert not SlaMonitor.objects.filter(execution_id=run.pk).exists()


def test_an_sla_without_what_its_type_needs_is_refused() -> None:
    with pytest.raises(FlowInvalid, match="MAX_DURATION SLA needs a positive duration"):
        parse_flow(
            "id: x\nnamespace: dev\nsla:\n  - id: s\n    type: MAX_DURATION\n    behavior: FAIL\n"
            "tasks:\n  - id: a\n    type: Log\n    message: hi\n"
        )


@pytest.mark.django_db(transaction=True)
def test_a_switch_with_defaults_null_fails_when_no_case_matches_as_in_kestra() -> None:
    flow = save_flow(
        """
id: impossible
namespace: dev
tasks:
  - id: pick
    type: io.kestra.plugin.core.flow.Switch
    value: "nothing"
    cases:
      "NO":
        - id: refused
          type: io.kestra.plugin.core.log.Log
          message: refused
    defaults: null
"""
    )
    run = run_here(flow)
    assert run.state == State.FAILED
    assert "no case matches 'nothing'" in run.task_runs.get(task_id="pick").error


def test_a_prefix_default_gives_each_type_only_what_it_has_and_an_exact_one_is_checked() -> None:
    source = """
id: prefixed
namespace: dev
pluginDefaults:
  - type: io.kestra.plugin.core
    values:
      timeout: PT1M
      message: hello
tasks:
  - id: say
    type: io.kestra.plugin.core.log.Log
triggers:
  - id: daily
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "0 9 * * *"
"""
    definition = parse_flow(source)
    [say] = definition.tasks
    assert isinstance(say, LogTask)
    assert (say.message, say.timeout) == ("hello", timedelta(minutes=1))
    exact = source.replace(
        "type: io.kestra.plugin.core\n", "type: io.kestra.plugin.core.trigger.Schedule\n"
    )
    with pytest.raises(FlowInvalid, match="Unknown property 'timeout'"):
        parse_flow(exact)


@pytest.mark.django_db(transaction=True)
def test_the_execution_page_shows_listeners_and_after_execution_in_their_sections(
    client: Any, alice: Any
) -> None:
    run = run_here(save_flow(LISTENED))
    client.force_login(alice)
    page = client.get(reverse("execution_task_runs", args=[run.pk])).content.decode()
    assert '<li class="run-tree-section">listeners</li>' in page
    assert '<li class="run-tree-section">afterExecution</li>' in page
    assert page.index("on_failure") < page.index("always")
