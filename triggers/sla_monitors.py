"""MAX_DURATION SLAs: a monitor per SLA is stored when an execution starts running, and
the clock looks at the ones whose deadline passed. An execution still running then breaks
its SLA (executions/flow_rules.py says what follows); one that ended is let be."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from executions.flow_rules import execution_stop, max_duration_reason, sla_breach, sla_deadlines
from executions.models import Execution
from executions.planner import execution_locked, plan
from executions.queue import enqueue_in_transaction

from .models import SlaMonitor


def sla_monitors_start(*, execution: Execution) -> None:
    """Watch the MAX_DURATION SLAs of ``execution``, which just started running."""
    definition = execution.flow_revision.definition
    if not definition.sla:
        return
    for sla_id, deadline in sla_deadlines(execution, definition):
        SlaMonitor.objects.get_or_create(
            execution_id=execution.pk, sla_id=sla_id, defaults={"deadline": deadline}
        )


def sla_monitors_end(*, execution: Execution) -> None:
    SlaMonitor.objects.filter(execution_id=execution.pk).delete()


def sla_monitors_tick(now: datetime) -> int:
    """Act on the monitors whose deadline passed; returns how many SLAs were broken."""
    due = list(SlaMonitor.objects.filter(deadline__lte=now).values_list("pk", flat=True)[:100])
    return sum(_monitor_check(pk, now) for pk in due)


def _monitor_check(pk: int, now: datetime) -> bool:
    with transaction.atomic():
        monitor = SlaMonitor.objects.select_for_update().filter(pk=pk).first()
        if monitor is None:
            return False  # another clock had it
        monitor.delete()
        execution = Execution.objects.filter(pk=monitor.execution_id).first()
        if execution is None or execution.is_terminal:
            return False
        execution = execution_locked(execution.pk)
        definition = execution.flow_revision.definition
        sla = next((s for s in definition.sla if s.id == monitor.sla_id), None)
        if sla is None or sla.duration is None or execution.is_terminal:
            return False
        sla_breach(execution, sla, max_duration_reason(sla))
        if sla.behavior != "NONE":
            execution_stop(execution, sla)
            enqueue_in_transaction(plan(execution, definition))
    return True
