"""Keeping each flow's trigger states in step with its YAML, and starting executions
on a trigger's behalf."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from executions.lifecycle import execution_start
from executions.models import Execution
from flows.expressions import render_value
from flows.language import FlowInvalid, parse_flow
from flows.language.triggers import BaseTrigger, ScheduleTrigger
from flows.models import Flow

from .models import TriggerFiring, TriggerState

logger = logging.getLogger(__name__)


def trigger_states_sync(*, flow: Flow) -> None:
    """Create, update or drop the flow's trigger states after a save or a delete.

    A schedule whose cron, seconds or time zone changed, or that is enabled again in the
    YAML, is re-armed: the next tick computes its next date from then.
    """
    states = TriggerState.objects.filter(namespace=flow.namespace, flow_id=flow.flow_id)
    if flow.deleted_at is not None:
        states.delete()
        return
    try:
        definition = parse_flow(flow.source)
    except FlowInvalid:
        return  # only valid flows are saved; an older one that no longer parses keeps its state
    existing = {state.trigger_id: state for state in states}
    now = timezone.now()
    for trigger in definition.triggers:
        state = existing.pop(trigger.id, None) or TriggerState(
            namespace=flow.namespace, flow_id=flow.flow_id, trigger_id=trigger.id
        )
        _update(state, trigger, declared_disabled=trigger.disabled or definition.disabled, now=now)
    if existing:
        states.filter(trigger_id__in=list(existing)).delete()


def _update(
    state: TriggerState, trigger: BaseTrigger, *, declared_disabled: bool, now: datetime
) -> None:
    signature = trigger.signature if isinstance(trigger, ScheduleTrigger) else ""
    rearm = (
        state.pk is None
        or state.type != trigger.canonical_type
        or state.signature != signature
        or state.declared_disabled  # enabled again, or still off: armed when it is on
        or declared_disabled
    )
    state.type = trigger.canonical_type
    state.definition = trigger.model_dump(mode="json", by_alias=True)
    state.declared_disabled = declared_disabled
    state.signature = signature
    if rearm:
        state.next_date = None
    state.updated_at = now
    state.save()


def trigger_states_sync_all() -> int:
    """Bring every live flow's trigger states up to date (the clock does it as it starts,
    for flows saved before the triggers app existed)."""
    flows = Flow.objects.live()
    for flow in flows:
        trigger_states_sync(flow=flow)
    live = set(flows.values_list("namespace", "flow_id"))
    orphans = [
        pk
        for pk, namespace, flow_id in TriggerState.objects.values_list("pk", "namespace", "flow_id")
        if (namespace, flow_id) not in live
    ]
    TriggerState.objects.filter(pk__in=orphans).delete()
    return len(live)


class TriggerStartFailed(Exception):
    """The execution could not start (its inputs were refused, say); the message says why."""


def trigger_start(
    *,
    state: TriggerState,
    flow: Flow,
    variables: dict[str, Any],
    key: str | None = None,
    date: datetime | None = None,
    labels: dict[str, str] | None = None,
    inputs: dict[str, Any] | None = None,
    context: dict[str, Any] | None = None,
) -> Execution | None:
    """Start one execution of ``flow`` for ``state``'s trigger and return it.

    With a ``key`` it happens at most once per key, whoever else tries (a second clock, a
    signal delivered twice): the firing row's unique constraint decides, and None means
    it had already happened. An execution that cannot start raises TriggerStartFailed;
    with a key the reason stays on the firing, which is not tried again.
    """
    failure: Exception | None = None
    with transaction.atomic():
        firing = None
        if key is not None:
            try:
                with transaction.atomic():
                    firing = TriggerFiring.objects.create(
                        namespace=state.namespace,
                        flow_id=state.flow_id,
                        trigger_id=state.trigger_id,
                        key=key,
                        date=date,
                    )
            except IntegrityError:
                return None  # already fired
        try:
            with transaction.atomic():
                execution = execution_start(
                    flow=flow,
                    labels={**state.trigger.labels, **(labels or {})},
                    inputs=inputs_render(inputs or {}, variables, context),
                    trigger={"id": state.trigger_id, "type": state.type, "variables": variables},
                )
        except Exception as exc:  # noqa: BLE001 - reported to the caller, after the record
            failure = exc
            if firing is not None:
                firing.error = str(exc)[:2000]
                firing.save(update_fields=["error"])
        else:
            if firing is not None:
                firing.execution_id = execution.pk
                firing.save(update_fields=["execution_id"])
    if failure is not None:
        raise TriggerStartFailed(str(failure) or type(failure).__name__) from failure
    return execution


def trigger_start_logged(
    *,
    state: TriggerState,
    flow: Flow,
    variables: dict[str, Any],
    key: str | None = None,
    date: datetime | None = None,
    labels: dict[str, str] | None = None,
    inputs: dict[str, Any] | None = None,
    context: dict[str, Any] | None = None,
) -> bool:
    """trigger_start for the clock and the signals, which go on with the next start when
    one fails; returns whether an execution started."""
    try:
        execution = trigger_start(
            state=state,
            flow=flow,
            variables=variables,
            key=key,
            date=date,
            labels=labels,
            inputs=inputs,
            context=context,
        )
    except TriggerStartFailed as exc:
        logger.warning("Trigger %s could not start its flow: %s", state, exc)
        return False
    return execution is not None


def inputs_render(
    inputs: dict[str, Any], variables: dict[str, Any], context: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A trigger's ``inputs`` with their expressions (``{{ trigger.date }}``) rendered."""
    if not inputs:
        return {}
    rendered: dict[str, Any] = render_value(inputs, {**(context or {}), "trigger": variables})
    return rendered
