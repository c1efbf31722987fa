"""Flow triggers: a flow starts when executions of other flows end as it asks."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import TestCase
from django.utils import timezone

from executions.lifecycle import execution_start
from executions.models import Execution, State
from executions.signals import execution_ended
from flows.models import Flow
from tests.flows_helpers import run_here
from tests.triggers.helpers import executions_of, save, trigger_of, triggered_flow

UPSTREAM = """id: extract
namespace: company.team
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: extracting
"""
NEWER = """
- id: after_extract
  type: io.kestra.plugin.core.trigger.Flow
  inputs:
    upstream: "{{ trigger.executionId }}"
  preconditions:
    id: flows
    flows:
      - namespace: company.team
        flowId: extract
        states: [SUCCESS]
"""
OLDER = """
- id: after_extract
  type: io.kestra.core.models.triggers.types.Flow
  conditions:
    - type: io.kestra.core.models.conditions.types.ExecutionFlowCondition
      namespace: company.team
      flowId: extract
    - type: io.kestra.core.models.conditions.types.ExecutionStatusCondition
      in: [FAILED, KILLED]
"""


def downstream(triggers: str, flow_id: str = "transform") -> Flow:
    source = triggered_flow(triggers, flow_id=flow_id, namespace="company.team")
    if "upstream:" in triggers:
        source = source.replace("tasks:", "inputs:\n  - id: upstream\n    type: STRING\n\ntasks:")
    return save(source)


def ended(flow: Flow, state: State, **fields: Any) -> Execution:
    """An execution of ``flow`` that has just ended, and the signal the engine sends."""
    execution = execution_start(flow=flow)
    Execution.objects.filter(pk=execution.pk).update(
        state=state, started_at=timezone.now(), ended_at=timezone.now(), **fields
    )
    execution.refresh_from_db()
    the_engine_ends(execution)
    return execution


def the_engine_ends(execution: Execution) -> None:
    """As the engine sends it: inside the ending transaction; executions start on commit."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        execution_ended.send(sender=Execution, execution=execution)


@pytest.mark.django_db
def test_a_flow_trigger_fires_when_the_upstream_ends_in_a_matching_state() -> None:
    upstream = save(UPSTREAM)
    transform = downstream(NEWER)

    ended(upstream, State.FAILED)
    assert executions_of(transform) == []

    run = ended(upstream, State.SUCCESS, outputs={"date": "2025-01-01"})
    [execution] = executions_of(transform)
    assert trigger_of(execution)["id"] == "after_extract"
    assert trigger_of(execution)["type"] == "io.kestra.plugin.core.trigger.Flow"
    variables = trigger_of(execution)["variables"]
    assert (variables["executionId"], variables["namespace"], variables["flowId"]) == (
        run.pk,
        "company.team",
        "extract",
    )
    assert variables["state"] == "SUCCESS" and variables["outputs"] == {"date": "2025-01-01"}
    assert execution.inputs == {"upstream": run.pk}


@pytest.mark.django_db
def test_the_older_conditions_are_honoured() -> None:
    upstream = save(UPSTREAM)
    alert = downstream(OLDER, flow_id="alert")
    other = save(UPSTREAM.replace("id: extract", "id: other"))

    ended(upstream, State.SUCCESS)
    ended(other, State.FAILED)
    assert executions_of(alert) == []
    ended(upstream, State.FAILED)
    assert len(executions_of(alert)) == 1


@pytest.mark.django_db
def test_a_namespace_condition_and_the_states_property_filter_too() -> None:
    upstream = save(UPSTREAM)
    watcher = downstream(
        """
        - id: on_failure
          type: io.kestra.plugin.core.trigger.Flow
          states: [FAILED]
          conditions:
            - type: io.kestra.plugin.core.condition.ExecutionNamespace
              namespace: company
              comparison: PREFIX
        """,
        flow_id="watcher",
    )
    ended(upstream, State.SUCCESS)
    ended(save(UPSTREAM.replace("company.team", "dev")), State.FAILED)
    assert executions_of(watcher) == []
    ended(upstream, State.FAILED)
    assert len(executions_of(watcher)) == 1


@pytest.mark.django_db
def test_with_two_upstream_flows_both_must_have_ended() -> None:
    extract = save(UPSTREAM)
    load = save(UPSTREAM.replace("id: extract", "id: load"))
    report = downstream(
        """
        - id: both
          type: io.kestra.plugin.core.trigger.Flow
          preconditions:
            id: both
            flows:
              - namespace: company.team
                flowId: extract
                states: [SUCCESS]
              - namespace: company.team
                flowId: load
                states: [SUCCESS]
        """,
        flow_id="report",
    )
    ended(extract, State.SUCCESS)
    assert executions_of(report) == []
    ended(load, State.SUCCESS)
    assert len(executions_of(report)) == 1
    ended(load, State.SUCCESS)  # extract's success was used by the run before
    assert len(executions_of(report)) == 1


@pytest.mark.django_db
def test_the_same_ending_delivered_twice_starts_one_execution() -> None:
    upstream = save(UPSTREAM)
    transform = downstream(NEWER)
    run = ended(upstream, State.SUCCESS)
    the_engine_ends(run)
    assert len(executions_of(transform)) == 1


@pytest.mark.django_db
def test_a_disabled_flow_trigger_does_not_fire() -> None:
    upstream = save(UPSTREAM)
    transform = downstream(
        NEWER.replace("  type: io.kestra", "  disabled: true\n  type: io.kestra")
    )
    ended(upstream, State.SUCCESS)
    assert executions_of(transform) == []


@pytest.mark.django_db
def test_stop_after_disables_a_schedule_once_its_execution_fails() -> None:
    from triggers.models import TriggerState

    flow = save(
        triggered_flow(
            """
            - id: nightly
              type: Schedule
              cron: "0 2 * * *"
              stopAfter: [FAILED]
            """,
            flow_id="critical",
        )
    )
    trigger = {"id": "nightly", "type": "io.kestra.plugin.core.trigger.Schedule", "variables": {}}
    execution = execution_start(flow=flow, trigger=trigger)
    Execution.objects.filter(pk=execution.pk).update(state=State.FAILED, ended_at=timezone.now())
    execution.refresh_from_db()
    the_engine_ends(execution)
    assert TriggerState.objects.get(flow_id="critical").disabled


@pytest.mark.django_db(transaction=True)
def test_the_engine_ending_a_real_run_fires_the_flow_trigger() -> None:
    upstream = save(UPSTREAM)
    transform = downstream(NEWER)
    run = run_here(upstream)
    assert run.state == State.SUCCESS
    [execution] = executions_of(transform)
    assert trigger_of(execution)["variables"]["executionId"] == run.pk
