"""django-q2 kills jobs that run past its own timeout; Flowsite's task runs must not be
cut off by it, nor run again when the broker re-delivers the job."""

from __future__ import annotations

import pytest

from executions.lifecycle import execution_start
from executions.models import State
from tests.conftest import start_worker
from tests.flows_helpers import PROCESS, finished, flow_yaml, messages, save_flow

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def worker(django_db_setup, django_db_blocker):
    process = start_worker(FLOWSITE_QUEUE_TIMEOUT="1", FLOWSITE_QUEUE_RETRY="2")
    yield process
    process.stop()


def test_a_task_longer_than_the_queue_timeout_is_neither_cut_off_nor_run_twice(worker) -> None:
    source = flow_yaml(
        f"  - id: long\n    type: shell.Commands\n    taskRunner:\n      type: {PROCESS}\n"
        "    commands:\n      - echo started\n      - sleep 4\n      - echo finished\n",
        flow_id="longer-than-the-queue-timeout",
    )
    execution = finished(execution_start(flow=save_flow(source)), timeout=30)
    task_run = execution.task_runs.get()
    assert execution.state == State.SUCCESS
    assert messages(execution) == ["started", "finished"]
    assert task_run.attempt == 1
