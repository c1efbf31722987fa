"""Task metrics: stored when an attempt's script ends, read by the execution page and by
Kestra's ``/api/v1/metrics`` endpoints."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db.models import QuerySet

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


AGGREGATIONS: dict[str, Callable[[list[float]], float]] = {
    "sum": sum,
    "min": min,
    "max": max,
    "avg": lambda values: sum(values) / len(values),
}


def metric_group_by(start: datetime, end: datetime) -> str:
    """Kestra's bucket for a time range: minutes up to 6 hours, hours up to a day, days
    up to 180 days, weeks up to a year, months beyond."""
    span = end - start
    if span.days > 365:
        return "month"
    if span.days > 180:
        return "week"
    if span.days > 1:
        return "day"
    return "hour" if span > timedelta(hours=6) else "minute"


def _bucket(moment: datetime, group_by: str) -> tuple[int, ...]:
    if group_by == "month":
        return moment.year, moment.month
    if group_by == "week":
        return moment.isocalendar()[:2]
    day = (moment.year, moment.month, moment.day)
    if group_by == "day":
        return day
    return (*day, moment.hour) if group_by == "hour" else (*day, moment.hour, moment.minute)


def _step(moment: datetime, group_by: str) -> datetime:
    if group_by == "month":
        year, month = divmod(moment.month, 12)
        return moment.replace(year=moment.year + year, month=month + 1, day=1)
    sizes = {"week": timedelta(weeks=1), "day": timedelta(days=1), "hour": timedelta(hours=1)}
    return moment + sizes.get(group_by, timedelta(minutes=1))


def metrics_aggregate(
    metrics: QuerySet[TaskRunMetric], *, start: datetime, end: datetime, aggregation: str
) -> dict[str, Any]:
    """Kestra's MetricAggregations: one value per bucket of the range, 0 where none."""
    group_by = metric_group_by(start, end)
    values: dict[tuple[int, ...], list[float]] = {}
    names: dict[tuple[int, ...], str] = {}
    for name, value, moment in metrics.filter(timestamp__gte=start, timestamp__lte=end).values_list(
        "name", "value", "timestamp"
    ):
        key = _bucket(moment.astimezone(start.tzinfo), group_by)
        values.setdefault(key, []).append(value)
        names[key] = name
    # Every bucket from the start's to the end's, the end's included (where Kestra stops
    # a bucket short of it, and so leaves out today's by default).
    buckets, moment, last = [], start, _bucket(end.astimezone(start.tzinfo), group_by)
    while True:
        key = _bucket(moment, group_by)
        found = values.get(key)
        buckets.append(
            {
                "name": names.get(key),
                "value": AGGREGATIONS[aggregation](found) if found else 0.0,
                "date": moment.isoformat(),
            }
        )
        if key >= last:
            break
        moment = _step(moment, group_by)
    return {"groupBy": group_by, "aggregations": buckets}
