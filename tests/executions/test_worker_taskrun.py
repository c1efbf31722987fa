"""Kestra's ``workerTaskrun``: inside a WorkingDirectory a task reads the task run it runs
as; outside one the variable does not exist, as in Kestra."""

from __future__ import annotations

import pytest

from executions.lifecycle import execution_start
from executions.models import State
from flows.models import Flow
from tests.flows_helpers import finished

pytestmark = pytest.mark.django_db(transaction=True)

FLOW = """id: worker-taskrun
namespace: dev
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: ["a"]
    tasks:
      - id: together
        type: io.kestra.plugin.core.flow.WorkingDirectory
        tasks:
          - id: inside
            type: io.kestra.plugin.core.debug.Return
            format: "{{ workerTaskrun.id == taskrun.id }} {{ workerTaskrun.value }}"
  - id: outside
    type: io.kestra.plugin.core.debug.Return
    format: "{{ workerTaskrun ?? 'none' }}"
"""


def test_a_task_in_a_working_directory_reads_its_worker_taskrun(worker) -> None:
    run = finished(execution_start(flow=Flow.save_source(FLOW)), timeout=60)
    assert run.state == State.SUCCESS
    assert run.task_runs.get(task_id="inside").outputs["value"] == "true a"
    assert run.task_runs.get(task_id="outside").outputs["value"] == "none"
