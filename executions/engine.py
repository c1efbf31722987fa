"""Starting executions and deciding, after every change, what runs next.

A flow is a tree: flowable tasks (Sequential, Parallel, If, Switch, ForEach) hold other
tasks. Each decision walks the whole tree against the execution's task runs while
holding the execution's row lock, creates the task runs that may start, and settles the
state of flowable runs and of the execution from their children's. Docker and processes
are only touched after the commit, by the worker jobs.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache, lru_cache
from typing import Any

from django.db import transaction
from django.utils import timezone
from django_q.brokers import Broker, get_broker
from django_q.tasks import async_task

from flows.language import FlowDefinition, parse_flow
from flows.language.flow import tasks_walk
from flows.language.tasks import ForEachTask, IfTask, ParallelTask, SubflowTask, SwitchTask
from flows.models import Flow, FlowRevision

from .live import execution_wake
from .models import TERMINAL_STATES, Execution, State, TaskRun, TaskRunAttempt
from .signals import execution_ended

ACTIVE_EXECUTION_STATES = (
    State.CREATED,
    State.RUNNING,
    State.PAUSED,
    State.RETRYING,
    State.RESTARTED,
    State.KILLING,
)


def revision_definition(revision_pk: int) -> FlowDefinition:
    source = FlowRevision.objects.values_list("source", flat=True).get(pk=revision_pk)
    return parsed_flow(source)


@lru_cache(maxsize=256)
def parsed_flow(source: str) -> FlowDefinition:
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


def _enqueue_on_commit(task_run_ids: Iterable[str]) -> None:
    for pk in task_run_ids:
        transaction.on_commit(lambda pk=pk: enqueue_task_run(pk))


# --- starting -------------------------------------------------------------------------


def execution_start(
    *,
    flow: Flow,
    user: Any = None,
    labels: dict[str, str] | None = None,
    inputs: dict[str, Any] | None = None,
    files: dict[str, Any] | None = None,
    trigger: dict[str, Any] | None = None,
    parent_task_run: TaskRun | None = None,
    revision: FlowRevision | None = None,
) -> Execution:
    """Create an execution of ``flow`` and enqueue its first tasks.

    Inputs are checked before anything is stored: InputsInvalid names each bad one.
    """
    from flows.inputs import inputs_resolve

    from .storage import storage_input_uri, storage_save

    revision = revision or flow.current_revision
    definition = revision_definition(revision.pk)
    execution = Execution(
        flow_revision=revision,
        namespace=flow.namespace,
        flow_id=flow.flow_id,
        labels={**definition.labels, **(labels or {})},
        triggered_by=user if getattr(user, "is_authenticated", False) else None,
        trigger=trigger,
        parent_task_run=parent_task_run,
    )
    execution.inputs = inputs_resolve(
        definition.inputs,
        inputs or {},
        files or {},
        store_file=lambda input_id, upload: storage_save(
            storage_input_uri(execution, input_id, upload.name), upload
        ),
    )
    with transaction.atomic():
        if definition.concurrency is not None:
            Flow.objects.select_for_update().filter(pk=flow.pk).first()  # one decision at a time
            running = Execution.objects.filter(
                namespace=flow.namespace, flow_id=flow.flow_id, state__in=ACTIVE_EXECUTION_STATES
            ).count()
            if running >= definition.concurrency.limit:
                return _over_the_limit(execution, definition.concurrency.behavior)
        execution.save(force_insert=True)
        _decide(execution, definition, dispatch="enqueue")
    return execution


def _over_the_limit(execution: Execution, behavior: str) -> Execution:
    limit_reached = "The flow's concurrency limit was reached"
    if behavior == "QUEUE":
        execution.state = State.QUEUED
        execution.save(force_insert=True)
    else:
        execution.state = State.CANCELLED if behavior == "CANCEL" else State.FAILED
        execution.error = limit_reached
        execution.ended_at = timezone.now()
        execution.save(force_insert=True)
        _after_end(execution)
    return execution


def _dequeue(execution: Execution) -> None:
    """An execution of a flow with a concurrency limit ended: start the oldest queued one."""
    definition = revision_definition(execution.flow_revision_id)
    if definition.concurrency is None:
        return
    flow_executions = Execution.objects.filter(
        namespace=execution.namespace, flow_id=execution.flow_id
    )
    running = flow_executions.filter(state__in=ACTIVE_EXECUTION_STATES).count()
    free = definition.concurrency.limit - running
    for queued in flow_executions.filter(state=State.QUEUED).order_by("created_at")[: max(free, 0)]:
        queued.state = State.CREATED
        queued.save(update_fields=["state"])
        _decide(queued, revision_definition(queued.flow_revision_id), dispatch="enqueue")


# --- deciding -------------------------------------------------------------------------


@dataclass
class _Walk:
    """One pass over the tree: the runs as they are, and what the pass created."""

    execution: Execution
    definition: FlowDefinition
    runs: dict[str, TaskRun]
    created: list[TaskRun] = field(default_factory=list)

    def render_context(self, run: TaskRun | None = None) -> dict[str, Any]:
        from .context import render_context

        return render_context(self.execution, self.definition, list(self.runs.values()), run)


def _decide(execution: Execution, definition: FlowDefinition, *, dispatch: str) -> list[str]:
    """Walk the tree, create what may start, settle states. Call inside a transaction,
    holding the execution's lock (or having just created it).

    ``dispatch``: "enqueue" sends every new leaf run to the broker on commit; "return"
    hands the new ids back for the caller, a worker, to run or enqueue.
    """
    runs = {run.path: run for run in execution.task_runs.all()}
    walk = _Walk(execution, definition, runs)
    state = _root_state(walk)
    leaves = [run.pk for run in walk.created if run.state == State.CREATED]
    if state in TERMINAL_STATES:
        _end(execution, state)
    elif execution.state == State.KILLING and not _busy(walk):
        _kill_remaining(walk)
        _end(execution, State.KILLED)
    elif (
        execution.state != State.PAUSED
        and any(run.state == State.PAUSED for run in runs.values())
        and not _busy(walk)
    ):
        execution.state = State.PAUSED
        execution.save(update_fields=["state"])
    transaction.on_commit(lambda: execution_wake(execution.pk))
    if dispatch == "enqueue":
        _enqueue_on_commit(leaves)
        return []
    return leaves


def _busy(walk: _Walk) -> bool:
    """Whether a worker is running a leaf task of this execution."""
    return any(
        run.state in (State.CREATED, State.RUNNING, State.RETRYING)
        and not _is_flowable(run, walk.definition)
        and not _is_waiting(run)
        for run in walk.runs.values()
    )


def _is_flowable(run: TaskRun, definition: FlowDefinition) -> bool:
    try:
        return bool(definition.task(run.task_id).flowable)
    except KeyError:
        return False


def _is_waiting(run: TaskRun) -> bool:
    # A Subflow waiting for its child or a Pause: no worker holds it.
    return run.state == State.PAUSED or (
        run.state == State.RUNNING and run.task_type in SubflowTask.type_names()
    )


def _kill_remaining(walk: _Walk) -> None:
    now = timezone.now()
    for run in walk.runs.values():
        if run.state not in TERMINAL_STATES:
            run.state, run.ended_at = State.KILLED, now
            run.save(update_fields=["state", "ended_at"])


def _root_state(walk: _Walk) -> State | None:
    """The execution's state from its tasks, then errors, then finally; None while running."""
    definition = walk.definition
    main = _sequence(walk, definition.tasks, parent=None, value=None, prefix="", limit=1)
    if main is None:
        return None
    if walk.execution.state == State.KILLING or main == State.KILLED:
        return State.KILLED if not _busy(walk) else None
    state = main
    if main == State.FAILED and definition.errors:
        handled = _sequence(walk, definition.errors, parent=None, value=None, prefix="", limit=1)
        if handled is None:
            return None
    if definition.finally_:
        last = _sequence(walk, definition.finally_, parent=None, value=None, prefix="", limit=1)
        if last is None:
            return None
        if last == State.FAILED:
            state = State.FAILED
        elif last == State.WARNING and state == State.SUCCESS:
            state = State.WARNING
    return state


def _sequence(
    walk: _Walk,
    tasks: list[Any],
    *,
    parent: TaskRun | None,
    value: str | None,
    prefix: str,
    limit: int,
) -> State | None:
    """Run ``tasks`` under ``parent``: one at a time (limit 1), ``limit`` at once, or all
    at once (limit 0). Returns the terminal state of the whole, or None while running."""
    active = 0
    failed = killed = warning = False
    for position, task in enumerate(tasks):
        if task.disabled:
            continue
        run = walk.runs.get(prefix + task.id)
        if run is None:
            if failed or killed or (limit and active >= limit):
                break
            if walk.execution.state == State.KILLING:
                break
            run = _create(
                walk, task, parent=parent, value=value, path=prefix + task.id, position=position
            )
        if run.state not in TERMINAL_STATES and task.flowable:
            _progress_flowable(walk, task, run)
        if run.state not in TERMINAL_STATES:
            active += 1
            if limit == 1:
                break
            continue
        if run.state == State.KILLED:
            killed = True
        elif run.state == State.FAILED and not task.allow_failure:
            failed = True
            if limit == 1:
                break
        elif run.state in (State.WARNING, State.FAILED):
            warning = True
    if active:
        return None
    if killed:
        return State.KILLED
    if failed:
        return State.FAILED
    return State.WARNING if warning else State.SUCCESS


def _create(
    walk: _Walk, task: Any, *, parent: TaskRun | None, value: str | None, path: str, position: int
) -> TaskRun:
    run = TaskRun(
        execution=walk.execution,
        parent=parent,
        task_id=task.id,
        path=path,
        value=value,
        position=position,
        task_type=task.type,
    )
    walk.runs[path] = run
    now = timezone.now()
    if task.run_if is not None and not _condition(walk, run, task.run_if):
        run.state, run.started_at, run.ended_at = State.SKIPPED, now, now
    elif task.flowable:
        run.state, run.started_at = State.RUNNING, now
        try:
            run.outputs = _flowable_outputs(walk, task, run)
        except Exception as exc:  # a render error fails the flowable, named
            run.state, run.ended_at, run.error = State.FAILED, now, str(exc)
    run.save(force_insert=True)
    if run.state == State.FAILED and run.error:
        from .live import LogWriter

        writer = LogWriter(run)
        writer.system(run.error, "ERROR")
        writer.flush()
    walk.created.append(run)
    return run


def _condition(walk: _Walk, run: TaskRun, expression: str) -> bool:
    from flows.expressions import is_truthy, render

    return is_truthy(render(expression, walk.render_context(run)))


def _flowable_outputs(walk: _Walk, task: Any, run: TaskRun) -> dict[str, Any]:
    """What a flowable decides once, when it starts; kept as its outputs."""
    from flows.expressions import is_truthy, render, render_value

    if isinstance(task, IfTask):
        return {"evaluationResult": is_truthy(render(task.condition, walk.render_context(run)))}
    if isinstance(task, SwitchTask):
        value = render(task.value, walk.render_context(run))
        return {"value": value, "defaults": value not in task.cases}
    if isinstance(task, ForEachTask):
        values = render_value(task.values, walk.render_context(run))
        if isinstance(values, str):
            try:
                values = json.loads(values)
            except ValueError as exc:
                raise ValueError(
                    f"ForEach values must be a list or a JSON list, got '{values[:200]}'"
                ) from exc
        if not isinstance(values, list):
            raise ValueError(f"ForEach values must be a list, got {type(values).__name__}")
        return {"values": [v if isinstance(v, str) else json.dumps(v) for v in values]}
    return {}


def _progress_flowable(walk: _Walk, task: Any, run: TaskRun) -> None:
    prefix = run.path + "/"
    if isinstance(task, ForEachTask):
        state = _iterations(walk, task, run)
    elif isinstance(task, IfTask):
        branch = task.then if run.outputs.get("evaluationResult") else task.else_
        state = _sequence(walk, branch, parent=run, value=run.value, prefix=prefix, limit=1)
    elif isinstance(task, SwitchTask):
        branch = task.cases.get(run.outputs.get("value"), task.defaults)
        state = _sequence(walk, branch, parent=run, value=run.value, prefix=prefix, limit=1)
    else:
        limit = task.concurrent if isinstance(task, ParallelTask) else 1
        state = _sequence(walk, task.tasks, parent=run, value=run.value, prefix=prefix, limit=limit)
    if state is not None:
        run.state, run.ended_at = state, timezone.now()
        run.save(update_fields=["state", "ended_at"])


def _iterations(walk: _Walk, task: ForEachTask, run: TaskRun) -> State | None:
    active = 0
    states: list[State] = []
    for index, value in enumerate(run.outputs.get("values", [])):
        prefix = f"{run.path}[{index}]/"
        started = any(path.startswith(prefix) for path in walk.runs)
        if not started and (
            (task.concurrency_limit and active >= task.concurrency_limit)
            or State.FAILED in states
            or State.KILLED in states
        ):
            break
        state = _sequence(walk, task.tasks, parent=run, value=value, prefix=prefix, limit=1)
        if state is None:
            active += 1
        else:
            states.append(state)
    if active:
        return None
    for worst in (State.KILLED, State.FAILED, State.WARNING):
        if worst in states:
            return worst
    return State.SUCCESS


# --- ending ---------------------------------------------------------------------------


def _end(execution: Execution, state: State) -> None:
    execution.state = state
    execution.ended_at = timezone.now()
    execution.started_at = execution.started_at or execution.ended_at
    fields = ["state", "ended_at", "started_at"]
    if state in (State.SUCCESS, State.WARNING):
        try:
            execution.outputs = _flow_outputs(execution)
            fields.append("outputs")
        except Exception as exc:
            execution.state, execution.error = State.FAILED, f"Flow outputs: {exc}"
            fields.append("error")
    execution.save(update_fields=fields)
    _after_end(execution)


def _flow_outputs(execution: Execution) -> dict[str, Any]:
    from flows.expressions import render_value

    from .context import render_context

    definition = revision_definition(execution.flow_revision_id)
    if not definition.outputs:
        return {}
    context = render_context(execution, definition, list(execution.task_runs.all()), None)
    return {output.id: render_value(output.value, context) for output in definition.outputs}


def _after_end(execution: Execution) -> None:
    """What follows an execution's end, in the same transaction: a waiting Subflow task,
    the flow's concurrency queue, and (on commit) flow triggers."""
    if execution.parent_task_run_id:
        _subflow_ended(execution)
    _dequeue(execution)
    transaction.on_commit(lambda: execution_ended.send(sender=Execution, execution=execution))


def _subflow_ended(child: Execution) -> None:
    run = TaskRun.objects.select_related("execution").get(pk=child.parent_task_run_id)
    if run.state != State.RUNNING:
        return
    task = revision_definition(run.execution.flow_revision_id).task(run.task_id)
    if not task.wait:
        return
    state, now = subflow_state(task, child), timezone.now()
    TaskRun.objects.filter(pk=run.pk, state=State.RUNNING).update(
        state=state, ended_at=now, outputs=subflow_outputs(child)
    )
    attempts_end(run, state, now)
    transaction.on_commit(lambda: execution_advance(execution_id=run.execution_id))


def subflow_state(task: SubflowTask, child: Execution) -> State:
    """A waiting Subflow task's state once its child ended: the child's, unless the task
    does not transmit a failure; a CANCELLED child counts as a failure."""
    if child.state not in (State.FAILED, State.KILLED, State.CANCELLED):
        return State(child.state)
    if not task.transmit_failed:
        return State.SUCCESS
    return State.FAILED if child.state == State.CANCELLED else State(child.state)


def subflow_outputs(child: Execution) -> dict[str, Any]:
    """``outputs.<subflow task>``: the child's id and, once it ended, its state and outputs."""
    if not child.is_terminal:
        return {"executionId": child.pk}
    return {"executionId": child.pk, "state": child.state, "outputs": child.outputs}


def attempts_end(run: TaskRun, state: State, now: datetime, error: str = "") -> None:
    """End the attempt a task run still has open (resumed, reaped, its subflow ended)."""
    TaskRunAttempt.objects.filter(task_run=run, ended_at=None).update(
        state=state, ended_at=now, error=error
    )


def execution_mark_running(*, execution_id: str) -> None:
    Execution.objects.filter(pk=execution_id, state=State.CREATED).update(
        state=State.RUNNING, started_at=timezone.now()
    )


def execution_advance(*, execution_id: str, inline: bool = False) -> list[str]:
    """After a task run changed: settle states and create what may start now.

    With ``inline`` (a worker that just finished a task) the new leaf task runs are
    returned for the caller to run; otherwise they are enqueued.
    """
    with transaction.atomic():
        execution = Execution.objects.select_for_update().get(pk=execution_id)
        if execution.is_terminal or execution.state == State.QUEUED:
            return []
        definition = revision_definition(execution.flow_revision_id)
        return _decide(execution, definition, dispatch="return" if inline else "enqueue")


# --- steering -------------------------------------------------------------------------


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
        execution = Execution.objects.select_for_update().get(pk=execution_id)
        if execution.is_terminal:
            return False
        if execution.state == State.QUEUED:
            _end(execution, State.KILLED)
            return True
        execution.task_runs.filter(state__in=(State.CREATED, State.PAUSED, State.RETRYING)).update(
            state=State.KILLED, ended_at=timezone.now(), wake_at=None
        )
        execution.state = State.KILLING
        execution.save(update_fields=["state"])
        _decide(execution, revision_definition(execution.flow_revision_id), dispatch="enqueue")
    return True


class NotAllowed(Exception):
    """The execution is not in a state that allows this; the message says why."""


def execution_resume(*, execution_id: str) -> None:
    """Resume a paused execution: its Pause tasks end SUCCESS and the run goes on."""
    with transaction.atomic():
        execution = Execution.objects.select_for_update().get(pk=execution_id)
        paused = execution.task_runs.filter(state=State.PAUSED)
        if execution.state != State.PAUSED and not paused.exists():
            raise NotAllowed(f"Execution {execution_id} is not paused ({execution.state})")
        now = timezone.now()
        for run in paused:
            run.state, run.ended_at, run.wake_at = State.SUCCESS, now, None
            run.save(update_fields=["state", "ended_at", "wake_at"])
            attempts_end(run, State.SUCCESS, now)
        execution.state = State.RUNNING
        execution.save(update_fields=["state"])
        _decide(execution, revision_definition(execution.flow_revision_id), dispatch="enqueue")


def execution_restart(*, execution_id: str) -> Execution:
    """Run a failed execution again from its failed tasks, in the same execution.

    Tasks that succeeded keep their results; failed and killed leaf tasks get a new
    attempt; the errors and finally branches run again when their time comes.
    """
    with transaction.atomic():
        execution = Execution.objects.select_for_update().get(pk=execution_id)
        if execution.state not in (State.FAILED, State.KILLED):
            raise NotAllowed(
                f"Only a FAILED or KILLED execution can be restarted; this one is {execution.state}"
            )
        definition = revision_definition(execution.flow_revision_id)
        handlers = {t.id for t in tasks_walk(definition.errors + definition.finally_)}
        runs = list(execution.task_runs.all())
        again: list[str] = []
        gone: set[str] = set()
        for run in runs:
            # The errors and finally branches run again when their time comes; a flowable
            # that failed by itself (its condition or values did not render) decides again.
            failed_itself = (
                run.state == State.FAILED and run.error and _is_flowable(run, definition)
            )
            if run.task_id in handlers or failed_itself:
                gone.add(run.pk)
                run.delete()
        for run in runs:
            if run.pk is None or run.pk in gone or run.state not in (State.FAILED, State.KILLED):
                continue
            run.ended_at, run.error = None, ""
            if _is_flowable(run, definition):
                run.state = State.RUNNING
            else:
                run.state = State.CREATED
                again.append(run.pk)
            run.save(update_fields=["state", "ended_at", "error"])
        execution.state, execution.ended_at, execution.error = State.RUNNING, None, ""
        execution.save(update_fields=["state", "ended_at", "error"])
        _enqueue_on_commit(again)
        _decide(execution, definition, dispatch="enqueue")
    return execution


def execution_replay(
    *, execution_id: str, task_run_id: str | None = None, user: Any = None
) -> Execution:
    """A new execution of the same flow revision and inputs, starting at ``task_run_id``.

    Task runs that ended before the chosen one are copied with their outputs; the chosen
    task and everything after it run again. Without a task run, the whole flow runs again.
    """
    original = Execution.objects.get(pk=execution_id)
    if not original.is_terminal:
        raise NotAllowed(f"Execution {execution_id} has not ended yet ({original.state})")
    runs = list(original.task_runs.all())
    by_id = {run.pk: run for run in runs}
    chosen = by_id.get(task_run_id) if task_run_id else None
    if task_run_id and chosen is None:
        raise NotAllowed(f"Task run {task_run_id} is not part of execution {execution_id}")
    kept = _runs_before(chosen, runs, by_id) if chosen else []
    with transaction.atomic():
        replay = Execution.objects.create(
            flow_revision_id=original.flow_revision_id,
            namespace=original.namespace,
            flow_id=original.flow_id,
            labels=original.labels,
            inputs=original.inputs,
            trigger=original.trigger,
            original_id=original.pk,
            triggered_by=user if getattr(user, "is_authenticated", False) else None,
        )
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
        _decide(replay, revision_definition(replay.flow_revision_id), dispatch="enqueue")
    return replay


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
    for run in sorted(runs, key=lambda r: (r.created_at, r.position)):
        if run.pk in ancestor_ids:
            kept.append((run, True))
        elif (
            run.pk != chosen.pk
            and run.state in (State.SUCCESS, State.WARNING, State.SKIPPED)
            and not run.path.startswith(chosen.path + "/")
            and not run.path.startswith(chosen.path + "[")
            and run.created_at < chosen.created_at
            and (run.parent_id is None or run.parent_id in ancestor_ids or _kept_parent(run, kept))
        ):
            kept.append((run, False))
    return kept


def _kept_parent(run: TaskRun, kept: list[tuple[TaskRun, bool]]) -> bool:
    return any(k.pk == run.parent_id for k, _ in kept)


# --- the clock's work -----------------------------------------------------------------

STALLED_AFTER = timedelta(seconds=30)


def engine_tick(now: datetime | None = None) -> None:
    """Delayed work, called by the clock about every second: retries whose wait is
    over, pauses whose duration is over."""
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


LOST_AFTER = timedelta(seconds=60)  # six missed heartbeats (jobs.HEARTBEAT_EVERY)


def task_runs_reap_lost(*, now: datetime | None = None, silent_for: timedelta = LOST_AFTER) -> int:
    """Fail the task runs whose worker stopped beating: the process or its host died
    while running them. Their executions then go on (errors, finally) or end FAILED;
    Restart runs them again. Returns how many were failed."""
    now = now or timezone.now()
    silent = TaskRun.objects.filter(state=State.RUNNING, heartbeat_at__lt=now - silent_for).exclude(
        task_type__in=SubflowTask.type_names()
    )  # a Subflow waits on no worker
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
    from .live import LogWriter

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
    engine_tick()
    return len(ids)
