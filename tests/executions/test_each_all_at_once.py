"""A ForEach with ``concurrencyLimit: 0`` starts every value together, as Kestra creates
them: one value failing at once does not keep the others from running. With a limit, no
new value starts after a failure."""

from __future__ import annotations

import pytest

from executions.lifecycle import execution_start
from executions.models import State
from flows.models import Flow
from tests.flows_helpers import finished

pytestmark = pytest.mark.django_db(transaction=True)

FLOW = """id: all-at-once
namespace: dev
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    concurrencyLimit: LIMIT
    values: ["bad", "good", "fine"]
    tasks:
      - id: check
        type: io.kestra.plugin.core.flow.If
        condition: "{{ taskrun.value == 'bad' ? undefined_thing.x : true }}"
        then:
          - id: said
            type: io.kestra.plugin.core.log.Log
            message: "{{ taskrun.value }}"
"""


def test_all_values_start_together_even_when_the_first_fails_at_once(worker) -> None:
    run = finished(execution_start(flow=Flow.save_source(FLOW.replace("LIMIT", "0"))))
    assert run.state == State.FAILED
    assert sorted(
        str(v) for v in run.task_runs.filter(task_id="said").values_list("value", flat=True)
    ) == [
        "fine",
        "good",
    ]


def test_one_value_at_a_time_stops_after_the_failure(worker) -> None:
    run = finished(execution_start(flow=Flow.save_source(FLOW.replace("LIMIT", "1"))))
    assert run.state == State.FAILED
    assert not run.task_runs.filter(task_id="said").exists()
