"""What the log.Fetch, execution.Labels, log.PurgeLogs and execution.PurgeExecutions tasks
do to Flowsite's own records, each bounded by the namespace of the execution running it.

Fetching logs reads: it reaches what ``accounts.reach`` lets the execution reach, as
``read()`` does. Purging deletes, which an allowance never grants (an Admin allowing
another namespace lets it call, hear and read, not erase): a purge touches only the
running execution's own namespace and the namespaces inside it, and never an execution
that has not ended (its own included).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet

from accounts.audit import audit_record
from accounts.reach import CrossingRefused, purge_require, reaches, refusal
from flows.language.tasks.base import PurgeParts

from .models import TERMINAL_STATES, Execution, LogLine
from .runners.base import TaskError
from .storage import SCHEME, execution_uri_prefix, flowsite_storage

LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR")
PURGE_BATCH = 5000  # log lines deleted per statement
SYSTEM_LABEL_PREFIX = "system."


def logs_of_execution(
    caller: Execution,
    *,
    execution_id: str | None,
    namespace: str | None,
    flow_id: str | None,
    task_ids: list[str] | None,
    level: str,
) -> Iterator[dict[str, Any]]:
    """Kestra's log entries of an execution, at ``level`` or above, in order. Without an
    id, the caller's own; with one, an execution of the caller's flow unless
    ``namespace`` and ``flow_id`` name another flow, which the caller must reach."""
    target = caller
    if execution_id and execution_id != caller.pk:
        namespace, flow_id = namespace or caller.namespace, flow_id or caller.flow_id
        if not reaches(caller.namespace, namespace):
            raise CrossingRefused(
                "log.Fetch refused: " + refusal(caller.namespace, namespace, "read logs of")
            )
        found = Execution.objects.filter(
            pk=execution_id, namespace=namespace, flow_id=flow_id
        ).first()
        if found is None:
            raise TaskError(f"log.Fetch: no execution {execution_id} of flow {namespace}.{flow_id}")
        target = found
    lines = LogLine.objects.filter(
        execution=target, level__in=LEVELS[LEVELS.index(level) :]
    ).select_related("task_run")
    if task_ids is not None:
        lines = lines.filter(task_id__in=task_ids)
    for line in lines.order_by("id").iterator(chunk_size=2000):
        yield {
            "namespace": target.namespace,
            "flowId": target.flow_id,
            "taskId": line.task_id or None,
            "executionId": target.pk,
            "taskRunId": line.task_run_id,
            "attemptNumber": max(line.attempt - 1, 0),
            "timestamp": line.timestamp.isoformat(),
            "level": line.level,
            "message": line.message,
        }


def labels_merge(execution: Execution, labels: dict[str, str]) -> dict[str, str]:
    """Add or overwrite ``labels`` on ``execution``; its labels after. System labels are
    Flowsite's to set, as they are Kestra's."""
    for key, value in labels.items():
        if key.startswith(SYSTEM_LABEL_PREFIX):
            raise TaskError(
                f"System labels can only be set by Flowsite itself, offending label: {key}={value}"
            )
    with transaction.atomic():
        row = Execution.objects.select_for_update().only("labels").get(pk=execution.pk)
        merged = {**(row.labels or {}), **labels}
        Execution.objects.filter(pk=execution.pk).update(labels=merged)
    execution.labels = merged
    return merged


def purge_scope(caller: Execution, namespace: str | None, flow_id: str | None, what: str) -> Q:
    """Which executions a purge of ``caller`` may select: ``namespace`` and the ones
    inside it (or exactly it, with ``flow_id``); without one, the caller's namespace."""
    if flow_id and not namespace:
        raise TaskError(f"{what}: flowId needs namespace too")
    target = namespace or caller.namespace
    purge_require(caller=caller.namespace, namespace=target, what=what)
    if flow_id:
        return Q(namespace=target, flow_id=flow_id)
    return Q(namespace=target) | Q(namespace__startswith=target + ".")


def logs_purge(
    caller: Execution,
    *,
    namespace: str | None,
    flow_id: str | None,
    levels: list[str] | None,
    start: datetime | None,
    end: datetime,
) -> int:
    """Delete the log lines of the scope's executions written between start and end."""
    scope = purge_scope(caller, namespace, flow_id, "PurgeLogs")
    executions = Execution.objects.filter(scope).exclude(pk=caller.pk).values("pk")
    lines = LogLine.objects.filter(execution__in=executions, timestamp__lte=end)
    if start is not None:
        lines = lines.filter(timestamp__gte=start)
    if levels:
        lines = lines.filter(level__in=levels)
    deleted = lines_delete(lines)
    if deleted:
        _audit(caller, f"PurgeLogs deleted {deleted} log lines", namespace, flow_id)
    return deleted


def _audit(caller: Execution, summary: str, namespace: str | None, flow_id: str | None) -> None:
    """A purge is in the audit log of the namespace whose execution ran it."""
    scope = (namespace or caller.namespace) + (f".{flow_id}" if flow_id else "")
    audit_record(
        actor=None,
        action="purged",
        namespace=caller.namespace,
        object_type="execution",
        object_id=caller.pk,
        summary=f"{summary} of {scope} ({caller.namespace}.{caller.flow_id} ran it)",
    )


def executions_purge(
    caller: Execution,
    *,
    namespace: str | None,
    flow_id: str | None,
    states: list[str] | None,
    start: datetime | None,
    end: datetime,
    what: PurgeParts,
) -> dict[str, int]:
    """Delete the ended executions of the scope started between start and end (their
    rows, logs and stored files, as ``what`` says); Kestra's counts."""
    scope = purge_scope(caller, namespace, flow_id, "PurgeExecutions")
    ended: QuerySet[Execution] = (
        Execution.objects.filter(scope, state__in=TERMINAL_STATES, created_at__lte=end)
        .exclude(pk=caller.pk)
        .order_by("created_at")
    )
    if start is not None:
        ended = ended.filter(created_at__gte=start)
    if states:
        ended = ended.filter(state__in=states)
    counts = {"executionsCount": 0, "logsCount": 0, "storagesCount": 0, "metricsCount": 0}
    for execution in list(ended.only("pk", "namespace", "flow_id")):
        for part, count in execution_erase(execution, what=what).items():
            counts[part] += count
    if any(counts.values()):
        summary = (
            f"PurgeExecutions deleted {counts['executionsCount']} executions, "
            f"{counts['logsCount']} log lines and {counts['storagesCount']} files"
        )
        _audit(caller, summary, namespace, flow_id)
    return counts


def lines_delete(
    lines: QuerySet[LogLine], *, batch: int = PURGE_BATCH, until: float | None = None
) -> int:
    """Delete ``lines`` ``batch`` at a time, each batch a statement of its own: a purge
    of millions never holds one long transaction (nor the rows in memory). With
    ``until`` (a time.monotonic() moment), it stops there and leaves the rest."""
    deleted = 0
    while ids := list(lines.order_by("id").values_list("id", flat=True)[:batch]):
        deleted += LogLine.objects.filter(id__in=ids).delete()[0]
        if len(ids) < batch or (until is not None and time.monotonic() >= until):
            break
    return deleted


def execution_erase(
    execution: Execution, *, what: PurgeParts, until: float | None = None
) -> dict[str, int]:
    """Delete what ``what`` names of an ended execution: its stored files, its log lines
    (in batches) and its row (with its task runs); Kestra's counts. With ``until``, the
    row stays while lines are left at that moment (the next purge goes on)."""
    counts = {"executionsCount": 0, "logsCount": 0, "storagesCount": 0}
    if what.storage:
        counts["storagesCount"] = _files_delete(execution)
    if what.logs or what.executions:  # the row's lines go with it: first, in batches
        lines = LogLine.objects.filter(execution=execution)
        deleted = lines_delete(lines, until=until)
        counts["logsCount"] = deleted if what.logs else 0
        if until is not None and lines.exists():
            return counts
    if what.executions:
        execution.delete()
        counts["executionsCount"] = 1
    return counts


def _files_delete(execution: Execution) -> int:
    """Delete every stored file of ``execution``; how many there were."""
    storage = flowsite_storage()
    top = execution_uri_prefix(execution)[len(SCHEME) :].rstrip("/")
    deleted = 0
    folders = [top]
    while folders:
        folder = folders.pop()
        try:
            subfolders, files = storage.listdir(folder)
        except (FileNotFoundError, NotADirectoryError):
            continue
        folders += [f"{folder}/{name}" for name in subfolders]
        for name in files:
            storage.delete(f"{folder}/{name}")
            deleted += 1
    return deleted
