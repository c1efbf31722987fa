"""The examples of the trigger and flow-level language run on a real worker and do what
their descriptions say."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from executions.lifecycle import execution_resume, execution_start
from executions.models import Execution, LogLine, State, TaskRunAttempt
from flows.models import Flow
from tests.conftest import FlowsiteProcess, start_worker, wait_until
from tests.flows_helpers import finished, messages
from triggers.clock import clock_tick
from triggers.models import ConditionWindow

EXAMPLES = Path(__file__).resolve().parents[2] / "flows" / "examples"
CHANNEL = "#data-team"

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def worker(django_db_setup: Any, django_db_blocker: Any) -> Iterator[FlowsiteProcess]:
    """A worker whose host allows one variable to flows: FLOWSITE_ENV_TEAM_CHANNEL."""
    process = start_worker(FLOWSITE_ENV_TEAM_CHANNEL=CHANNEL)
    yield process
    process.stop()


def example(name: str) -> Flow:
    return Flow.save_source((EXAMPLES / f"{name}.yml").read_text())


def executions_of(flow: Flow) -> list[Execution]:
    return list(Execution.objects.filter(flow_id=flow.flow_id).order_by("created_at"))


def test_weekday_mornings_runs_on_weekdays_but_the_first_monday(worker: Any) -> None:
    flow = example("schedule-weekday-mornings")
    clock_tick(datetime(2030, 1, 1, 7, 0, tzinfo=UTC))  # arms it: Tuesday 1st, 09:00 Paris
    clock_tick(datetime(2030, 1, 14, 12, 0, tzinfo=UTC))
    runs = [finished(execution) for execution in executions_of(flow)]
    days = sorted(run.trigger["variables"]["date"][:10] for run in runs if run.trigger)
    assert days == [
        "2030-01-01",
        "2030-01-02",
        "2030-01-03",
        "2030-01-04",
        "2030-01-08",  # not the 7th: the first Monday
        "2030-01-09",
        "2030-01-10",
        "2030-01-11",
        "2030-01-14",
    ]
    assert all(run.state == State.SUCCESS for run in runs)
    assert "Good morning, the slot is 2030-01-08T09:00:00+01:00" in messages(runs[4])


def test_approval_reminder_fires_when_the_approval_pauses_not_when_it_ends(worker: Any) -> None:
    approval = example("pause-approval")
    reminder = example("approval-reminder")
    run = execution_start(flow=approval)
    wait_until(lambda: executions_of(reminder), what="the reminder to start")
    [reminded] = [finished(execution) for execution in executions_of(reminder)]
    run.refresh_from_db()
    assert run.state == State.PAUSED  # still waiting: the reminder did not wait for its end
    assert reminded.state == State.SUCCESS
    assert f"Run {run.pk} of pause-approval waits for approval" in messages(reminded)
    execution_resume(execution_id=run.pk)
    assert finished(run).state == State.SUCCESS
    assert len(executions_of(reminder)) == 1  # its end is not a pause


def test_resilient_pipeline_succeeds_quietly_with_its_token_hidden(worker: Any) -> None:
    flow = example("resilient-pipeline")
    run = finished(execution_start(flow=flow, inputs={"api_token": "tok-12345"}))
    assert run.state == State.SUCCESS
    [called] = LogLine.objects.filter(execution=run, task_id="call_api")
    assert called.level == "WARN"  # from the pluginDefaults
    assert "token ****** in chain" in called.message and "tok-12345" not in called.message
    assert f"for {CHANNEL} with" in called.message
    assert f"chain {run.pk}" in called.message
    ran = set(run.task_runs.values_list("task_id", flat=True))
    assert "goodbye" in ran and "report_failure" not in ran
    assert "slow" not in run.labels


def test_resilient_pipeline_retries_then_reports_its_failure(worker: Any) -> None:
    flow = example("resilient-pipeline")
    run = finished(execution_start(flow=flow, inputs={"api_token": "tok-12345", "fail": True}))
    assert run.state == State.FAILED
    attempts = TaskRunAttempt.objects.filter(task_run__execution=run, task_run__task_id="check")
    assert attempts.count() == 3  # the flow's retry
    assert "Failed after 3 errors: The API refused the token" in messages(run)
    assert {"report_failure", "goodbye"} <= set(run.task_runs.values_list("task_id", flat=True))


def test_orders_webhook_takes_orders_and_daily_close_waits_for_an_order_and_a_morning(
    worker: Any, client: Client
) -> None:
    orders = example("webhook-orders")
    mornings = example("schedule-weekday-mornings")
    close = example("daily-close")
    url = "/api/v1/executions/webhook/company.team/orders-webhook/orders-4f9a7c2e"
    ping = client.post(url, {"kind": "ping"}, content_type="application/json")
    assert ping.status_code == 204 and executions_of(orders) == []
    order = client.post(url, {"kind": "order", "id": "A-17"}, content_type="application/json")
    assert order.status_code == 200
    [recorded] = [finished(execution) for execution in executions_of(orders)]
    assert "Order A-17 received" in messages(recorded)
    assert executions_of(close) == []  # the morning has not run yet
    morning = finished(execution_start(flow=mornings))
    assert morning.state == State.SUCCESS
    wait_until(lambda: executions_of(close), what="the day to close")
    [closed] = [finished(execution) for execution in executions_of(close)]
    assert closed.state == State.SUCCESS
    assert f"Closing the day after weekday-mornings {morning.pk}" in messages(closed)
    second_morning = finished(execution_start(flow=mornings))
    assert second_morning.state == State.SUCCESS
    # The window was reset when it fired: the new morning waits there for a new order.
    [window] = ConditionWindow.objects.filter(flow_id="daily-close")
    assert set(window.results) == {"morning"}
    assert len(executions_of(close)) == 1


def test_numbered_steps_runs_a_known_environment_and_fails_an_unknown_one(
    worker: Any, clock: Any
) -> None:
    flow = example("numbered-steps")
    staging = finished(execution_start(flow=flow))
    assert staging.state == State.SUCCESS
    assert messages(staging)[-1] == "Deployed"
    assert "Staging checks passed" in messages(staging)
    unknown = finished(execution_start(flow=flow, inputs={"environment": "qa"}))
    assert unknown.state == State.FAILED
    assert "no case matches 'qa'" in unknown.task_runs.get(task_id="2").error
