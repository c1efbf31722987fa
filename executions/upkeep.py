"""Upkeep, on the clock's one timer: delayed work that is due (retries, pause timeouts)
every tick, and once a minute the sweep that finds what was lost (jobs no worker took,
workers that died, containers left behind)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from flows.language.tasks import WORKERLESS_TYPES

from .lifecycle import NotAllowed, execution_resume
from .live import LogWriter
from .models import TERMINAL_STATES, State, TaskRun
from .planner import attempts_end, execution_advance
from .queue import enqueue_task_run
from .runners.engine import containers_reap_orphans

STALLED_AFTER = timedelta(seconds=30)
LOST_AFTER = timedelta(seconds=60)  # six missed heartbeats (jobs.HEARTBEAT_EVERY)
SWEEP_EVERY = timedelta(seconds=60)

# When this process last swept: the sweep is due once a minute per clock.
_last_sweep: dict[str, datetime] = {}


def sweep_due(now: datetime) -> bool:
    last = _last_sweep.get("at")
    return last is None or now - last >= SWEEP_EVERY


def upkeep_tick(now: datetime | None = None) -> None:
    """Called by the clock about every second."""
    now = now or timezone.now()
    delayed_work_start(now)
    if sweep_due(now):
        _last_sweep["at"] = now
        sweep_stalled_task_runs()


def delayed_work_start(now: datetime | None = None) -> None:
    """Retries whose wait is over, pauses whose duration is over."""
    now = now or timezone.now()
    for run in TaskRun.objects.filter(state=State.RETRYING, wake_at__lte=now)[:500]:
        if TaskRun.objects.filter(pk=run.pk, state=State.RETRYING).update(
            state=State.CREATED, wake_at=None
        ):
            enqueue_task_run(run.pk)
    for execution_id in TaskRun.objects.filter(state=State.PAUSED, wake_at__lte=now).values_list(
        "execution_id", flat=True
    )[:500]:
        try:
            execution_resume(execution_id=execution_id)
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
    """Fail the task runs whose worker stopped beating: the process or its host died
    while running them. Their executions then go on (errors, finally) or end FAILED;
    Restart runs them again. Returns how many were failed."""
    now = now or timezone.now()
    silent = TaskRun.objects.filter(state=State.RUNNING, heartbeat_at__lt=now - silent_for).exclude(
        task_type__in=WORKERLESS_TYPES
    )
    reaped = 0
    for run in silent[:500]:
        message = (
            f"The worker running this task ({run.worker or 'unknown'}) stopped: "
            f"no sign of life since {run.heartbeat_at:%Y-%m-%d %H:%M:%S} UTC"
        )
        # Unless it beat, or ended, meanwhile.
        failed = task_run_fail(run, message, unless_changed={"heartbeat_at": run.heartbeat_at})
        if failed is not None:
            reaped += 1
    return reaped


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
