"""Task metrics: stored when an attempt's script ends, read by the execution page and by
Kestra's ``/api/v1/metrics`` endpoints."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from .models import Execution, TaskRun, TaskRunMetric
from .presentation import Node, walk
from .runners.commands import Metric


def task_run_metrics_store(
    *, task_run: TaskRun, metrics: Iterable[Metric], mask: Callable[[Any], Any]
) -> None:
    """Keep an attempt's metrics, a secret in a name or tag hidden as in the logs."""
    rows = [
        TaskRunMetric(
            execution_id=task_run.execution_id,
            task_run=task_run,
            task_id=task_run.task_id,
            attempt=task_run.attempt or 1,
            type=metric.type,
            name=mask(metric.name),
            value=metric.value,
            tags=mask(dict(metric.tags)),
            timestamp=metric.timestamp,
        )
        for metric in metrics
    ]
    if rows:
        TaskRunMetric.objects.bulk_create(rows)


def metrics_by_task(
    tree: list[Node], execution: Execution
) -> list[tuple[Node, list[TaskRunMetric]]]:
    """The task runs that reported metrics, in tree order, with their metrics."""
    found: dict[str, list[TaskRunMetric]] = {}
    for metric in TaskRunMetric.objects.filter(execution=execution).order_by("id"):
        found.setdefault(metric.task_run_id, []).append(metric)
    return [
        (node, found[node.run.pk])
        for node, _ in walk(tree)
        if node.run is not None and node.run.pk in found
    ]
