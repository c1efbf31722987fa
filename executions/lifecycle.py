"""An execution's life as people and triggers steer it: start, kill, resume, restart and
replay. Each takes the execution's row lock, changes what it must, and lets the planner
decide what runs next; workers are reached through the queue after the commit."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from flows.inputs import Upload, inputs_resolve
from flows.language.flow import tasks_walk
from flows.language.states import ACTIVE_EXECUTION_STATES
from flows.language.tasks import FlowableTask, PauseTask
from flows.models import Flow, FlowRevision

from .models import TERMINAL_STATES, Execution, State, TaskRun
from .planner import (
    attempts_end,
    execution_end,
    execution_followups,
    execution_locked,
    plan,
)
from .queue import enqueue_in_transaction
from .secret_inputs import secret_inputs_given, secret_inputs_seal
from .signals import execution_changed
from .storage import storage_input_uri, storage_save
from .walk import is_flowable

CORRELATION_ID = "system.correlationId"
USERNAME = "system.username"


class NotAllowed(Exception):
    """The execution is not in a state that allows this; the message says why."""


def execution_start(
    *,
    flow: Flow,
    user: Any = None,
    labels: dict[str, str] | None = None,
    inputs: dict[str, Any] | None = None,
    files: Mapping[str, Upload] | None = None,
    trigger: dict[str, Any] | None = None,
    parent_task_run: TaskRun | None = None,
    revision: FlowRevision | None = None,
    replay_of: Execution | None = None,
    replay_keeps: list[tuple[TaskRun, bool]] | None = None,
) -> Execution:
    """Create an execution of ``flow`` and enqueue its first tasks.

    Inputs are checked before anything is stored: InputsInvalid names each bad one. A
    replay (``replay_of``) starts with copies of the task runs ``replay_keeps`` names.
    """
    revision = revision or flow.current_revision
    definition = revision.definition
    execution = Execution(
        flow_revision=revision,
        namespace=flow.namespace,
        flow_id=flow.flow_id,
        labels={**_without_system(definition.labels), **(labels or {})},
        triggered_by=user if getattr(user, "is_authenticated", False) else None,
        trigger=trigger,
        parent_task_run=parent_task_run,
        original_id=replay_of.pk if replay_of else "",
    )
    _system_labels(execution, parent_task_run)
    resolved = inputs_resolve(
        definition.inputs,
        secret_inputs_given(inputs),
        files or {},
        store_file=lambda input_id, upload: storage_save(
            storage_input_uri(execution, input_id, upload.name or input_id), upload
        ),
    )
    execution.inputs = secret_inputs_seal(definition.inputs, resolved)
    # No savepoint of its own: inside a caller's transaction (an API call), a failure
    # here fails the whole of it.
    with transaction.atomic(savepoint=False):
        if definition.concurrency is not None:
            Flow.objects.select_for_update().filter(pk=flow.pk).first()  # one decision at a time
            running = Execution.objects.filter(
                namespace=flow.namespace, flow_id=flow.flow_id, state__in=ACTIVE_EXECUTION_STATES
            ).count()
            if running >= definition.concurrency.limit:
                _over_the_limit(execution, definition.concurrency.behavior)
                if execution.is_terminal:
                    execution_followups(execution, definition)
                else:  # queued: a replay keeps what it copies for when its turn comes
                    _copy_runs(execution, replay_keeps or [])
                return execution
        execution.save(force_insert=True)
        copies = _copy_runs(execution, replay_keeps or [])
        enqueue_in_transaction(plan(execution, definition, runs=copies))
    return execution


def _without_system(labels: dict[str, str]) -> dict[str, str]:
    """A flow's labels less the system ones: only the engine sets those (as Kestra)."""
    return {key: value for key, value in labels.items() if not key.startswith("system.")}


def _system_labels(execution: Execution, parent_task_run: TaskRun | None) -> None:
    """Kestra's system labels: ``system.correlationId``, the id of the execution that
    started the chain (a Subflow's child keeps its parent's), and ``system.username``,
    who started it by hand."""
    labels = execution.labels
    if parent_task_run is not None:
        parent = parent_task_run.execution
        labels[CORRELATION_ID] = (parent.labels or {}).get(CORRELATION_ID) or parent.pk
    labels.setdefault(CORRELATION_ID, execution.pk)
    if execution.triggered_by is not None:
        labels[USERNAME] = execution.triggered_by.get_username()


def _over_the_limit(execution: Execution, behavior: str) -> None:
    if behavior == "QUEUE":
        execution.state = State.QUEUED
    else:
        execution.state = State.CANCELLED if behavior == "CANCEL" else State.FAILED
        execution.error = "The flow's concurrency limit was reached"
        execution.ended_at = timezone.now()
    execution.save(force_insert=True)


def _copy_runs(replay: Execution, kept: list[tuple[TaskRun, bool]]) -> list[TaskRun]:
    copies: dict[str, TaskRun] = {}
    for run, running in kept:  # parents come before their children: created_at order
        copy = TaskRun(
            execution=replay,
            parent=copies.get(run.parent_id) if run.parent_id else None,
            task_id=run.task_id,
            path=run.path,
            value=run.value,
            position=run.position,
            task_type=run.task_type,
            state=State.RUNNING if running else run.state,
            attempt=run.attempt,
            started_at=run.started_at,
            ended_at=None if running else run.ended_at,
            exit_code=run.exit_code,
            outputs=run.outputs,
            worker=run.worker,
        )
        copy.save(force_insert=True)
        copies[run.pk] = copy
    return list(copies.values())


def execution_kill(*, execution_id: str) -> bool:
    """Stop an execution. Returns False when it had already ended.

    Task runs no worker holds end KILLED here, child executions are killed too; a
    running task is stopped by the worker running it, which watches for KILLING.
    """
    children = list(
        Execution.objects.filter(parent_task_run__execution_id=execution_id)
        .exclude(state__in=TERMINAL_STATES)
        .values_list("pk", flat=True)
    )
    for child in children:
        execution_kill(execution_id=child)
    with transaction.atomic():
        execution = execution_locked(execution_id)
        if execution.is_terminal:
            return False
        definition = execution.flow_revision.definition
        if execution.state == State.QUEUED:
            execution_end(execution, State.KILLED, definition)
            return True
        execution.task_runs.filter(state__in=(State.CREATED, State.PAUSED, State.RETRYING)).update(
            state=State.KILLED, ended_at=timezone.now(), wake_at=None
        )
        execution.state = State.KILLING
        execution.save(update_fields=["state"])
        enqueue_in_transaction(plan(execution, definition))
    return True


def execution_resume(
    *,
    execution_id: str,
    inputs: Mapping[str, Any] | None = None,
    files: Mapping[str, Upload] | None = None,
    by_clock: datetime | None = None,
) -> None:
    """Resume a paused execution: its Pause tasks go on (their older ``tasks`` run, or
    they end SUCCESS) with ``outputs.<pause>.onResume`` holding their ``onResume`` inputs,
    checked as a run's inputs are (InputsInvalid names each bad one). ``by_clock``: the
    clock's time; only the pauses whose duration is over by then go on, as their
    ``behavior`` says (RESUME, WARN, FAIL, CANCEL)."""
    with transaction.atomic():
        execution = execution_locked(execution_id)
        paused = list(execution.task_runs.filter(state=State.PAUSED))
        if execution.state != State.PAUSED and not paused:
            raise NotAllowed(f"Execution {execution_id} is not paused ({execution.state})")
        definition = execution.flow_revision.definition
        now = timezone.now()
        for run in paused:
            if by_clock and (run.wake_at is None or run.wake_at > by_clock):
                continue
            task = definition.task(run.task_id)
            if not isinstance(task, PauseTask):  # a row from before Pause was flowable
                run.state, run.ended_at, run.wake_at = State.SUCCESS, now, None
                run.save(update_fields=["state", "ended_at", "wake_at"])
                attempts_end(run, State.SUCCESS, now)
                continue
            over = task.when_over if by_clock is not None else "RESUME"
            if over == "CANCEL":
                execution.task_runs.filter(
                    state__in=(State.CREATED, State.PAUSED, State.RETRYING)
                ).update(state=State.KILLED, ended_at=now, wake_at=None)
                execution.state = State.KILLING
                execution.save(update_fields=["state"])
                enqueue_in_transaction(plan(execution, definition))
                return
            if over in ("WARN", "FAIL"):
                run.state, run.ended_at = (State.WARNING if over == "WARN" else State.FAILED), now
                run.error = "" if over == "WARN" else f"Pause '{task.id}' was not resumed in time"
            else:
                run.state = State.RUNNING
                run.outputs = {
                    **run.outputs,
                    "onResume": _on_resume_inputs(execution, task, inputs or {}, files or {}),
                }
            run.wake_at = None
            run.save(update_fields=["state", "ended_at", "wake_at", "error", "outputs"])
        execution.state = State.RUNNING
        execution.save(update_fields=["state"])
        execution_changed.send(sender=Execution, execution=execution)
        enqueue_in_transaction(plan(execution, definition))


def _on_resume_inputs(
    execution: Execution, task: PauseTask, data: Mapping[str, Any], files: Mapping[str, Upload]
) -> dict[str, Any]:
    if not task.on_resume:
        return {}
    return inputs_resolve(
        task.on_resume,
        data,
        files,
        store_file=lambda input_id, upload: storage_save(
            storage_input_uri(execution, input_id, upload.name or input_id), upload
        ),
    )


def execution_restart(*, execution_id: str) -> Execution:
    """Run a failed execution again from its failed tasks, in the same execution.

    Tasks that succeeded keep their results; failed and killed leaf tasks get a new
    attempt; the errors and finally branches run again when their time comes.
    """
    with transaction.atomic():
        execution = execution_locked(execution_id)
        if execution.state not in (State.FAILED, State.KILLED):
            raise NotAllowed(
                f"Only a FAILED or KILLED execution can be restarted; this one is {execution.state}"
            )
        definition = execution.flow_revision.definition
        everything = definition.tasks + definition.errors + definition.finally_
        local = [
            h
            for t in tasks_walk(everything)
            if isinstance(t, FlowableTask)
            for h in t.errors + t.finally_
        ]
        handlers = {t.id for t in tasks_walk(definition.errors + definition.finally_ + local)}
        runs = list(execution.task_runs.all())
        again: list[str] = []
        gone: set[str] = set()
        for run in runs:
            # The errors and finally branches run again when their time comes; a flowable
            # that failed by itself (its condition or values did not render) decides again.
            failed_itself = run.state == State.FAILED and run.error and is_flowable(run, definition)
            if run.task_id in handlers or failed_itself:
                gone.add(run.pk)
                run.delete()
        for run in runs:
            if run.pk is None or run.pk in gone or run.state not in (State.FAILED, State.KILLED):
                continue
            run.ended_at, run.error = None, ""
            if is_flowable(run, definition):
                run.state = State.RUNNING
            else:
                run.state = State.CREATED
                again.append(run.pk)
            run.save(update_fields=["state", "ended_at", "error"])
        execution.state, execution.ended_at, execution.error = State.RUNNING, None, ""
        execution.save(update_fields=["state", "ended_at", "error"])
        enqueue_in_transaction(again + plan(execution, definition))
    return execution


def execution_replay(
    *, execution_id: str, task_run_id: str | None = None, user: Any = None
) -> Execution:
    """A new execution of the same flow revision and inputs, starting at ``task_run_id``.

    Task runs that ended before the chosen one are copied with their outputs; the chosen
    task and everything after it run again. Without a task run, the whole flow runs
    again. It starts as any execution does: inputs checked, concurrency limit kept.
    """
    original = Execution.objects.select_related("flow_revision__flow").get(pk=execution_id)
    if not original.is_terminal:
        raise NotAllowed(f"Execution {execution_id} has not ended yet ({original.state})")
    runs = list(original.task_runs.all())
    by_id = {run.pk: run for run in runs}
    chosen = by_id.get(task_run_id) if task_run_id else None
    if task_run_id and chosen is None:
        raise NotAllowed(f"Task run {task_run_id} is not part of execution {execution_id}")
    return execution_start(
        flow=original.flow_revision.flow,
        revision=original.flow_revision,
        user=user,
        labels=original.labels,
        inputs=original.inputs,
        trigger=original.trigger,
        replay_of=original,
        replay_keeps=_runs_before(chosen, runs, by_id) if chosen else [],
    )


def _runs_before(
    chosen: TaskRun, runs: list[TaskRun], by_id: dict[str, TaskRun]
) -> list[tuple[TaskRun, bool]]:
    """(run, is_ancestor) for what a replay from ``chosen`` keeps, parents first."""
    ancestors: list[TaskRun] = []
    parent = by_id.get(chosen.parent_id) if chosen.parent_id else None
    while parent is not None:
        ancestors.append(parent)
        parent = by_id.get(parent.parent_id) if parent.parent_id else None
    ancestor_ids = {a.pk for a in ancestors}
    kept: list[tuple[TaskRun, bool]] = []
    kept_ids: set[str] = set()
    for run in sorted(runs, key=lambda r: (r.created_at, r.position)):
        if run.pk in ancestor_ids:
            kept.append((run, True))
            kept_ids.add(run.pk)
        elif (
            run.pk != chosen.pk
            and run.state in (State.SUCCESS, State.WARNING, State.SKIPPED)
            and not run.path.startswith(chosen.path + "/")
            and not run.path.startswith(chosen.path + "[")
            and run.created_at < chosen.created_at
            and (run.parent_id is None or run.parent_id in ancestor_ids | kept_ids)
        ):
            kept.append((run, False))
            kept_ids.add(run.pk)
    return kept
