"""The example flows of the flowable tasks (WorkingDirectory, LoopUntil, ForEachItem,
Pause with onResume, EachParallel with errors, finally and retry), written in Kestra's
documented syntax, run on a real worker and do what their description says."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from executions.lifecycle import execution_resume, execution_start
from executions.models import Execution, State, TaskRun
from flows.models import Flow
from tests.conftest import wait_until
from tests.flows_helpers import finished, messages

pytestmark = pytest.mark.django_db(transaction=True)

EXAMPLES = Path(__file__).resolve().parents[2] / "flows" / "examples"


def example(name: str) -> Flow:
    return Flow.save_source((EXAMPLES / f"{name}.yml").read_text())


def run(name: str, **kwargs) -> Execution:
    return finished(execution_start(flow=example(name), **kwargs), timeout=90)


def test_working_directory_shares_a_file_between_two_tasks_and_keeps_the_report(
    worker,
) -> None:
    execution = run("working-directory")
    assert execution.state == State.SUCCESS
    assert messages(execution, stream="stdout") == ["2 regions"]
    assert messages(execution)[-1] == "2 regions"


def test_loop_until_ready_polls_three_times_then_reports(worker, clock) -> None:
    execution = run("loop-until-ready")
    assert execution.state == State.SUCCESS
    assert messages(execution) == ["Ready after 3 checks"]
    checks = TaskRun.objects.filter(execution=execution, task_id="check")
    assert sorted(run.outputs["value"] for run in checks) == ["ready", "waiting", "waiting"]


def test_for_each_item_orders_sends_two_lines_per_batch_to_order_batch(worker) -> None:
    example("order-batch")
    orders = SimpleUploadedFile("orders.txt", b"apples\npears\nplums\n")
    execution = run("for-each-item-orders", files={"orders": orders})
    assert execution.state == State.SUCCESS
    assert messages(execution)[-1] == "2 batches processed"
    children = Execution.objects.filter(parent_task_run__execution=execution)
    handled = sorted(message for child in children for message in messages(finished(child)))
    assert handled == ["Batch 1: apples, pears", "Batch 2: plums"]


def test_pause_review_takes_the_reviewers_decision_from_the_resume_inputs(worker) -> None:
    execution = execution_start(flow=example("pause-review"))

    def paused() -> bool:
        execution.refresh_from_db()
        return execution.state == State.PAUSED

    wait_until(paused, what="the review to pause")
    execution_resume(execution_id=execution.pk, inputs={"approved": "false", "comment": "later"})
    execution = finished(execution)
    assert execution.state == State.SUCCESS
    assert messages(execution)[-1] == "Shelved (later)"


def test_each_with_handlers_reads_each_regions_output_and_retries_the_flaky_check(
    worker,
) -> None:
    execution = run("each-with-handlers")
    assert execution.state == State.SUCCESS
    logged = messages(execution)
    assert sorted(logged[:2]) == ["eu-west answered", "us-east answered"]
    assert "checks failed" not in logged
    assert logged[-1] == "checks cleaned up"
    flaky = TaskRun.objects.get(execution=execution, task_id="flaky")
    assert flaky.attempts.count() == 2
