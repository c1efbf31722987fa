"""A worker that dies mid-task (its process or host gone) does not leave the task
RUNNING forever: its heartbeat stops, and the sweep fails the task run."""

from __future__ import annotations

import os
import signal
from datetime import timedelta

import pytest
from django.utils import timezone

from executions import upkeep
from executions.jobs import Heartbeat
from executions.lifecycle import execution_restart, execution_start
from executions.models import Execution, State, TaskRun
from executions.upkeep import task_runs_reap_lost
from tests.conftest import start_worker, wait_until
from tests.executions.test_flow_control import flow, log, shell
from tests.flows_helpers import finished, messages, save_flow
from triggers.clock_loop import ClockThread

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_task_whose_worker_died_is_failed_by_the_sweep_and_can_be_restarted(
    task_tmp_path,
) -> None:
    marker = task_tmp_path / "second-time"
    source = flow(
        "lost-worker",
        shell("long", f"test -f {marker} || sleep 10", f"touch {marker}") + log("after", "went on"),
        extra="finally:\n" + log("cleanup", "cleanup ran"),
    )
    execution = execution_start(flow=save_flow(source))
    doomed = start_worker()
    try:
        wait_until(  # its attempt begun: the script is running
            lambda: TaskRun.objects.filter(
                task_id="long", state=State.RUNNING, attempts__isnull=False
            ).exists(),
            timeout=30,
            what="the task to start",
        )
    finally:
        os.killpg(doomed.process.pid, signal.SIGKILL)  # the worker host is gone
        doomed.stop()
    run = TaskRun.objects.get(task_id="long")
    assert task_runs_reap_lost() == 0  # silent for less than a minute: not yet lost

    assert task_runs_reap_lost(now=timezone.now() + timedelta(seconds=61)) == 1
    run.refresh_from_db()
    assert run.state == State.FAILED and "stopped: no sign of life" in run.error
    assert run.attempts.get().state == State.FAILED
    survivor = start_worker()
    try:
        execution = finished(execution)
        assert execution.state == State.FAILED
        assert "cleanup ran" in messages(execution)  # finally still ran
        marker.touch()
        marker.chmod(0o666)  # the task touches it too, as a user of its own
        execution_restart(execution_id=execution.pk)
        execution = finished(execution)
    finally:
        survivor.stop()
    assert execution.state == State.SUCCESS
    assert "went on" in messages(execution)


def test_a_running_task_tells_the_database_it_is_alive() -> None:
    execution = execution_start(flow=save_flow(flow("beating", log("one", "one"))))
    run = execution.task_runs.get()
    assert run.claim("test:1")
    before = TaskRun.objects.get(pk=run.pk).heartbeat_at
    assert before is not None  # the claim stamps the first heartbeat
    with Heartbeat(run, every=0.05):
        wait_until(
            lambda: TaskRun.objects.filter(pk=run.pk, heartbeat_at__gt=before).exists(),
            timeout=10,
            what="a heartbeat",
        )
    assert Execution.objects.get(pk=execution.pk).state != State.KILLING
    run.finish(State.SUCCESS)  # no worker holds it any more


def test_the_clock_sweeps_for_lost_workers_even_when_nothing_else_is_due() -> None:
    execution = execution_start(flow=save_flow(flow("quiet-loss", shell("long", "sleep 10"))))
    long_ago = timezone.now() - timedelta(minutes=5)
    TaskRun.objects.filter(execution=execution).update(
        state=State.RUNNING, started_at=long_ago, heartbeat_at=long_ago, worker="gone:1"
    )
    upkeep._last_sweep.clear()  # this process has not swept yet
    clock = ClockThread(interval=0.05, started=lambda _: None)
    clock.start()
    try:
        wait_until(
            lambda: TaskRun.objects.filter(execution=execution, state=State.FAILED).exists(),
            timeout=20,
            what="the clock's sweep to fail the lost task run",
        )
    finally:
        clock.stop()
        clock.join(timeout=10)
    assert "gone:1" in TaskRun.objects.get(execution=execution).error
