"""Upkeep, on the clock's one timer: delayed work that is due (retries, pause timeouts)
every tick, task runs whose worker died every few seconds (liveness.py finds them), and
once a minute the sweep that finds what else was lost (jobs no worker took, containers
left behind)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from flows.language.tasks import BaseTask

from .lifecycle import NotAllowed, execution_resume
from .live import LogWriter, execution_wake
from .liveness import LIVENESS_EVERY, LOST_AFTER, task_runs_lost, worker_gone
from .models import TERMINAL_STATES, State, TaskRun
from .planner import attempts_end, execution_advance
from .queue import enqueue_task_run
from .retention import retention_tick
from .runners.engine import containers_reap_orphans, containers_remove
from .runners.process import processes_kill

STALLED_AFTER = timedelta(seconds=30)
SWEEP_EVERY = timedelta(seconds=60)

# When this process last swept (once a minute) and looked for lost workers (LIVENESS_EVERY).
_last_sweep: dict[str, datetime] = {}


def sweep_due(now: datetime) -> bool:
    last = _last_sweep.get("at")
    return last is None or now - last >= SWEEP_EVERY


def lost_workers_tick(now: datetime) -> int:
    """Every LIVENESS_EVERY, one cheap look for task runs whose worker died, which the
    clock's loop makes whether or not anything else is due."""
    last = _last_sweep.get("liveness")
    if last is not None and timedelta(0) <= now - last < LIVENESS_EVERY:
        return 0
    _last_sweep["liveness"] = now
    return task_runs_reap_lost(now=now)


def upkeep_tick(now: datetime | None = None) -> None:
    """Called by the clock about every second."""
    now = now or timezone.now()
    delayed_work_start(now)
    if sweep_due(now):
        _last_sweep["at"] = now
        sweep_stalled_task_runs()
        retention_tick(now)


def delayed_work_start(now: datetime | None = None) -> None:
    """Retries whose wait is over, pauses whose duration is over, loops whose next turn
    is due."""
    now = now or timezone.now()
    for run in TaskRun.objects.filter(state=State.RETRYING, wake_at__lte=now)[:500]:
        if TaskRun.objects.filter(pk=run.pk, state=State.RETRYING).update(
            state=State.CREATED, wake_at=None
        ):
            enqueue_task_run(run.pk)
    # A flowable task waiting between turns (LoopUntil): it decides again now.
    for run_id, execution_id in TaskRun.objects.filter(
        state=State.RUNNING, wake_at__lte=now
    ).values_list("pk", "execution_id")[:500]:
        with transaction.atomic():
            if TaskRun.objects.filter(pk=run_id, state=State.RUNNING).update(wake_at=None):
                execution_advance(execution_id=execution_id)
    for execution_id in TaskRun.objects.filter(state=State.PAUSED, wake_at__lte=now).values_list(
        "execution_id", flat=True
    )[:500]:
        try:
            execution_resume(execution_id=execution_id, by_clock=now)
        except NotAllowed:
            continue


def sweep_stalled_task_runs() -> int:
    """Re-enqueue task runs nobody claimed, fail those whose worker died, and remove
    containers left behind by task runs that ended. Returns how many were re-enqueued."""
    containers_reap_orphans(
        is_running=lambda pk: TaskRun.objects.filter(pk=pk, state=State.RUNNING).exists()
    )
    return task_runs_sweep()


def task_runs_sweep(*, older_than: timedelta = STALLED_AFTER) -> int:
    """Enqueue task runs that nobody claimed: a job lost with a broker or a worker that
    died between two tasks. Claims keep a duplicate harmless."""
    stalled = TaskRun.objects.filter(
        state=State.CREATED, created_at__lt=timezone.now() - older_than
    ).exclude(execution__state__in=TERMINAL_STATES)
    ids = list(stalled.values_list("pk", flat=True)[:1000])
    for task_run_id in ids:
        enqueue_task_run(task_run_id)
    task_runs_reap_lost()
    delayed_work_start()
    return len(ids)


def task_runs_reap_lost(*, now: datetime | None = None, silent_for: timedelta = LOST_AFTER) -> int:
    """Retry or fail the task runs whose worker is gone: its process on this host ended,
    or it stopped beating (its host died). Their containers on this host go at once; the
    executions go on (a new attempt, or errors and finally). Returns how many were reaped."""
    now = now or timezone.now()
    lost = task_runs_lost(now, silent_for=silent_for)
    reaped = 0
    rows = TaskRun.objects.filter(pk__in=lost[:500]).select_related("execution__flow_revision")
    for run in rows:
        if task_run_lost(run):
            reaped += 1
    return reaped


def task_run_lost(run: TaskRun) -> bool:
    """Retry ``run`` under its task's ``retry`` or fail it, its worker being gone; remove
    what container it left here. False when it beat or ended meanwhile."""
    gone = "ended" if worker_gone(run.worker) else "stopped"
    beat = f"{run.heartbeat_at:%Y-%m-%d %H:%M:%S}" if run.heartbeat_at else "never"
    message = (
        f"The worker running this task ({run.worker or 'unknown'}) {gone}: "
        f"no sign of life since {beat} UTC"
    )
    unless_changed = {"heartbeat_at": run.heartbeat_at}
    definition = run.execution.flow_revision.definition
    task = definition.task_as_run(run.task_id)
    stopping = run.execution.state in (State.KILLING, State.KILLED)
    in_place = task.retry is not None and task.retry.behavior != "CREATE_NEW_EXECUTION"
    if in_place and not stopping and retry_allowed(task, run):
        again = task_run_retry_later(run, message, unless_changed=unless_changed)
    else:
        again = task_run_fail(run, message, unless_changed=unless_changed) is not None
    if again:  # what it left running on this host goes at once
        containers_remove(task_run_id=run.pk)
        processes_kill(task_run_id=run.pk)
    return again


def retry_allowed(task: BaseTask, task_run: TaskRun) -> bool:
    """Whether the task's ``retry`` allows an attempt after ``task_run``'s current one."""
    retry = task.retry
    if retry is None:
        return False
    if retry.max_attempts is not None and task_run.attempt >= retry.max_attempts:
        return False
    if retry.max_duration is not None:
        first = task_run.attempts.order_by("number").values_list("started_at", flat=True).first()
        next_start = timezone.now() + retry.delay_before(task_run.attempt)
        if first is not None and next_start - first > retry.max_duration:
            return False
    return True


def task_run_retry_later(run: TaskRun, message: str, *, unless_changed: dict[str, Any]) -> bool:
    """End the open attempt of a RUNNING task run FAILED and leave its next attempt to
    the clock (RETRYING until its delay is over). False when it was no longer RUNNING."""
    definition = run.execution.flow_revision.definition
    retry = definition.task_as_run(run.task_id).retry
    assert retry is not None
    delay = retry.delay_before(run.attempt)
    now = timezone.now()
    with transaction.atomic():
        if not TaskRun.objects.filter(pk=run.pk, state=State.RUNNING, **unless_changed).update(
            state=State.RETRYING, wake_at=now + delay
        ):
            return False
        attempts_end(run, State.FAILED, now, message)
        writer = LogWriter(run)
        writer.system(message, "ERROR")
        writer.system(f"Retrying: attempt {run.attempt + 1} in {delay.total_seconds():g} s")
        writer.flush()
    execution_wake(run.execution_id)
    return True


def task_run_fail(
    run: TaskRun, message: str, *, unless_changed: dict[str, Any], inline: bool = False
) -> list[str] | None:
    """Fail a RUNNING task run that no worker will finish (its worker died, its job
    crashed), with its open attempt and the reason in its logs, then decide what
    follows (see execution_advance for ``inline``). None when the run was no longer
    RUNNING, or ``unless_changed`` no longer matched it."""
    now = timezone.now()
    with transaction.atomic():
        if not TaskRun.objects.filter(pk=run.pk, state=State.RUNNING, **unless_changed).update(
            state=State.FAILED, ended_at=now, error=message
        ):
            return None
        attempts_end(run, State.FAILED, now, message)
        writer = LogWriter(run)
        writer.system(message, "ERROR")
        writer.flush()
        return execution_advance(execution_id=run.execution_id, inline=inline)
