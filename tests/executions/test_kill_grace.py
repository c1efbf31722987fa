"""Kill and timeout send SIGTERM first, so a task may clean up, and SIGKILL after the
grace period (FLOWSITE_KILL_GRACE_SECONDS), in a container and in a process alike."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from executions.lifecycle import execution_kill, execution_start
from executions.models import Execution, State
from tests.conftest import FlowsiteProcess, start_worker, wait_until
from tests.flows_helpers import PROCESS, finished, messages, save_flow

pytestmark = pytest.mark.django_db(transaction=True)

GRACE = 2  # seconds, the module's worker's FLOWSITE_KILL_GRACE_SECONDS
TRAPS_SIGTERM = [
    "trap 'echo cleaning up; exit 3' TERM",
    "echo started",
    "sleep 60 &",  # a shell runs a trap once its foreground command ends: wait instead
    "wait",
]
IGNORES_SIGTERM = ["trap '' TERM", "echo started", "sleep 60 &", "wait"]


@pytest.fixture(scope="module")
def grace_worker(django_db_setup: Any, django_db_blocker: Any) -> Iterator[FlowsiteProcess]:
    process = start_worker(FLOWSITE_KILL_GRACE_SECONDS=str(GRACE), FLOWSITE_WORKERS="2")
    yield process
    process.stop()


@pytest.fixture(params=["process", "docker"])
def runner(request: Any) -> str:
    if request.param == "docker":
        request.getfixturevalue("docker_engine")
    return str(request.param)


def task(runner: str, commands: list[str], extra: str = "") -> str:
    lines = ["id: grace", "namespace: dev", "tasks:", "  - id: t"]
    lines.append("    type: io.kestra.plugin.scripts.shell.Commands")
    if runner == "process":
        lines += ["    taskRunner:", f"      type: {PROCESS}"]
    else:
        lines.append("    containerImage: python:3.11-slim")
    lines.append("    commands:")
    lines += [f"      - {json.dumps(command)}" for command in commands]
    if extra:
        lines.append(f"    {extra}")
    return "\n".join(lines) + "\n"


def start_and_wait_for_it(source: str) -> Execution:
    execution = execution_start(flow=save_flow(source))
    wait_until(
        lambda: execution.log_lines.filter(message="started").exists(),
        timeout=60,
        what="the script to start",
    )
    return execution


def test_a_killed_task_that_traps_sigterm_cleans_up(grace_worker: Any, runner: str) -> None:
    execution = start_and_wait_for_it(task(runner, TRAPS_SIGTERM))
    asked = time.monotonic()
    assert execution_kill(execution_id=execution.pk)
    execution = finished(execution, timeout=GRACE + 10)
    assert time.monotonic() - asked < GRACE  # it ended by itself, before the SIGKILL
    assert execution.state == State.KILLED
    lines = messages(execution)
    assert f"Killing: sent SIGTERM, SIGKILL in {GRACE} s" in lines
    assert lines.index("cleaning up") > lines.index(f"Killing: sent SIGTERM, SIGKILL in {GRACE} s")


def test_a_task_that_ignores_sigterm_gets_sigkill_after_the_grace_period(
    grace_worker: Any, runner: str
) -> None:
    execution = start_and_wait_for_it(task(runner, IGNORES_SIGTERM))
    asked = time.monotonic()
    assert execution_kill(execution_id=execution.pk)
    execution = finished(execution, timeout=GRACE + 10)
    took = time.monotonic() - asked
    assert GRACE - 0.2 < took < GRACE + 5
    assert execution.state == State.KILLED
    assert execution.task_runs.get().state == State.KILLED


def test_a_task_past_its_timeout_gets_sigterm_first_and_fails(grace_worker: Any) -> None:
    execution = start_and_wait_for_it(task("process", TRAPS_SIGTERM, extra="timeout: PT1S"))
    execution = finished(execution, timeout=GRACE + 10)
    assert execution.state == State.FAILED
    lines = messages(execution)
    stopped = (
        f"Task exceeded its timeout of 1 s and was stopped: sent SIGTERM, SIGKILL in {GRACE} s"
    )
    assert stopped in lines
    assert lines.index("cleaning up") > lines.index(stopped)
