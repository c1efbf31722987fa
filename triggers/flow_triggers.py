"""Flow triggers: when an execution ends (or enters a state a trigger lists), start the
flows that wait for it.

A trigger's ``states``, ``conditions`` and ``preconditions`` all have to agree. A
MultipleCondition, and preconditions, gather their conditions over a time window (a day
by default) in stored windows (windows.py): each upstream execution adds the ones it
meets, and the trigger fires when all are met. A flow never triggers itself: that would
loop forever. A trigger hears only executions of namespaces its flow's namespace reaches
(``accounts.reach``): its own, those inside it, and those whose Admins allowed it.
"""

from __future__ import annotations

import logging
from functools import cache, partial
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from accounts.reach import hears, trigger_refusal
from executions.context import render_context
from executions.models import TERMINAL_STATES, Execution
from flows.language.triggers import (
    ConditionContext,
    ConditionInvalid,
    ExecutionFlowCondition,
    ExecutionNamespaceCondition,
    FlowEvent,
    FlowTrigger,
    TimeWindow,
)
from flows.models import Flow

from .models import FLOW, TriggerState
from .states import trigger_start_logged
from .windows import window_met

logger = logging.getLogger(__name__)


def _event(execution: Execution) -> FlowEvent:
    return FlowEvent(
        namespace=execution.namespace,
        flow_id=execution.flow_id,
        state=str(execution.state),
        labels={str(k): str(v) for k, v in (execution.labels or {}).items()},
        outputs=dict(execution.outputs or {}),
        execution_id=execution.pk,
    )


def _any_enabled() -> bool:
    # Asked at every execution's end, where most installs have no Flow trigger at all:
    # one plain statement is a tenth of what the ORM spends building the full query.
    with connection.cursor() as cursor:
        cursor.execute(_any_enabled_sql(), [FLOW])
        return cursor.fetchone() is not None


@cache
def _any_enabled_sql() -> str:
    quote, meta = connection.ops.quote_name, TriggerState._meta
    return (
        f"SELECT 1 FROM {quote(meta.db_table)} WHERE {quote('type')} = %s"
        f" AND NOT {quote('disabled')} AND NOT {quote('declared_disabled')} LIMIT 1"
    )


def _trigger(state: TriggerState) -> FlowTrigger:
    trigger = state.trigger
    assert isinstance(trigger, FlowTrigger)
    return trigger


def flow_triggers_waiting(*, execution: Execution) -> list[TriggerState]:
    """The enabled Flow triggers of other flows that ``execution``'s new state matches.
    Call inside the transaction that changes the state: the windows of MultipleConditions
    and preconditions are written there, so an execution counts once."""
    if not _any_enabled():
        return []
    event = _event(execution)
    # What conditions' expressions see of the upstream execution (Kestra renders them
    # with its variables): its trigger.*, labels, flow and execution.
    variables = {
        "trigger": flow_trigger_variables(execution),
        "labels": dict(execution.labels or {}),
        "flow": {"namespace": execution.namespace, "id": execution.flow_id},
        "execution": {"id": execution.pk, "state": str(execution.state)},
    }
    candidates = TriggerState.objects.filter(
        type=FLOW, disabled=False, declared_disabled=False
    ).exclude(namespace=execution.namespace, flow_id=execution.flow_id)
    heard = []
    for state in candidates:
        trigger = _trigger(state)
        context = ConditionContext(
            variables=variables,
            event=event,
            flow_namespace=state.namespace,
            flow_id=state.flow_id,
        )
        try:
            if not trigger.matches(event, context):
                continue
        except ConditionInvalid as exc:
            logger.warning("%s: its conditions could not be decided: %s", state, exc)
            continue
        if not hears(state.namespace, execution.namespace):
            # told to the server's log only: the listener may not know the execution
            named = execution.namespace in _named_namespaces(trigger)
            logger.log(
                logging.WARNING if named else logging.DEBUG,  # a catch-all hears nothing
                "%s: %s",
                state,
                trigger_refusal(state.namespace, execution.namespace),
            )
            continue
        try:
            with transaction.atomic():  # one trigger's failure leaves the others be
                met = _windows_met(state, trigger, context)
        except Exception as exc:  # noqa: BLE001 - told, and this trigger skips the event
            logger.warning("%s: its conditions could not be decided: %s", state, exc)
            continue
        if met:
            heard.append(state)
    return heard


def _holds(condition: Any, context: ConditionContext) -> bool:
    return bool(condition.test(context))


def _windows_met(state: TriggerState, trigger: FlowTrigger, context: ConditionContext) -> bool:
    """Every MultipleCondition of the trigger, and its preconditions, met in its window
    with this execution (each records what the execution meets, whatever the others)."""
    now = timezone.now()
    met = True
    event = context.event
    assert event is not None
    for multiple in trigger.multiple_conditions:
        met &= window_met(
            state=state,
            condition_id=multiple.id,
            tests=[
                (key, partial(_holds, condition, context))
                for key, condition in multiple.conditions.items()
            ],
            window=multiple.effective_window,
            reset_on_success=multiple.reset_on_success,
            now=now,
        )
    preconditions = trigger.preconditions
    if preconditions is not None and (preconditions.flows or preconditions.where):
        met &= window_met(
            state=state,
            condition_id=preconditions.id or "preconditions",
            tests=[
                *(
                    (str(index), partial(upstream.matches, event))
                    for index, upstream in enumerate(preconditions.flows)
                ),
                *((f"where:{w.id}", partial(w.holds, context)) for w in preconditions.where),
            ],
            window=preconditions.time_window or TimeWindow(),
            reset_on_success=preconditions.reset_on_success,
            now=now,
        )
    return met


def _named_namespaces(trigger: FlowTrigger) -> list[str]:
    """The namespaces a Flow trigger names exactly: in its preconditions and its flow
    and (equal) namespace conditions."""
    named = [u.namespace for u in trigger.preconditions.flows] if trigger.preconditions else []
    for condition in trigger.conditions:
        if isinstance(condition, ExecutionFlowCondition) or (
            isinstance(condition, ExecutionNamespaceCondition) and condition.how == "EQUALS"
        ):
            named.append(condition.namespace)
    return list(dict.fromkeys(named))


def flow_trigger_refusals(namespace: str, trigger: FlowTrigger) -> list[str]:
    """Why a Flow trigger of a flow in ``namespace`` will not hear the namespaces it
    names, for the flow page: its author named them, so saying so tells them nothing of
    what runs there."""
    return [
        trigger_refusal(namespace, named)
        for named in _named_namespaces(trigger)
        if not hears(namespace, named)
    ]


def flow_triggers_fire(*, execution: Execution, waiting: list[TriggerState] | None = None) -> int:
    """Start every flow whose Flow trigger waits for ``execution`` (``waiting``, when the
    caller has looked already, in the transaction that changed its state); returns how
    many. The trigger's inputs are rendered with the upstream execution's variables
    (``{{ outputs.task.value }}``) and ``trigger.*`` (``{{ trigger.outputs.x }}``)."""
    started = 0
    variables = flow_trigger_variables(execution)
    # An ending counts once per trigger; a state on the way (RUNNING, PAUSED) once each.
    key = f"execution:{execution.pk}"
    if execution.state not in TERMINAL_STATES:
        key += f":{execution.state}"
    for state in flow_triggers_waiting(execution=execution) if waiting is None else waiting:
        trigger = _trigger(state)
        flow = Flow.objects.live().filter(namespace=state.namespace, flow_id=state.flow_id).first()
        if flow is None:
            continue
        started += trigger_start_logged(
            state=state,
            flow=flow,
            variables=variables,
            key=key,
            inputs=trigger.inputs,
            context=_upstream_context(execution),
        )
    return started


def _upstream_context(execution: Execution) -> dict[str, Any]:
    revision = execution.flow_revision
    return render_context(execution, revision.definition, list(execution.task_runs.all()), None)


def flow_trigger_variables(execution: Execution) -> dict[str, Any]:
    """``trigger.*`` of an execution a Flow trigger started, named as Kestra names them."""
    return {
        "executionId": execution.pk,
        "namespace": execution.namespace,
        "flowId": execution.flow_id,
        "flowRevision": execution.flow_revision.revision,
        "state": str(execution.state),
        "startDate": execution.started_at.isoformat() if execution.started_at else None,
        "endDate": execution.ended_at.isoformat() if execution.ended_at else None,
        "executionLabels": dict(execution.labels or {}),
        "outputs": dict(execution.outputs or {}),
    }


def stop_after_apply(*, execution: Execution) -> None:
    """``stopAfter``: the trigger that started ``execution`` is disabled when the
    execution ends in one of the listed states."""
    started_by = execution.trigger or {}
    if not started_by.get("id"):
        return
    state = TriggerState.objects.filter(
        namespace=execution.namespace, flow_id=execution.flow_id, trigger_id=started_by["id"]
    ).first()
    if state is None or not state.is_enabled:
        return
    if str(execution.state) in state.trigger.stop_after:
        state.set_disabled(True)
        logger.info("Trigger %s disabled after an execution ended %s", state, execution.state)
