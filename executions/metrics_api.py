"""Kestra's metric endpoints, /api/v1/metrics: an execution's metrics (all, or one task
run's, or one task's), and the names and tasks a flow's metrics were recorded under."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.access import execution_for_user, namespace_for_user
from flowsite.api import api_error, api_view

from .metrics import AGGREGATIONS, metrics_aggregate
from .models import TaskRunMetric

PAGE_SIZE = 10  # Kestra's default
MAX_PAGE_SIZE = 1000
# Kestra's sort names (``sort=value:desc``) and the columns they sort on.
SORTS = {
    "timestamp": "timestamp",
    "name": "name",
    "value": "value",
    "type": "type",
    "namespace": "execution__namespace",
    "flowId": "execution__flow_id",
    "executionId": "execution_id",
    "taskId": "task_id",
    "taskrunId": "task_run_id",
    "taskRunId": "task_run_id",
}


@api_view(("GET",))
def metrics_of_execution(request: HttpRequest, execution_id: str) -> HttpResponse:
    """``GET /api/v1/metrics/{executionId}``, narrowed by ``taskRunId`` or ``taskId``:
    ``{"results": [MetricEntry...], "total": n}``, one page of ``size`` at a time."""
    execution = execution_for_user(request.user, execution_id)
    metrics = TaskRunMetric.objects.filter(execution=execution)
    if task_id := request.GET.get("taskId"):
        metrics = metrics.filter(task_id=task_id)
    elif task_run_id := request.GET.get("taskRunId"):
        metrics = metrics.filter(task_run_id=task_run_id)
    try:
        page = int(request.GET.get("page", "1"))
        size = int(request.GET.get("size", str(PAGE_SIZE)))
    except ValueError:
        return api_error(400, "page and size must be whole numbers")
    if page < 1 or not 1 <= size <= MAX_PAGE_SIZE:
        return api_error(400, f"page must be 1 or more, size between 1 and {MAX_PAGE_SIZE}")
    order = []
    for sort in request.GET.getlist("sort"):
        name, _, direction = sort.partition(":")
        if name not in SORTS or direction.lower() not in ("", "asc", "desc"):
            known = ", ".join(SORTS)
            return api_error(400, f"sort '{sort}': use one of {known}, then :asc or :desc")
        order.append(("-" if direction.lower() == "desc" else "") + SORTS[name])
    shown = metrics.order_by(*order, "id")[(page - 1) * size : page * size]
    results = [metric.as_kestra(execution) for metric in shown]
    return JsonResponse({"results": results, "total": metrics.count()})


def _of_flow(request: HttpRequest, namespace: str, flow_id: str) -> QuerySet[TaskRunMetric]:
    # Metrics outlive a flow's deletion or a task's renaming, as in Kestra: the namespace
    # decides who may read them, not whether the flow still exists.
    namespace_for_user(request.user, namespace)
    return TaskRunMetric.objects.filter(execution__namespace=namespace, execution__flow_id=flow_id)


@api_view(("GET",))
def metric_names_of_flow(request: HttpRequest, namespace: str, flow_id: str) -> HttpResponse:
    names = _of_flow(request, namespace, flow_id).values_list("name", flat=True)
    return JsonResponse(sorted(set(names)), safe=False)


@api_view(("GET",))
def metric_names_of_task(
    request: HttpRequest, namespace: str, flow_id: str, task_id: str
) -> HttpResponse:
    metrics = _of_flow(request, namespace, flow_id).filter(task_id=task_id)
    return JsonResponse(sorted(set(metrics.values_list("name", flat=True))), safe=False)


@api_view(("GET",))
def tasks_with_metrics(request: HttpRequest, namespace: str, flow_id: str) -> HttpResponse:
    tasks = _of_flow(request, namespace, flow_id).values_list("task_id", flat=True)
    return JsonResponse(sorted(set(tasks)), safe=False)


@api_view(("GET",))
def metric_aggregates(
    request: HttpRequest, namespace: str, flow_id: str, metric: str, task_id: str | None = None
) -> HttpResponse:
    """``GET /api/v1/metrics/aggregates/{namespace}/{flowId}[/{taskId}]/{metric}``: the
    metric summed (or avg, min, max: ``aggregation``) per minute, hour, day, week or
    month of ``startDate``..``endDate`` (the last 30 days by default)."""
    metrics = _of_flow(request, namespace, flow_id).filter(name=metric)
    if task_id is not None:
        metrics = metrics.filter(task_id=task_id)
    aggregation = request.GET.get("aggregation", "sum")
    if aggregation not in AGGREGATIONS:
        return api_error(400, f"aggregation must be one of {', '.join(AGGREGATIONS)}")
    now = timezone.now()
    bounds = []
    for name, default in (("startDate", now - timedelta(days=30)), ("endDate", now)):
        text = request.GET.get(name)
        moment = parse_datetime(text) if text else default
        if moment is None:
            return api_error(400, f"{name} must be a date and time such as 2026-01-31T12:00:00Z")
        bounds.append(moment if timezone.is_aware(moment) else timezone.make_aware(moment))
    start, end = bounds
    if start > end:
        return api_error(400, "Start date must be before End Date")
    return JsonResponse(metrics_aggregate(metrics, start=start, end=end, aggregation=aggregation))
