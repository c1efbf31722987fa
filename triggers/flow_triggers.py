"""Flow triggers: when an execution ends, start the flows that wait for it.

A trigger's ``states``, ``conditions`` and ``preconditions`` all have to agree. With
several upstream flows in ``preconditions.flows``, each must have ended as asked within
the last day and since the trigger last fired (Kestra's default window, PT24H).
A flow never triggers itself: that would loop forever. A trigger hears only executions
of namespaces its flow's namespace reaches (``accounts.reach``): its own, those inside
it, and those whose Admins allowed it.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from accounts.reach import hears, trigger_refusal
from executions.models import Execution
from flows.language.triggers import (
    ExecutionFlowCondition,
    ExecutionNamespaceCondition,
    FlowEvent,
    FlowTrigger,
    UpstreamFlow,
)
from flows.models import Flow

from .models import FLOW, TriggerFiring, TriggerState
from .states import trigger_start_logged

logger = logging.getLogger(__name__)

PRECONDITIONS_WINDOW = timedelta(hours=24)


def _event(execution: Execution) -> FlowEvent:
    return FlowEvent(
        namespace=execution.namespace,
        flow_id=execution.flow_id,
        state=str(execution.state),
        labels={str(k): str(v) for k, v in (execution.labels or {}).items()},
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
    """The enabled Flow triggers of other flows that ``execution``'s end matches."""
    if not _any_enabled():
        return []
    event = _event(execution)
    candidates = TriggerState.objects.filter(
        type=FLOW, disabled=False, declared_disabled=False
    ).exclude(namespace=execution.namespace, flow_id=execution.flow_id)
    matching = [state for state in candidates if _trigger(state).matches(event)]
    heard = []
    for state in matching:
        if hears(state.namespace, execution.namespace):
            heard.append(state)
        else:  # told to the server's log only: the listener may not know the execution
            named = execution.namespace in _named_namespaces(_trigger(state))
            logger.log(
                logging.WARNING if named else logging.DEBUG,  # a catch-all hears nothing
                "%s: %s",
                state,
                trigger_refusal(state.namespace, execution.namespace),
            )
    return heard


def _named_namespaces(trigger: FlowTrigger) -> list[str]:
    """The namespaces a Flow trigger names exactly: in its preconditions and its flow
    and (equal) namespace conditions."""
    named = [u.namespace for u in trigger.preconditions.flows] if trigger.preconditions else []
    for condition in trigger.conditions:
        if isinstance(condition, ExecutionFlowCondition) or (
            isinstance(condition, ExecutionNamespaceCondition)
            and (condition.comparison or ("PREFIX" if condition.prefix else "EQUALS")) == "EQUALS"
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
    caller has looked already); returns how many."""
    event = _event(execution)
    started = 0
    for state in flow_triggers_waiting(execution=execution) if waiting is None else waiting:
        trigger = _trigger(state)
        if not _other_upstreams_ended(state, trigger, event):
            continue
        flow = Flow.objects.live().filter(namespace=state.namespace, flow_id=state.flow_id).first()
        if flow is None:
            continue
        started += trigger_start_logged(
            state=state,
            flow=flow,
            variables=flow_trigger_variables(execution),
            key=f"execution:{execution.pk}",
            inputs=trigger.inputs,
        )
    return started


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
        "outputs": dict(getattr(execution, "outputs", None) or {}),
    }


def _other_upstreams_ended(state: TriggerState, trigger: FlowTrigger, event: FlowEvent) -> bool:
    """With several upstream flows, the ones this execution is not must have ended as
    asked within the window, after this trigger last fired."""
    if trigger.preconditions is None or len(trigger.preconditions.flows) < 2:
        return True
    since = timezone.now() - PRECONDITIONS_WINDOW
    last = (
        TriggerFiring.objects.filter(
            namespace=state.namespace, flow_id=state.flow_id, trigger_id=state.trigger_id
        )
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    if last is not None:
        since = max(since, last)
    others = [u for u in trigger.preconditions.flows if not u.matches(event)]
    return all(
        hears(state.namespace, upstream.namespace) and _has_ended(upstream, since)
        for upstream in others
    )


def _has_ended(upstream: UpstreamFlow, since: datetime) -> bool:
    executions = Execution.objects.filter(namespace=upstream.namespace, ended_at__gte=since)
    if upstream.flow_id is not None:
        executions = executions.filter(flow_id=upstream.flow_id)
    if upstream.states:
        executions = executions.filter(state__in=upstream.states)
    for key, value in upstream.labels.items():
        executions = executions.filter(Q(**{f"labels__{key}": str(value)}))
    return executions.exists()


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
