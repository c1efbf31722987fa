"""Retention: the clock deletes the log lines of executions that ended longer ago than
FLOWSITE_LOG_RETENTION_DAYS, and the executions themselves (task runs, logs, stored
files) that ended longer ago than FLOWSITE_EXECUTION_RETENTION_DAYS. 0 keeps forever.

It runs on the clock's minutely sweep (upkeep.py) for RETENTION_BUDGET at most, in
batches that are each a statement of their own; the next sweep goes on where it stopped.
A backlog of millions of lines costs the clock a bounded moment each minute, never a long
transaction. An execution that has not ended is never touched, however old. Each sweep
that deleted something is in the audit log of the namespaces it deleted from."""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef, QuerySet

from accounts.audit import audit_record
from flows.language.tasks.base import PurgeParts

from .housekeeping import execution_erase, lines_delete
from .models import TERMINAL_STATES, Execution, LogLine

RETENTION_BUDGET = timedelta(seconds=2)
EXECUTIONS_PER_QUERY = 100


def retention_tick(now: datetime, *, budget: timedelta = RETENTION_BUDGET) -> dict[str, int]:
    """Delete, for ``budget`` at most, what ended before the retention settings' cutoffs;
    how many executions, log lines and files went."""
    until = time.monotonic() + budget.total_seconds()
    deleted: defaultdict[str, Counter[str]] = defaultdict(Counter)  # by namespace
    if days := settings.FLOWSITE_EXECUTION_RETENTION_DAYS:
        for execution in _oldest(_ended_before(now - timedelta(days=days)), until):
            counts = execution_erase(execution, what=PurgeParts(), until=until)
            deleted[execution.namespace].update(counts)
    if days := settings.FLOWSITE_LOG_RETENTION_DAYS:
        has_lines = Exists(LogLine.objects.filter(execution=OuterRef("pk")))
        for execution in _oldest(_ended_before(now - timedelta(days=days)), until, has_lines):
            lines = lines_delete(LogLine.objects.filter(execution=execution), until=until)
            deleted[execution.namespace]["logsCount"] += lines
    for namespace, counts in deleted.items():
        _audit(namespace, counts)
    return dict(sum(deleted.values(), Counter()))


def _ended_before(cutoff: datetime) -> QuerySet[Execution]:
    return Execution.objects.filter(state__in=TERMINAL_STATES, ended_at__lt=cutoff)


def _oldest(
    executions: QuerySet[Execution], until: float, *conditions: Exists
) -> Iterator[Execution]:
    """The executions to purge, oldest end first, as long as the budget lasts (and at
    least one, so that every sweep gets on). Each query finds the next ones: those
    purged meanwhile no longer match."""
    rows = executions.filter(*conditions).order_by("ended_at", "pk").only("pk", "namespace")
    started = False
    while not started or time.monotonic() < until:
        batch = list(rows[:EXECUTIONS_PER_QUERY])
        for execution in batch:
            if started and time.monotonic() >= until:
                return
            started = True
            yield execution
        if len(batch) < EXECUTIONS_PER_QUERY:
            return


def _audit(namespace: str, counts: Counter[str]) -> None:
    if not any(counts.values()):
        return
    audit_record(
        actor=None,
        action="purged",
        namespace=namespace,
        object_type="execution",
        object_id="retention",
        summary=(
            f"Retention deleted {counts['executionsCount']} ended executions, "
            f"{counts['logsCount']} log lines and {counts['storagesCount']} files "
            f"(FLOWSITE_EXECUTION_RETENTION_DAYS={settings.FLOWSITE_EXECUTION_RETENTION_DAYS},"
            f" FLOWSITE_LOG_RETENTION_DAYS={settings.FLOWSITE_LOG_RETENTION_DAYS})"
        ),
    )
