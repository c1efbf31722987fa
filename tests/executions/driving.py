"""Driving executions to their end in the test process with the engine's own code: the
worker's job function (run_task_run) for every task run waiting for a worker, the
clock's delayed work for retries, and the sweep's reaper for a worker that died."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from unittest.mock import patch

from django.utils import timezone

from executions import jobs
from executions.models import TERMINAL_STATES, Execution, State, TaskRun, TaskRunAttempt
from executions.upkeep import delayed_work_start, task_runs_reap_lost

DEAD_WORKER = "dead-host:1"


class WorkerDied(BaseException):
    """The worker process vanished: nothing of ours catches it (it is no Exception)."""


def drive(*, dies: Callable[[TaskRun], bool] = lambda run: False, steps: int = 3000) -> int:
    """Run every waiting task run until none is left; return how many jobs ran.

    The job a worker takes for a run for which ``dies`` is true (once per run, whether
    the job was queued or the worker went on to it by itself) claims the run and then
    its worker dies: the run stays RUNNING without heartbeat, the rest of that job is
    lost, until the sweep's reaper, run as if an hour later, fails the run as it would
    a SIGKILLed worker's.
    """
    died: set[str] = set()
    execute = jobs.task_run_execute

    def execute_or_die(*, task_run_id: str) -> list[str]:
        run = TaskRun.objects.get(pk=task_run_id)
        if run.pk in died or not dies(run):
            return execute(task_run_id=task_run_id)
        died.add(run.pk)
        if run.claim(DEAD_WORKER):
            TaskRunAttempt.objects.create(task_run=run, number=run.attempt, worker=DEAD_WORKER)
        raise WorkerDied(run.pk)

    with patch.object(jobs, "task_run_execute", execute_or_die):
        for done in range(steps):
            waiting = (
                TaskRun.objects.filter(state=State.CREATED)
                .exclude(execution__state__in=TERMINAL_STATES)
                .order_by("created_at", "pk")
                .first()
            )
            if waiting is None:
                later = timezone.now() + timedelta(hours=1)
                if TaskRun.objects.filter(state=State.RETRYING).exists():
                    delayed_work_start(later)
                    continue
                if task_runs_reap_lost(now=later):
                    continue
                return done
            try:
                jobs.run_task_run(waiting.pk)
            except WorkerDied:
                continue
    raise AssertionError(f"Executions still had work after {steps} jobs")


def inconsistencies(execution: Execution) -> list[str]:
    """What is wrong with an execution that should have ended: each a sentence."""
    execution.refresh_from_db()
    found = []
    if execution.state not in TERMINAL_STATES:
        found.append(f"execution is {execution.state}")
    if execution.ended_at is None:
        found.append("execution has no end time")
    runs = {run.pk: run for run in execution.task_runs.all()}
    for run in runs.values():
        if run.state not in TERMINAL_STATES:
            found.append(f"task run {run.path} is {run.state}")
        elif run.ended_at is None:
            found.append(f"task run {run.path} ({run.state}) has no end time")
        parent = runs.get(run.parent_id) if run.parent_id else None
        if run.parent_id and parent is None:
            found.append(f"task run {run.path} has a parent in another execution")
        if parent is not None and parent.state not in TERMINAL_STATES:
            found.append(f"{parent.path} is {parent.state} while its child {run.path} ended")
        if run.state == State.FAILED and not run.error and not run.children.exists():
            found.append(f"task run {run.path} FAILED without saying why")
    still_open = TaskRunAttempt.objects.filter(task_run__execution=execution, ended_at=None)
    for attempt in still_open:
        found.append(f"attempt {attempt.number} of {attempt.task_run.path} is still open")
    return found
