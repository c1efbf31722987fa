"""One execution timed from its trigger to its end, and where its time went.

"Trigger" is the call to ``execution_start`` (a committed transaction, as the Run button
and the REST API make); "SUCCESS" is the moment this process sees the Execution row in
state SUCCESS (it polls every 2 ms). The stage breakdowns come from the rows' own
timestamps, written by the worker on the same host clock.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import docker
from docker.errors import DockerException, ImageNotFound

from executions.engine import execution_start
from executions.models import TERMINAL_STATES, Execution, LogLine, State
from flows.models import Flow

from .environment import BenchError
from .stack import Stack

POLL = 0.002  # seconds between two looks at the Execution row


@dataclass
class Sample:
    execution_id: str
    wall: float  # seconds, trigger to SUCCESS seen
    trigger_at: float  # time.time() at the trigger
    seen_at: float  # time.time() when this process saw SUCCESS


def execution_measure(flow: Flow, stack: Stack, timeout: float) -> Sample:

    trigger_at = time.time()
    started = time.perf_counter()
    execution = execution_start(flow=flow)
    rows = Execution.objects.filter(pk=execution.pk).values_list("state", flat=True)
    deadline = started + timeout
    while True:
        state = rows.get()
        if state in TERMINAL_STATES:
            break
        now = time.perf_counter()
        if now > deadline:
            raise BenchError(
                f"Execution {execution.pk} of {flow} still {state} after {timeout:g} s\n"
                f"{stack.log_tail()}"
            )
        stack.check_alive()
        time.sleep(POLL)
    wall = time.perf_counter() - started
    seen_at = time.time()
    if state != State.SUCCESS:
        raise BenchError(
            f"Execution {execution.pk} of {flow} ended {state}:\n{execution_logs(execution.pk)}"
        )
    return Sample(execution.pk, wall, trigger_at, seen_at)


def execution_logs(execution_id: str) -> str:
    lines = LogLine.objects.filter(execution_id=execution_id).values_list("task_id", "message")
    return "\n".join(f"  [{task}] {message}" for task, message in lines)


def executions_measure(
    flow: Flow, stack: Stack, runs: int, *, timeout: float, pause: float
) -> list[Sample]:
    samples = []
    for _ in range(runs):
        time.sleep(pause)  # the cluster is idle when someone clicks Run
        samples.append(execution_measure(flow, stack, timeout))
    return samples


def _ts(value: Any) -> float:
    return value.timestamp()


def hello_stages(samples: Sequence[Sample]) -> dict[str, list[float]]:
    """Where a one-task execution's time goes, per sample, in seconds."""
    stages: dict[str, list[float]] = {}

    def add(name: str, seconds: float) -> None:
        stages.setdefault(name, []).append(seconds)

    for sample in samples:
        execution = Execution.objects.get(pk=sample.execution_id)
        task_run = execution.task_runs.get()
        first = (
            LogLine.objects.filter(task_run=task_run, stream=LogLine.Stream.STDOUT)
            .order_by("id")
            .values_list("timestamp", flat=True)
            .first()
        )
        claimed, ended = _ts(task_run.started_at), _ts(task_run.ended_at)
        add("trigger -> Execution row created", _ts(execution.created_at) - sample.trigger_at)
        add("created -> task run claimed by a worker", claimed - _ts(execution.created_at))
        if first is not None:
            add("claimed -> first output line read", _ts(first) - claimed)
            add("first line -> task run ended", ended - _ts(first))
        else:
            add("claimed -> task run ended (no output line)", ended - claimed)
        add("task run ended -> Execution SUCCESS", _ts(execution.ended_at) - ended)
        add("SUCCESS committed -> seen by the trigger", sample.seen_at - _ts(execution.ended_at))
    return stages


def chain_stages(samples: Sequence[Sample]) -> dict[str, list[float]]:
    """Where a many-task execution's time goes, per sample, in seconds."""
    stages: dict[str, list[float]] = {}

    def add(name: str, seconds: float) -> None:
        stages.setdefault(name, []).append(seconds)

    for sample in samples:
        execution = Execution.objects.get(pk=sample.execution_id)
        runs = list(execution.task_runs.order_by("position"))
        durations = [_ts(r.ended_at) - _ts(r.started_at) for r in runs]
        handoffs = [_ts(b.started_at) - _ts(a.ended_at) for a, b in pairwise(runs)]
        add("trigger -> first task run claimed", _ts(runs[0].started_at) - sample.trigger_at)
        add(f"sum of {len(runs)} task runs (claim -> end)", sum(durations))
        add(f"sum of {len(handoffs)} hand-offs (end -> next claim)", sum(handoffs))
        add(
            "last task run ended -> Execution SUCCESS",
            _ts(execution.ended_at) - _ts(runs[-1].ended_at),
        )
        add("SUCCESS committed -> seen by the trigger", sample.seen_at - _ts(execution.ended_at))
        add("  median task run (claim -> end)", statistics.median(durations))
        if handoffs:
            add("  median hand-off (end -> next claim)", statistics.median(handoffs))
    return stages


def bare_measure(argv: Sequence[str], runs: int, *, cwd: Path | None = None) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(argv, cwd=cwd, capture_output=True, check=False)
        times.append(time.perf_counter() - started)
        if done.returncode != 0:
            raise BenchError(f"{' '.join(argv)} failed: {done.stderr.decode()[-2000:]}")
    return times


def docker_unavailable(image: str) -> str | None:
    """Why the Docker measures cannot run here, or None."""
    try:
        client = docker.from_env()
        client.ping()
        client.images.get(image)
    except ImageNotFound:
        return f"image {image} is missing (make images)"
    except DockerException as exc:
        return f"no Docker engine answers ({exc})"
    if shutil.which("docker") is None:
        return "the docker command is not on PATH"
    return None
