"""The engine with a real django-q2 cluster: delivery, idempotence and kill."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from executions.lifecycle import execution_kill, execution_start
from executions.models import Execution, LogLine, State, TaskRun
from executions.queue import enqueue_task_run
from executions.upkeep import sweep_stalled_task_runs
from tests.conftest import wait_until
from tests.flows_helpers import PROCESS, finished, flow_yaml, messages, save_flow

pytestmark = pytest.mark.django_db(transaction=True)


def process_flow(commands: str, flow_id: str = "jobs", then: str = "") -> str:
    return flow_yaml(
        f"  - id: t\n    type: shell.Commands\n    taskRunner:\n      type: {PROCESS}\n"
        f"    commands:\n{commands}{then}",
        flow_id=flow_id,
    )


def test_a_worker_runs_an_execution_started_by_a_user(worker, alice) -> None:
    flow = save_flow(
        process_flow("      - echo one\n", then="  - id: u\n    type: Log\n    message: two\n")
    )
    execution = finished(execution_start(flow=flow, user=alice))
    assert execution.state == State.SUCCESS
    assert messages(execution) == ["one", "two"]
    assert execution.triggered_by == alice


def test_a_job_delivered_three_times_runs_its_task_once(worker) -> None:
    flow = save_flow(process_flow("      - echo ran\n      - sleep 0.3\n"))
    execution = execution_start(flow=flow)  # enqueued once on commit
    task_run = execution.task_runs.get()
    enqueue_task_run(task_run.pk)
    enqueue_task_run(task_run.pk)
    finished(execution)
    task_run.refresh_from_db()
    assert messages(execution) == ["ran"]
    assert (task_run.state, task_run.attempt) == (State.SUCCESS, 1)


def test_kill_stops_a_running_process_and_its_children(worker) -> None:
    flow = save_flow(process_flow("      - sleep 60 &\n      - echo pid=$!\n      - wait\n"))
    execution = execution_start(flow=flow)
    line = wait_until(
        lambda: LogLine.objects.filter(execution=execution, message__startswith="pid=").first(),
        what="the task to print its child's pid",
    )
    pid = int(line.message.removeprefix("pid="))
    started = time.monotonic()
    execution_kill(execution_id=execution.pk)
    finished(execution)
    assert execution.state == State.KILLED
    assert execution.task_runs.get().state == State.KILLED
    wait_until(lambda: not _running(pid), timeout=2, what="the child process to be gone")
    assert time.monotonic() - started < 2


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"  # a zombie is dead, just not yet reaped
    except FileNotFoundError:
        return False


@pytest.mark.docker
def test_kill_ends_a_sleeping_container_within_two_seconds_and_leaves_none(
    worker, docker_engine
) -> None:
    source = flow_yaml(
        "  - id: nap\n    type: python.Script\n    script: |\n"
        "      import time\n      print('sleeping', flush=True)\n      time.sleep(60)\n",
        flow_id="nap",
    )
    execution = execution_start(flow=save_flow(source))
    label = {"label": f"flowsite.execution={execution.pk}"}
    wait_until(lambda: "sleeping" in messages(execution), what="the container to start")
    [container] = docker_engine.containers.list(filters=label)
    task_run = execution.task_runs.get()
    assert container.labels["flowsite.taskrun"] == task_run.pk
    # No host bind mounts, so a remote DOCKER_HOST works: just the CA volume, read-only.
    [mount] = container.attrs["Mounts"]
    assert (mount["Type"], mount["Destination"], mount["RW"]) == ("volume", "/etc/flowsite", False)
    started = time.monotonic()
    execution_kill(execution_id=execution.pk)
    wait_until(  # the low-level list: the high-level one inspects each, racing the removal
        lambda: not docker_engine.api.containers(all=True, filters=label),
        timeout=2,
        what="the container to be gone",
    )
    assert time.monotonic() - started < 2
    finished(execution)
    assert execution.state == State.KILLED
    task_run.refresh_from_db()
    assert task_run.state == State.KILLED


def test_a_task_run_whose_job_was_lost_is_swept_back_into_the_queue(worker) -> None:
    flow = save_flow(process_flow("      - echo recovered\n", flow_id="lost"))
    revision = flow.current_revision
    # As if the broker lost the job: the rows exist, no job was ever enqueued.
    execution = Execution.objects.create(
        flow_revision=revision, namespace=flow.namespace, flow_id=flow.flow_id
    )
    TaskRun.objects.create(
        execution=execution,
        task_id="t",
        path="t",
        position=0,
        task_type="shell.Commands",
        created_at=timezone.now() - timedelta(minutes=5),
    )
    assert sweep_stalled_task_runs() == 1
    assert finished(execution).state == State.SUCCESS
    assert messages(execution) == ["recovered"]
    assert sweep_stalled_task_runs() == 0


def test_migrating_schedules_the_sweep_every_minute_once() -> None:
    import importlib

    from django.apps import apps
    from django_q.models import Schedule

    migration = importlib.import_module("executions.migrations.0002_sweep_schedule")
    migration.schedule_sweep(apps, None)
    migration.schedule_sweep(apps, None)
    schedule = Schedule.objects.get(func="executions.jobs.sweep_stalled_task_runs")
    assert (schedule.schedule_type, schedule.minutes, schedule.repeats) == ("I", 1, -1)
