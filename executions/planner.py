"""Deciding, after every change, what runs next: the walk of a flow's task tree.

A flow is a tree: flowable tasks (Sequential, Parallel, If, Switch, ForEach, LoopUntil,
Pause, WorkingDirectory...) hold other tasks. Each plan walks the whole tree against the
execution's task runs while holding the execution's row lock, creates the task runs that
may start, and settles the state of flowable runs and of the execution from their
children's. What a flowable task decides is its model's to say (``start``,
``progress``); the walk (walk.py) only asks; listeners and SLAs are flow_rules.py's.
Docker and processes are only touched after the commit, by the worker jobs.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from accounts.reach import CrossingRefused, subflow_require
from flows.expressions import render_value
from flows.language import FlowDefinition
from flows.language.states import ACTIVE_EXECUTION_STATES
from flows.language.tasks import ForEachItemTask, SubflowTask

from .context import render_context
from .flow_rules import sla_check, sla_end_state
from .live import LogWriter, execution_wake
from .models import TERMINAL_STATES, Execution, State, TaskRun, TaskRunAttempt
from .queue import enqueue_in_transaction
from .signals import execution_changed, execution_ended
from .storage import storage_save, storage_uri
from .subflow_outputs import SubflowOutputsFailed, subflow_outputs
from .walk import Walk, is_flowable, is_waiting

logger = logging.getLogger(__name__)


# Tests reach the walk by this name.
_Walk = Walk


def plan(
    execution: Execution, definition: FlowDefinition, *, runs: list[TaskRun] | None = None
) -> list[str]:
    """Walk the tree, create what may start, settle states; return the ids of the new
    leaf task runs, for the caller to run or enqueue. Call inside a transaction, holding
    the execution's lock (or having just created it, when its ``runs`` are known).

    Never leaves the execution stuck on an error of ours: the walk runs in a savepoint,
    and when it fails the execution fails (see ``_plan_failed``)."""
    try:
        with transaction.atomic():
            return _plan(execution, definition, runs)
    except Exception as exc:
        logger.exception("Planning execution %s failed", execution.pk)
        _plan_failed(execution, definition, f"Flowsite failed to decide what runs next: {exc!r}")
        return []


def _plan(
    execution: Execution, definition: FlowDefinition, runs: list[TaskRun] | None
) -> list[str]:
    runs_by_path = {run.path: run for run in (execution.task_runs.all() if runs is None else runs)}
    walk = _Walk(execution, definition, runs_by_path)
    sla_check(walk)
    state = walk.root_state()
    leaves = [run.pk for run in walk.created if run.state == State.CREATED]
    if state in TERMINAL_STATES and walk.busy():
        state = None  # a flowable failed under a running task: the execution waits for it
    if state is not None and state in TERMINAL_STATES:
        _leftovers_end(runs_by_path.values())
        state = sla_end_state(execution, definition) if state == State.KILLED else state
        execution_end(execution, state, definition, runs=list(runs_by_path.values()))
    elif execution.state == State.KILLING and not walk.busy():
        _leftovers_end(runs_by_path.values())
        execution_end(execution, sla_end_state(execution, definition), definition)
    elif (
        execution.state != State.PAUSED
        and any(run.state == State.PAUSED for run in runs_by_path.values())
        and not walk.busy()
    ):
        if execution.state == State.CREATED:  # a Pause came first: it ran, then paused
            execution.state, execution.started_at = State.RUNNING, timezone.now()
            execution.save(update_fields=["state", "started_at"])
            execution_changed.send(sender=Execution, execution=execution)
        execution.state = State.PAUSED
        execution.save(update_fields=["state"])
        execution_changed.send(sender=Execution, execution=execution)
    transaction.on_commit(lambda: execution_wake(execution.pk))
    return leaves


def _leftovers_end(runs: Iterable[TaskRun], error: str = "") -> None:
    """End KILLED the task runs no worker holds that are left when their execution ends
    (only ever after a flowable failed to decide, or a kill): none stays RUNNING."""
    now = timezone.now()
    for run in runs:
        if run.state not in TERMINAL_STATES:
            run.state, run.ended_at = State.FAILED if error else State.KILLED, now
            run.error = run.error or error
            run.save(update_fields=["state", "ended_at", "error"])
            attempts_end(run, run.state, now, run.error)


def _plan_failed(execution: Execution, definition: FlowDefinition, message: str) -> None:
    """The walk failed (a bug of ours) and was undone. The task runs no worker holds end
    FAILED with ``message``; once none is held, the execution ends FAILED too. A worker
    still running a task plans again when it ends, and lands here again if it must."""
    runs = list(execution.task_runs.all())
    leaves = [run for run in runs if not is_flowable(run, definition)]
    held = [run for run in leaves if run.state == State.RUNNING and not is_waiting(run)]
    if held:
        _leftovers_end((run for run in leaves if run not in held), message)
        return
    _leftovers_end(runs, message)
    execution.refresh_from_db(fields=["state", "started_at", "outputs"])
    if execution.is_terminal:
        return
    execution.state, execution.error, execution.ended_at = State.FAILED, message, timezone.now()
    execution.started_at = execution.started_at or execution.ended_at
    execution.save(update_fields=["state", "error", "ended_at", "started_at"])
    execution_followups(execution, definition)


def execution_advance(
    *, execution_id: str, inline: bool = False, definition: FlowDefinition | None = None
) -> list[str]:
    """After a task run changed: settle states and create what may start now.

    With ``inline`` (a worker that just finished a task) the new leaf task runs are
    returned for the caller to run; otherwise they are enqueued. A caller that has the
    execution's ``definition`` at hand spares reading its revision again.
    """
    # No savepoint: inside a worker's transaction, a failure here fails the whole of it.
    with transaction.atomic(savepoint=False):
        execution = execution_locked(execution_id, with_revision=definition is None)
        if execution.is_terminal or execution.state == State.QUEUED:
            return []
        leaves = plan(execution, definition or execution.flow_revision.definition)
        if inline:
            return leaves
        enqueue_in_transaction(leaves)
        return []


def execution_locked(execution_id: str, *, with_revision: bool = True) -> Execution:
    """The execution, its row locked until the transaction ends (with its revision,
    unless the caller has the definition already)."""
    executions = Execution.objects.select_for_update(of=("self",))
    if with_revision:
        executions = executions.select_related("flow_revision")
    return executions.get(pk=execution_id)


def attempts_end(run: TaskRun, state: State, now: datetime, error: str = "") -> None:
    """End the attempt a task run still has open (resumed, reaped, its subflow ended)."""
    TaskRunAttempt.objects.filter(task_run=run, ended_at=None).update(
        state=state, ended_at=now, error=error
    )


# --- ending ---------------------------------------------------------------------------


def execution_end(
    execution: Execution,
    state: State,
    definition: FlowDefinition,
    *,
    runs: list[TaskRun] | None = None,
) -> None:
    """End ``execution`` in ``state``, with its flow outputs when it succeeded."""
    execution.state = state
    execution.ended_at = timezone.now()
    execution.started_at = execution.started_at or execution.ended_at
    fields = ["state", "ended_at", "started_at"]
    if state in (State.SUCCESS, State.WARNING) and definition.outputs:
        try:
            if runs is None:
                runs = list(execution.task_runs.all())
            context = render_context(execution, definition, runs, None)
            execution.outputs = {
                output.id: render_value(output.value, context) for output in definition.outputs
            }
            fields.append("outputs")
        except Exception as exc:
            execution.state, execution.error = State.FAILED, f"Flow outputs: {exc}"
            fields.append("error")
    execution.save(update_fields=fields)
    execution_followups(execution, definition)


def execution_followups(execution: Execution, definition: FlowDefinition) -> None:
    """What follows an execution's end, in the same transaction: a waiting Subflow task,
    the flow's concurrency queue, and the receivers of ``execution_ended`` (flow
    triggers, which start their executions on commit)."""
    if execution.parent_task_run_id:
        _subflow_ended(execution)
    if definition.concurrency is not None:
        _dequeue(execution, definition.concurrency.limit)
    execution_ended.send(sender=Execution, execution=execution)


def _subflow_ended(child: Execution) -> None:
    run = TaskRun.objects.select_related("execution__flow_revision").get(
        pk=child.parent_task_run_id
    )
    if run.state != State.RUNNING:
        return
    task = run.execution.flow_revision.definition.task(run.task_id)
    if isinstance(task, ForEachItemTask):
        _batch_ended(run, task)
        return
    if not isinstance(task, SubflowTask) or not task.wait:
        return
    state, now, outputs = task.state_after(child), timezone.now(), {}
    error = task.error_after(child)
    try:  # an allowance withdrawn while the child ran withholds its outputs
        subflow_require(
            caller=run.execution.namespace,
            namespace=child.namespace,
            flow_id=child.flow_id,
            when="outputs",
        )
        outputs = subflow_outputs(task, child)
    except (CrossingRefused, SubflowOutputsFailed) as exc:
        state, error, outputs = State.FAILED, str(exc), {"executionId": child.pk}
        writer = LogWriter(run)
        writer.system(error, "ERROR")
        writer.flush()
    TaskRun.objects.filter(pk=run.pk, state=State.RUNNING).update(
        state=state, ended_at=now, outputs=outputs, error=error
    )
    attempts_end(run, state, now, error)
    transaction.on_commit(lambda: execution_advance(execution_id=run.execution_id))


def _batch_ended(run: TaskRun, task: ForEachItemTask) -> None:
    """One of a ForEachItem's children ended: once all did, it ends. Its row is locked
    first, so that of two children ending at once, the second sees the first ended."""
    locked = TaskRun.objects.select_for_update().get(pk=run.pk)
    total = (locked.outputs or {}).get("numberOfBatches")
    if locked.state != State.RUNNING or total is None:
        return  # it ended already, or it is still starting them (it looks again then)
    children = list(Execution.objects.filter(parent_task_run=locked))
    if len(children) < total or not all(child.is_terminal for child in children):
        return
    state, now = task.state_after(children), timezone.now()
    error = "" if state != State.FAILED else "One of its subflow executions failed"
    outputs = task.outputs_after(children)
    children.sort(key=lambda child: child.created_at)
    if any(child.outputs for child in children):
        # Kestra's merged subflow outputs: one per line (JSON is ION text too).
        lines = "".join(json.dumps(child.outputs, default=str) + "\n" for child in children)
        uri = storage_save(storage_uri(run.execution, run, "outputs.ion"), lines.encode())
        outputs.update(uri=uri, subflowOutputs=uri)
    TaskRun.objects.filter(pk=run.pk, state=State.RUNNING).update(
        state=state, ended_at=now, outputs=outputs, error=error
    )
    attempts_end(run, state, now, error)
    transaction.on_commit(lambda: execution_advance(execution_id=run.execution_id))


def _dequeue(execution: Execution, limit: int) -> None:
    """An execution of a flow with a concurrency limit ended: start the oldest queued."""
    flow_executions = Execution.objects.filter(
        namespace=execution.namespace, flow_id=execution.flow_id
    )
    running = flow_executions.filter(state__in=ACTIVE_EXECUTION_STATES).count()
    queued_ones = flow_executions.filter(state=State.QUEUED).select_related("flow_revision")
    for queued in queued_ones.order_by("created_at")[: max(limit - running, 0)]:
        queued.state = State.CREATED
        queued.save(update_fields=["state"])
        enqueue_in_transaction(plan(queued, queued.flow_revision.definition))
