"""The trigger examples among flows/examples run unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest

from executions.jobs import run_task_run
from executions.models import Execution, State
from tests.flows_helpers import messages
from tests.triggers.helpers import at, executions_of, save
from triggers.clock import clock_tick

EXAMPLES = Path(__file__).resolve().parents[2] / "flows" / "examples"


def run_queued(execution: Execution) -> Execution:
    """Run the execution's waiting task runs here, as a worker would."""
    for task_run in execution.task_runs.filter(state=State.CREATED).order_by("position"):
        run_task_run(task_run.pk)
    execution.refresh_from_db()
    return execution


@pytest.mark.django_db(transaction=True)
def test_the_daily_report_runs_on_its_schedule_and_its_follower_after_it() -> None:
    report = save((EXAMPLES / "schedule-daily-report.yml").read_text())
    follower = save((EXAMPLES / "flow-trigger-after-report.yml").read_text())

    clock_tick(at(7, 0))
    clock_tick(at(8, 0, 1))  # 09:00 in Paris
    [scheduled] = executions_of(report)
    scheduled = run_queued(scheduled)
    assert scheduled.state == State.SUCCESS
    assert any("Report for 2030-01-01T09:00:00+01:00" in m for m in messages(scheduled))

    [announced] = executions_of(follower)
    announced = run_queued(announced)
    assert announced.state == State.SUCCESS
    assert any(f"Daily report {scheduled.pk} ended SUCCESS" in m for m in messages(announced))
