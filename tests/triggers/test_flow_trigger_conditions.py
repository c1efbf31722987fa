"""Conditions on Flow triggers: execution conditions, MultipleCondition and preconditions
in their windows (``where`` filters too), inputs read from the upstream execution, and
Flow triggers that hear an upstream as it enters RUNNING or PAUSED."""

from __future__ import annotations

import pytest

from executions.lifecycle import execution_resume
from executions.models import State
from flows.language import FlowInvalid, parse_flow
from tests.flows_helpers import run_here
from tests.triggers.helpers import executions_of, save, trigger_of, triggered_flow
from tests.triggers.test_flow_trigger import UPSTREAM, downstream, ended


@pytest.mark.django_db
def test_execution_labels_and_outputs_conditions_look_at_the_upstream_execution() -> None:
    upstream = save(UPSTREAM)
    watcher = downstream(
        """
        - id: labelled
          type: io.kestra.plugin.core.trigger.Flow
          conditions:
            - type: io.kestra.plugin.core.condition.ExecutionFlow
              namespace: company.team
              flowId: extract
            - type: io.kestra.plugin.core.condition.ExecutionLabels
              labels:
                - key: team
                  value: data
            - type: io.kestra.plugin.core.condition.ExecutionOutputs
              expression: "{{ trigger.outputs.rows > 10 }}"
        """,
        flow_id="watcher",
    )
    ended(upstream, State.SUCCESS, labels={"team": "data"}, outputs={"rows": 5})
    ended(upstream, State.SUCCESS, labels={"team": "web"}, outputs={"rows": 50})
    assert executions_of(watcher) == []
    ended(upstream, State.SUCCESS, labels={"team": "data"}, outputs={"rows": 50})
    assert len(executions_of(watcher)) == 1


MULTIPLE = """
- id: both_loaded
  type: io.kestra.plugin.core.trigger.Flow
  conditions:
    - type: io.kestra.plugin.core.condition.ExecutionStatus
      in: [SUCCESS]
    - type: io.kestra.plugin.core.condition.MultipleCondition
      id: extract_and_load
      window: PT1H
      conditions:
        extracted:
          type: io.kestra.plugin.core.condition.ExecutionFlow
          namespace: company.team
          flowId: extract
        loaded:
          type: io.kestra.plugin.core.condition.ExecutionFlow
          namespace: company.team
          flowId: load
"""


@pytest.mark.django_db
def test_a_multiple_condition_fires_once_both_upstreams_succeeded_in_its_window() -> None:
    extract = save(UPSTREAM)
    load = save(UPSTREAM.replace("id: extract", "id: load"))
    report = downstream(MULTIPLE, flow_id="report")

    ended(extract, State.SUCCESS)
    ended(extract, State.SUCCESS)
    ended(load, State.FAILED)  # the plain condition turns it away: nothing recorded
    assert executions_of(report) == []
    ended(load, State.SUCCESS)
    assert len(executions_of(report)) == 1
    ended(load, State.SUCCESS)  # reset on success: extract must succeed again
    assert len(executions_of(report)) == 1
    ended(extract, State.SUCCESS)
    assert len(executions_of(report)) == 2


@pytest.mark.django_db
def test_preconditions_keep_their_window_and_may_fire_again_without_reset() -> None:
    extract = save(UPSTREAM)
    load = save(UPSTREAM.replace("id: extract", "id: load"))
    report = downstream(
        """
        - id: both
          type: io.kestra.plugin.core.trigger.Flow
          preconditions:
            id: both
            resetOnSuccess: false
            timeWindow:
              type: SLIDING_WINDOW
              window: PT2H
            flows:
              - namespace: company.team
                flowId: extract
              - namespace: company.team
                flowId: load
        """,
        flow_id="report",
    )
    ended(extract, State.SUCCESS)
    ended(load, State.SUCCESS)
    ended(load, State.SUCCESS)  # without the reset, each new success completes it again
    assert len(executions_of(report)) == 2


@pytest.mark.django_db(transaction=True)
def test_flow_trigger_inputs_read_the_upstream_outputs_and_its_task_outputs() -> None:
    upstream = save(
        """id: extract
namespace: company.team
tasks:
  - id: count
    type: io.kestra.plugin.core.debug.Return
    format: "42"
outputs:
  - id: rows
    type: STRING
    value: "{{ outputs.count.value }}"
"""
    )
    transform = save(
        triggered_flow(
            """
            - id: after
              type: io.kestra.plugin.core.trigger.Flow
              inputs:
                rows: "{{ trigger.outputs.rows }}"
                raw: "{{ outputs.count.value }}-{{ execution.id }}"
              conditions:
                - type: io.kestra.plugin.core.condition.ExecutionFlow
                  namespace: company.team
                  flowId: extract
            """,
            flow_id="transform",
            namespace="company.team",
        ).replace(
            "tasks:",
            "inputs:\n  - id: rows\n    type: INT\n  - id: raw\n    type: STRING\n\ntasks:",
        )
    )
    run = run_here(upstream)
    assert run.state == State.SUCCESS
    [execution] = executions_of(transform)
    assert execution.inputs == {"rows": 42, "raw": f"42-{run.pk}"}


@pytest.mark.django_db(transaction=True)
def test_a_flow_trigger_on_running_and_paused_fires_as_the_upstream_enters_them() -> None:
    upstream = save(
        """id: approval
namespace: company.team
tasks:
  - id: wait
    type: io.kestra.plugin.core.flow.Pause
  - id: after
    type: io.kestra.plugin.core.log.Log
    message: approved
"""
    )
    watcher = downstream(
        """
        - id: on_the_way
          type: io.kestra.plugin.core.trigger.Flow
          states: [RUNNING, PAUSED]
          conditions:
            - type: io.kestra.plugin.core.condition.ExecutionFlow
              namespace: company.team
              flowId: approval
        """,
        flow_id="watcher",
    )
    run = run_here(upstream)
    assert run.state == State.PAUSED  # the upstream has not ended...
    states = sorted(trigger_of(e)["variables"]["state"] for e in executions_of(watcher))
    assert states == ["PAUSED", "RUNNING"]  # ...and the watcher heard both already
    execution_resume(execution_id=run.pk)
    run.refresh_from_db()
    assert len(executions_of(watcher)) == 2  # a RUNNING again is the same execution's


@pytest.mark.django_db
def test_preconditions_where_filters_pick_upstreams_by_namespace_flow_and_expression() -> None:
    extract = save(UPSTREAM)
    load = save(UPSTREAM.replace("id: extract", "id: load"))
    report = downstream(
        """
        - id: filtered
          type: io.kestra.plugin.core.trigger.Flow
          preconditions:
            id: filtered
            where:
              - id: labelled_extract
                filters:
                  - field: NAMESPACE
                    type: STARTS_WITH
                    value: company.
                  - field: FLOW_ID
                    type: EQUAL_TO
                    value: extract
                  - field: EXPRESSION
                    type: IS_TRUE
                    value: "{{ labels.batch == 'nightly' }}"
              - id: any_load
                operand: OR
                filters:
                  - field: FLOW_ID
                    type: IN
                    values: [load, reload]
                  - field: STATE
                    type: EQUAL_TO
                    value: NEVER
        """,
        flow_id="report",
    )
    ended(extract, State.SUCCESS, labels={"batch": "manual"})
    ended(load, State.SUCCESS)
    assert executions_of(report) == []  # the extract was not the nightly one
    ended(extract, State.SUCCESS, labels={"batch": "nightly"})
    assert len(executions_of(report)) == 1


@pytest.mark.django_db
def test_a_where_expression_that_fails_skips_its_trigger_and_not_the_others() -> None:
    upstream = save(UPSTREAM)
    broken = downstream(
        """
        - id: broken
          type: io.kestra.plugin.core.trigger.Flow
          preconditions:
            id: broken
            where:
              - id: bad
                filters:
                  - field: EXPRESSION
                    type: IS_TRUE
                    value: "{{ nothing.here }}"
        """,
        flow_id="broken",
    )
    fine = downstream(
        """
        - id: fine
          type: io.kestra.plugin.core.trigger.Flow
          conditions:
            - type: io.kestra.plugin.core.condition.ExecutionFlow
              namespace: company.team
              flowId: extract
        """,
        flow_id="fine",
    )
    ended(upstream, State.SUCCESS)
    assert executions_of(broken) == []
    assert len(executions_of(fine)) == 1


def test_a_where_filter_with_a_broken_pattern_is_refused_at_save() -> None:
    source = triggered_flow(
        """
        - id: broken
          type: io.kestra.plugin.core.trigger.Flow
          preconditions:
            where:
              - id: bad
                filters:
                  - field: FLOW_ID
                    type: REGEX
                    value: "(unclosed"
        """
    )
    with pytest.raises(FlowInvalid, match="Invalid REGEX filter"):
        parse_flow(source)
