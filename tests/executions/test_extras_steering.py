"""Resume, trigger Toggle and the state store on a real django-q2 cluster, each within
its namespace's reach, and the example flows that use them."""

from __future__ import annotations

import pytest

from accounts.models import NamespaceAllowance
from executions.lifecycle import execution_start
from executions.models import Execution, State, StoredState
from flows.models import Flow
from tests.conftest import wait_until
from tests.executions.extras_helpers import example, run, runs
from tests.flows_helpers import finished, messages, save_flow
from triggers.models import TriggerState

pytestmark = pytest.mark.django_db(transaction=True)


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
