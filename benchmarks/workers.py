"""How long a worker killed while it holds a task takes to be noticed: the execution's
wait from the SIGKILL of the django-q2 worker process to its end (FAILED, its task run
failed by the clock of the same host)."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable

import yaml

from executions.lifecycle import execution_start
from executions.models import TERMINAL_STATES, Execution, LogLine, TaskRun
from flows.models import Flow

from .environment import NAMESPACE, BenchError
from .flows import PROCESS_RUNNER
from .report import Report, secs
from .stack import Stack

TARGET_S = 30.0
POLL = 0.05


def _doomed_flow() -> Flow:
    task = {
        "id": "long",
        "type": "io.kestra.plugin.scripts.shell.Commands",
        "taskRunner": {"type": PROCESS_RUNNER},
        "commands": ["echo started", "sleep 40"],
    }
    source = {"id": "killed-worker", "namespace": NAMESPACE, "tasks": [task]}
    return Flow.save_source(yaml.safe_dump(source, sort_keys=False))


def _until(what: str, stack: Stack, timeout: float, done: Callable[[], bool]) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise BenchError(
                f"Timed out after {timeout:g} s waiting for {what}\n{stack.log_tail()}"
            )
        stack.check_alive()
        time.sleep(POLL)


def killed_worker_measure(stack: Stack, report: Report, timeout: float = 90) -> None:
    """Once: SIGKILL the worker process running a task, time until its execution ends."""
    report.section("a worker killed while it holds a task")
    execution = execution_start(flow=_doomed_flow())
    lines = LogLine.objects.filter(execution_id=execution.pk, message="started")
    _until("the task to start", stack, timeout, lines.exists)
    worker = TaskRun.objects.values_list("worker", flat=True).get(execution_id=execution.pk)
    pid = int(worker.rpartition(":")[2])
    os.kill(pid, signal.SIGKILL)
    killed_at = time.monotonic()
    state = Execution.objects.filter(pk=execution.pk).values_list("state", flat=True)
    _until("the execution to end", stack, timeout, lambda: state.get() in TERMINAL_STATES)
    took = time.monotonic() - killed_at
    report.derived(
        "seconds to detect a killed worker",
        secs(took),
        target=f"< {TARGET_S:g} s",
        ok=took < TARGET_S,
        spread=f"execution {state.get()}",
    )
