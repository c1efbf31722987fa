"""Starting executions and moving them from one task to the next.

Each step that decides what runs next holds the execution's row lock briefly; Docker
and processes are only touched after the commit, by the worker jobs.
"""

from __future__ import annotations

import os
from datetime import timedelta
from functools import cache, lru_cache
from typing import Any

from django.db import transaction
from django.utils import timezone
from django_q.brokers import Broker, get_broker
from django_q.tasks import async_task

from flows.language import FlowDefinition, parse_flow
from flows.models import Flow, FlowRevision

from .live import execution_wake
from .models import Execution, State, TaskRun


def revision_definition(revision_pk: int) -> FlowDefinition:
    source = FlowRevision.objects.values_list("source", flat=True).get(pk=revision_pk)
    return _parsed(source)


@lru_cache(maxsize=256)
def _parsed(source: str) -> FlowDefinition:
    # Keyed by the text, not the row id: ids can be reused (SQLite, test rollbacks).
    return parse_flow(source)


def enqueue_task_run(task_run_id: str) -> None:
    # timeout=-1: django-q2 must never cut a task off; tasks enforce their own timeout.
    async_task(
        "executions.jobs.run_task_run",
        task_run_id,
        timeout=-1,
        task_name=task_run_id,
        broker=_broker(os.getpid()),
    )


@cache
def _broker(pid: int) -> Broker:
    # django-q2 builds a broker, and with Redis a connection, per call unless given one.
    return get_broker()


def execution_start(
    *, flow: Flow, user: Any = None, labels: dict[str, str] | None = None
) -> Execution:
    revision = flow.current_revision
    definition = revision_definition(revision.pk)
    with transaction.atomic():
        execution = Execution.objects.create(
            flow_revision=revision,
            namespace=flow.namespace,
            flow_id=flow.flow_id,
            labels={**definition.labels, **(labels or {})},
            triggered_by=user if getattr(user, "is_authenticated", False) else None,
        )
        first = _next_task_run(execution, definition, after_position=-1, enqueue=True)
        if first is None:
            _end(execution, State.SUCCESS)
    return execution


def _next_task_run(
    execution: Execution, definition: FlowDefinition, *, after_position: int, enqueue: bool
) -> TaskRun | None:
    """Create the task run that comes after ``after_position``; enqueue it on commit
    unless the caller runs it itself."""
    for position, task in enumerate(definition.tasks):
        if position <= after_position or task.disabled:
            continue
        task_run = TaskRun.objects.create(
            execution=execution, task_id=task.id, position=position, task_type=task.type
        )
        if enqueue:
            transaction.on_commit(lambda pk=task_run.pk: enqueue_task_run(pk))
        return task_run
    return None


def _end(execution: Execution, state: State) -> None:
    execution.state = state
    execution.ended_at = timezone.now()
    execution.started_at = execution.started_at or execution.ended_at
    execution.save(update_fields=["state", "ended_at", "started_at"])


def execution_mark_running(*, execution_id: str) -> None:
    Execution.objects.filter(pk=execution_id, state=State.CREATED).update(
        state=State.RUNNING, started_at=timezone.now()
    )


def execution_advance(*, execution_id: str) -> str | None:
    """After a task run ends: end the execution, or create the next task run.

    Returns the next task run's id for the calling worker to run straight away, with no
    trip through the broker. Should that worker die first, the sweep re-enqueues it.
    """
    next_id: str | None = None
    with transaction.atomic():
        execution = Execution.objects.select_for_update().get(pk=execution_id)
        if execution.is_terminal:
            return None
        runs = list(execution.task_runs.all())
        if any(run.state in (State.RUNNING, State.CREATED) for run in runs):
            return None  # not this task run's turn to decide
        states = {run.state for run in runs}
        if execution.state == State.KILLING or State.KILLED in states:
            _end(execution, State.KILLED)
        elif State.FAILED in states:
            _end(execution, State.FAILED)
        else:
            definition = revision_definition(execution.flow_revision_id)
            last = max((run.position for run in runs), default=-1)
            following = _next_task_run(execution, definition, after_position=last, enqueue=False)
            if following is not None:
                next_id = following.pk
            else:
                _end(execution, State.WARNING if State.WARNING in states else State.SUCCESS)
        transaction.on_commit(lambda: execution_wake(execution_id))
    return next_id


STALLED_AFTER = timedelta(seconds=30)


def task_runs_sweep(*, older_than: timedelta = STALLED_AFTER) -> int:
    """Enqueue task runs that nobody claimed: a job lost with a broker or a worker that
    died between two tasks. Claims keep a duplicate harmless."""
    stalled = TaskRun.objects.filter(
        state=State.CREATED, created_at__lt=timezone.now() - older_than
    ).exclude(execution__state__in=[State.SUCCESS, State.WARNING, State.FAILED, State.KILLED])
    ids = list(stalled.values_list("pk", flat=True)[:1000])
    for task_run_id in ids:
        enqueue_task_run(task_run_id)
    return len(ids)
