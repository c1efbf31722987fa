"""A MAX_DURATION SLA broken while a task still ran is caught at the next change of the
execution, not only by the clock's monitor: a task ending after the deadline ends the
execution as the SLA's behavior says (here on a worker with no clock at all)."""

from __future__ import annotations

import pytest

from executions.lifecycle import execution_start
from executions.models import LogLine, State
from flows.models import Flow
from tests.flows_helpers import finished

pytestmark = pytest.mark.django_db(transaction=True)

FLOW = """id: bounded
namespace: dev
sla:
  - id: quick
    type: MAX_DURATION
    behavior: BEHAVIOR
    duration: PT0.5S
    labels:
      late: "true"
tasks:
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT2S
"""


@pytest.mark.parametrize(("behavior", "ends"), [("FAIL", State.FAILED), ("NONE", State.SUCCESS)])
def test_a_task_ending_after_the_deadline_breaks_the_sla(worker, behavior, ends) -> None:
    flow = Flow.save_source(FLOW.replace("BEHAVIOR", behavior))
    run = finished(execution_start(flow=flow), timeout=60)
    assert run.state == ends
    assert run.labels.get("late") == "true"
    [line] = LogLine.objects.filter(execution=run, message__contains="SLA 'quick' violated")
    assert "maximum duration of 0.5s" in line.message


def test_an_execution_within_its_deadline_keeps_its_state(worker) -> None:
    flow = Flow.save_source(FLOW.replace("BEHAVIOR", "FAIL").replace("PT0.5S", "PT1H"))
    run = finished(execution_start(flow=flow), timeout=60)
    assert run.state == State.SUCCESS
    assert "late" not in run.labels
