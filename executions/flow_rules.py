"""What a flow declares about its executions besides its tasks: listeners and
``afterExecution`` (tasks run once the execution has ended), and SLAs (a maximum
duration, an assertion), with Kestra's semantics. The planner asks; this module decides."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Protocol

from django.utils import timezone

from flows.expressions import is_truthy, render
from flows.language import FlowDefinition
from flows.language.flow_parts import Listener, Sla
from flows.language.tasks import BaseTask
from flows.language.triggers import ConditionContext, ConditionInvalid, FlowEvent, conditions_hold

from .context import render_context
from .models import Execution, LogLine, State, TaskRun

logger = logging.getLogger(__name__)

SLA_PREFIX = "SLA '"


class Walk(Protocol):
    """The planner's walk, as these rules need it."""

    execution: Execution
    definition: FlowDefinition
    runs: dict[str, TaskRun]

    def sequence(
        self, tasks: Sequence[BaseTask], *, parent: Any, value: str | None, prefix: str, limit: int
    ) -> State | None: ...


def _variables(walk: Walk) -> dict[str, Any]:
    return render_context(walk.execution, walk.definition, list(walk.runs.values()), None)


def after_end_done(walk: Walk, state: State) -> bool:
    """Run, one list after the other, the tasks of each listener whose conditions hold
    for the execution ending ``state``, then ``afterExecution``; True once all ended.
    They never change ``state``: Kestra decided it before they ran."""
    definition, execution = walk.definition, walk.execution
    if not definition.listeners and not definition.after_execution:
        return True
    lists = [
        listener.tasks
        for listener in definition.listeners
        if _listener_applies(listener, execution, state, lambda: _variables(walk))
    ]
    for tasks in [*lists, definition.after_execution]:
        if tasks and walk.sequence(tasks, parent=None, value=None, prefix="", limit=1) is None:
            return False
    return True


def _listener_applies(
    listener: Listener,
    execution: Execution,
    state: State,
    variables: Callable[[], dict[str, Any]],
) -> bool:
    if not listener.conditions:
        return True
    event = FlowEvent(
        namespace=execution.namespace,
        flow_id=execution.flow_id,
        state=str(state),
        labels={str(k): str(v) for k, v in (execution.labels or {}).items()},
        outputs=dict(execution.outputs or {}),
        execution_id=execution.pk,
    )
    context = ConditionContext(
        variables=variables(),
        event=event,
        flow_namespace=execution.namespace,
        flow_id=execution.flow_id,
    )
    try:
        return conditions_hold(listener.conditions, context)
    except ConditionInvalid as exc:
        execution_log(execution, f"A listener's conditions could not be decided: {exc}", "WARN")
        return False


# --- SLAs -------------------------------------------------------------------------------


def sla_check(walk: Walk) -> None:
    """EXECUTION_ASSERTION SLAs, checked at each change of a running execution as Kestra
    does: each broken one is logged and adds its labels; the first whose behavior is FAIL
    or CANCEL stops the execution (it ends so once no worker holds a task of it)."""
    execution, definition = walk.execution, walk.definition
    if not definition.sla or execution.state in (State.KILLING, State.QUEUED):
        return
    stop = None
    for sla in definition.sla:
        if sla.type == "MAX_DURATION" and _overdue(execution, sla):
            # The clock's monitor may not have looked yet: a change after the deadline
            # (the last task ending late) breaks it as surely.
            sla_breach(execution, sla, max_duration_reason(sla))
            stop = stop or (sla if sla.behavior != "NONE" else None)
            continue
        if sla.type != "EXECUTION_ASSERTION" or sla.assert_ is None:
            continue
        try:
            holds = is_truthy(render(sla.assert_, _variables(walk)))
        except Exception as exc:  # noqa: BLE001 - Kestra ignores an SLA it cannot evaluate
            execution_log(execution, f"Ignoring SLA '{sla.id}': {exc}", "ERROR")
            continue
        if not holds:
            sla_breach(execution, sla, f"assertion is false: {sla.assert_}")
            stop = stop or (sla if sla.behavior != "NONE" else None)
    if stop is not None:
        execution_stop(execution, stop)


def max_duration_reason(sla: Sla) -> str:
    seconds = sla.duration.total_seconds() if sla.duration else 0
    return f"the execution ran longer than its maximum duration of {seconds:g}s"


def _overdue(execution: Execution, sla: Sla) -> bool:
    started = execution.started_at
    return bool(sla.duration and started and timezone.now() > started + sla.duration)


def sla_breach(execution: Execution, sla: Sla, reason: str) -> None:
    """Log a broken SLA and add its labels, once."""
    message = f"SLA '{sla.id}' violated: {reason}"
    if LogLine.objects.filter(execution=execution, task_run=None, message=message).exists():
        return
    execution.labels = {**(execution.labels or {}), **sla.labels}
    execution.save(update_fields=["labels"])
    execution_log(execution, message, "ERROR" if sla.behavior == "FAIL" else "WARN")


def execution_stop(execution: Execution, sla: Sla) -> None:
    """Stop ``execution`` for ``sla`` as a kill does: what no worker holds ends KILLED, a
    worker stops what it runs; the planner then ends it as ``sla_end_state`` says."""
    execution.task_runs.filter(state__in=(State.CREATED, State.PAUSED, State.RETRYING)).update(
        state=State.KILLED, ended_at=timezone.now(), wake_at=None
    )
    execution.state = State.KILLING
    execution.error = f"{SLA_PREFIX}{sla.id}' violated"
    execution.save(update_fields=["state", "error"])


def sla_end_state(execution: Execution, definition: FlowDefinition) -> State:
    """How an execution stopped by a broken SLA ends: FAILED or CANCELLED as the SLA's
    behavior says; KILLED when something else stopped it."""
    for sla in definition.sla:
        if execution.error.startswith(f"{SLA_PREFIX}{sla.id}' violated"):
            return State.FAILED if sla.behavior == "FAIL" else State.CANCELLED
    return State.KILLED


def sla_deadlines(execution: Execution, definition: FlowDefinition) -> list[tuple[str, datetime]]:
    """The MAX_DURATION SLAs of an execution that just started: (id, deadline)."""
    start = execution.started_at or timezone.now()
    return [
        (sla.id, start + sla.duration)
        for sla in definition.sla
        if sla.type == "MAX_DURATION" and sla.duration is not None
    ]


def execution_log(execution: Execution, message: str, level: str = "INFO") -> None:
    """A line of the execution's own (no task's), as the engine tells what it did."""
    LogLine.objects.create(
        execution=execution,
        stream=LogLine.Stream.SYSTEM,
        level=level,
        timestamp=timezone.now(),
        message=message,
    )
