"""A worker that dies mid-task (its process, its cluster or its host gone) does not leave
the task RUNNING: the clock finds it within seconds, retries the task when its `retry`
says so or fails it, removes its container, and the execution goes on."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from executions import upkeep
from executions.lifecycle import execution_restart, execution_start
from executions.liveness import LOST_AFTER, Heartbeat, host_name
from executions.models import Execution, State, TaskRun
from executions.upkeep import task_runs_reap_lost
from tests.conftest import start_clock, start_worker, wait_until
from tests.executions.test_flow_control import flow, log, shell
from tests.flows_helpers import finished, messages, save_flow
from triggers.clock_loop import ClockThread

pytestmark = pytest.mark.django_db(transaction=True)

DETECTED_WITHIN = 30  # seconds, from the kill to a terminal execution


def in_container(task_id: str, *commands: str, extra: str = "") -> str:
    lines = [
        f"  - id: {task_id}",
        "    type: io.kestra.plugin.scripts.shell.Commands",
        "    containerImage: python:3.11-slim",
        "    commands:",
        *(f"      - {json.dumps(command)}" for command in commands),
    ]
    lines += [f"    {line}" for line in extra.strip("\n").split("\n") if line]
    return "\n".join(lines) + "\n"


def containers_of(client, execution_id: str) -> list:
    # The low-level list: the high-level one inspects each container, racing a removal.
    label = f"flowsite.execution={execution_id}"
    return client.api.containers(all=True, filters={"label": label})


def started_line(execution: Execution, text: str = "started") -> TaskRun | None:
    line = execution.log_lines.filter(message=text).select_related("task_run").first()
    return line.task_run if line is not None else None


def worker_pid(run: TaskRun) -> int:
    run.refresh_from_db()
    host, _, pid = run.worker.rpartition(":")
    assert host == host_name()
    return int(pid)


def a_dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


@pytest.mark.docker
def test_a_worker_killed_while_it_runs_a_container_is_found_within_30_seconds(
    docker_engine,
) -> None:
    source = flow(
        "lost-container",
        in_container("long", "echo started", "sleep 120"),
        extra="finally:\n" + log("cleanup", "cleanup ran"),
    )
    execution = execution_start(flow=save_flow(source))
    cluster, clock = start_worker(FLOWSITE_WORKERS="1"), start_clock()
    try:
        run = wait_until(lambda: started_line(execution), timeout=60, what="the script")
        assert len(containers_of(docker_engine, execution.pk)) == 1
        os.kill(worker_pid(run), signal.SIGKILL)  # the django-q2 worker holding the task
        killed_at = time.monotonic()
        execution = finished(execution, timeout=DETECTED_WITHIN)
        detected_in = time.monotonic() - killed_at
        # The replacement worker ran finally; the container went with the lost run.
        wait_until(lambda: not containers_of(docker_engine, execution.pk), timeout=5)
    finally:
        clock.stop()
        cluster.stop()
    assert execution.state == State.FAILED
    assert detected_in < DETECTED_WITHIN
    run.refresh_from_db()
    assert run.state == State.FAILED
    assert run.error.startswith(f"The worker running this task ({run.worker}) ended")
    assert run.attempts.get().state == State.FAILED
    assert "cleanup ran" in messages(execution)


def processes_of(task_run_id: str) -> list[int]:
    marker = f"FLOWSITE_TASKRUN_ID={task_run_id}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            if entry.name.isdigit() and marker in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
    return found


def test_a_killed_worker_s_process_task_is_killed_with_its_children_when_found() -> None:
    source = flow("lost-process", shell("long", "echo started", "sleep 120 & sleep 120"))
    execution = execution_start(flow=save_flow(source))
    cluster, clock = start_worker(FLOWSITE_WORKERS="1"), start_clock()
    try:
        run = wait_until(lambda: started_line(execution), timeout=60, what="the script")
        assert len(processes_of(run.pk)) >= 3  # the shell and its two sleeps
        os.kill(worker_pid(run), signal.SIGKILL)
        execution = finished(execution, timeout=DETECTED_WITHIN)
        wait_until(lambda: not processes_of(run.pk), timeout=5, what="its processes to go")
    finally:
        clock.stop()
        cluster.stop()
    assert execution.state == State.FAILED


@pytest.mark.docker
def test_a_task_whose_worker_was_killed_is_retried_when_its_retry_says_so(docker_engine) -> None:
    retry = "retry:\n  type: constant\n  interval: PT1S\n  maxAttempts: 2"
    source = flow(
        "lost-retried",
        in_container(
            "long",
            "echo started {{ taskrun.attemptsCount }}",
            'if [ "{{ taskrun.attemptsCount }}" = 0 ]; then sleep 120; fi',
            "echo second attempt done",
            extra=retry,
        ),
    )
    execution = execution_start(flow=save_flow(source))
    cluster, clock = start_worker(FLOWSITE_WORKERS="1"), start_clock()
    try:
        run = wait_until(lambda: started_line(execution, "started 0"), timeout=60, what="it")
        os.kill(worker_pid(run), signal.SIGKILL)
        execution = finished(execution, timeout=DETECTED_WITHIN + 20)
    finally:
        clock.stop()
        cluster.stop()
    assert execution.state == State.SUCCESS
    attempts = list(execution.task_runs.get().attempts.values_list("state", "error"))
    assert [state for state, _ in attempts] == [State.FAILED, State.SUCCESS]
    assert "The worker running this task" in attempts[0][1]
    assert "second attempt done" in messages(execution)
    assert not containers_of(docker_engine, execution.pk)


@pytest.mark.docker
def test_a_whole_cluster_killed_is_found_by_the_clock_of_its_host(docker_engine) -> None:
    execution = execution_start(
        flow=save_flow(flow("lost-cluster", in_container("long", "echo started", "sleep 120")))
    )
    clock = start_clock()
    cluster = start_worker(FLOWSITE_WORKERS="1")
    try:
        wait_until(lambda: started_line(execution), timeout=60, what="the script")
        os.killpg(cluster.process.pid, signal.SIGKILL)  # sentinel, workers, all of it
        killed_at = time.monotonic()
        execution = finished(execution, timeout=DETECTED_WITHIN)
        assert time.monotonic() - killed_at < DETECTED_WITHIN
        wait_until(lambda: not containers_of(docker_engine, execution.pk), timeout=5)
    finally:
        cluster.stop()
    assert execution.state == State.FAILED
    survivor = start_worker(FLOWSITE_WORKERS="1")
    try:
        later = finished(execution_start(flow=save_flow(flow("after", log("one", "hello")))))
    finally:
        survivor.stop()
        clock.stop()
    assert later.state == State.SUCCESS


def test_a_worker_gone_from_this_host_is_lost_at_once_another_host_s_after_silence() -> None:
    execution = execution_start(flow=save_flow(flow("quiet", shell("t", "true"))))
    run = execution.task_runs.get()
    now = timezone.now()
    fresh, silent = now - timedelta(seconds=1), now - LOST_AFTER - timedelta(seconds=1)
    cases = {
        f"{host_name()}:{os.getpid()}": (fresh, False),  # alive, here
        f"{host_name()}:{a_dead_pid()}": (fresh, True),  # gone, here: no need to wait
        f"{host_name()}/pidns-1:{a_dead_pid()}": (silent - LOST_AFTER, True),  # a container's
        f"{host_name()}/pidns-2:{a_dead_pid()}": (fresh, False),  # ... whose pids are not ours
        "elsewhere:1": (fresh, False),  # another host, beating
        "elsewhere:2": (silent, True),  # another host, silent too long
    }
    for worker, (beat, lost) in cases.items():
        TaskRun.objects.filter(pk=run.pk).update(
            state=State.RUNNING, heartbeat_at=beat, worker=worker, ended_at=None
        )
        assert task_runs_reap_lost(now=now) == int(lost), worker
        run.refresh_from_db()
        assert run.state == (State.FAILED if lost else State.RUNNING), worker
    run.finish(State.SUCCESS)


def test_a_failed_run_can_be_restarted_after_its_worker_was_lost(task_tmp_path) -> None:
    marker = task_tmp_path / "second-time"
    source = flow(
        "lost-worker",
        shell("long", f"test -f {marker} || sleep 10", f"touch {marker}") + log("after", "went on"),
    )
    execution = execution_start(flow=save_flow(source))
    run = execution.task_runs.get(task_id="long")
    run.claim(f"{host_name()}:{a_dead_pid()}")
    assert task_runs_reap_lost() == 1
    execution = finished(execution, timeout=5)
    assert execution.state == State.FAILED
    marker.touch()
    marker.chmod(0o666)  # the task touches it too, as a user of its own
    execution_restart(execution_id=execution.pk)
    worker = start_worker(FLOWSITE_WORKERS="1")
    try:
        execution = finished(execution)
    finally:
        worker.stop()
    assert execution.state == State.SUCCESS
    assert "went on" in messages(execution)


def test_one_thread_per_worker_process_tells_the_database_its_runs_are_alive() -> None:
    beating = save_flow(flow("beating", log("one", "one")))
    runs = [execution_start(flow=beating).task_runs.get() for _ in range(2)]
    beats = Heartbeat(every=0.05)
    stamps = {}
    for run in runs:
        assert run.claim("test:1")
        stamps[run.pk] = TaskRun.objects.get(pk=run.pk).heartbeat_at
        assert stamps[run.pk] is not None  # the claim stamps the first heartbeat
    with beats.hold(runs[0].pk), beats.hold(runs[1].pk):
        wait_until(
            lambda: all(
                TaskRun.objects.filter(pk=pk, heartbeat_at__gt=stamp).exists()
                for pk, stamp in stamps.items()
            ),
            timeout=10,
            what="a heartbeat of both runs",
        )
    time.sleep(0.2)  # released: no more beats
    after = {pk: TaskRun.objects.get(pk=pk).heartbeat_at for pk in stamps}
    time.sleep(0.3)
    assert after == {pk: TaskRun.objects.get(pk=pk).heartbeat_at for pk in stamps}
    for run in runs:
        run.finish(State.SUCCESS)  # no worker holds them any more


def test_the_clock_looks_for_lost_workers_even_when_nothing_else_is_due() -> None:
    execution = execution_start(flow=save_flow(flow("quiet-loss", shell("long", "sleep 10"))))
    long_ago = timezone.now() - timedelta(minutes=5)
    TaskRun.objects.filter(execution=execution).update(
        state=State.RUNNING, started_at=long_ago, heartbeat_at=long_ago, worker="gone:1"
    )
    upkeep._last_sweep.clear()
    upkeep._last_sweep["at"] = timezone.now()  # the minutely sweep has just run
    clock = ClockThread(interval=0.05, started=lambda _: None)
    clock.start()
    try:
        wait_until(
            lambda: TaskRun.objects.filter(execution=execution, state=State.FAILED).exists(),
            timeout=10,
            what="the clock to fail the lost task run",
        )
    finally:
        clock.stop()
        clock.join(timeout=10)
    assert "gone:1" in TaskRun.objects.get(execution=execution).error
