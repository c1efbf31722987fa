"""Kestra's execution and log endpoints: /api/v1/executions and /api/v1/logs."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.views.decorators.csrf import csrf_exempt

from accounts.access import execution_for_user, flow_for_user
from accounts.audit import audit_execution_killed, audit_execution_ran
from accounts.models import Role
from accounts.permissions import visible
from flows.inputs import InputsInvalid, inputs_sent
from flows.language import FlowInvalid
from flowsite.api import api_error, api_view, flow_invalid_response

from . import lifecycle
from .lifecycle import execution_start
from .models import Execution, LogLine, TaskRun
from .search import KESTRA_NAMES, execution_search

SEARCH_PAGE_SIZE = 10  # Kestra's default
SEARCH_MAX_PAGE_SIZE = 1000


def _state(state: str, started: Any, ended: Any) -> dict[str, Any]:
    return {
        "current": state,
        "startDate": started.isoformat() if started else None,
        "endDate": ended.isoformat() if ended else None,
        "duration": (ended - started).total_seconds() if started and ended else None,
    }


def task_run_json(run: TaskRun, execution: Execution) -> dict[str, Any]:
    return {
        "id": run.pk,
        "executionId": execution.pk,
        "namespace": execution.namespace,
        "flowId": execution.flow_id,
        "taskId": run.task_id,
        "state": _state(run.state, run.started_at, run.ended_at),
        "attempts": [{"state": _state(run.state, run.started_at, run.ended_at)}]
        if run.attempt
        else [],
        "exitCode": run.exit_code,
        "outputs": run.outputs,
        "error": run.error or None,
    }


def execution_json(execution: Execution) -> dict[str, Any]:
    return {
        "id": execution.pk,
        "namespace": execution.namespace,
        "flowId": execution.flow_id,
        "flowRevision": execution.flow_revision.revision,
        "labels": [{"key": k, "value": v} for k, v in execution.labels.items()],
        "state": _state(execution.state, execution.started_at, execution.ended_at),
        "inputs": execution.inputs,
        "taskRunList": [task_run_json(run, execution) for run in execution.task_runs.all()],
    }


@api_view(("POST",))
def execution_create(request: HttpRequest, namespace: str, flow_id: str) -> HttpResponse:
    flow = flow_for_user(request.user, namespace, flow_id, need=Role.RUNNER)
    try:
        inputs, files = inputs_sent(request)
    except ValueError as exc:
        return api_error(400, str(exc))
    try:
        execution = execution_start(flow=flow, user=request.user, inputs=inputs, files=files)
    except FlowInvalid as exc:
        return flow_invalid_response(exc)
    except InputsInvalid as exc:
        return api_error(422, "Invalid inputs", errors=exc.errors)
    audit_execution_ran(actor=request.user, execution=execution, flow=flow)
    return JsonResponse(execution_json(execution))


@api_view(("GET",))
def execution_item(request: HttpRequest, execution_id: str) -> HttpResponse:
    execution = execution_for_user(request.user, execution_id)
    return JsonResponse(execution_json(execution))


@api_view(("GET",))
def executions_search(request: HttpRequest) -> HttpResponse:
    """Kestra's ``GET /api/v1/executions/search``: the executions the caller may see,
    newest first, filtered like the executions page, one page of ``size`` at a time."""
    search = execution_search(request.GET, KESTRA_NAMES)
    if search.errors:
        return api_error(400, "; ".join(search.errors))
    try:
        page = int(request.GET.get("page", "1"))
        size = int(request.GET.get("size", str(SEARCH_PAGE_SIZE)))
    except ValueError:
        return api_error(400, "page and size must be whole numbers")
    if page < 1 or not 1 <= size <= SEARCH_MAX_PAGE_SIZE:
        return api_error(400, f"page must be 1 or more, size between 1 and {SEARCH_MAX_PAGE_SIZE}")
    executions = search.apply(visible(Execution.objects.all(), request.user))
    found = executions.select_related("flow_revision").prefetch_related("task_runs")
    results = [execution_json(e) for e in found[(page - 1) * size : page * size]]
    return JsonResponse({"results": results, "total": executions.count()})


@csrf_exempt  # each branch authenticates with HTTP Basic, never a cookie
def executions_pair(request: HttpRequest, first: str, second: str) -> HttpResponseBase:
    """POST /executions/{namespace}/{id} starts a run; /executions/{id}/kill kills one."""
    if second == "kill" and request.method != "POST":
        return execution_kill(request, first)
    return execution_create(request, first, second)


@api_view(("DELETE",))
def execution_kill(request: HttpRequest, execution_id: str) -> HttpResponse:
    execution = execution_for_user(request.user, execution_id, need=Role.RUNNER)
    killed = lifecycle.execution_kill(execution_id=execution.pk)
    execution.refresh_from_db(fields=["state"])
    if not killed:
        return api_error(409, f"Execution {execution_id} has already ended ({execution.state})")
    audit_execution_killed(actor=request.user, execution=execution)
    return HttpResponse(status=202)


@api_view(("GET",))
def execution_logs(request: HttpRequest, execution_id: str) -> HttpResponse:
    execution = execution_for_user(request.user, execution_id)
    lines = LogLine.objects.filter(execution=execution).order_by("id")
    if min_level := request.GET.get("minLevel"):
        order = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"]
        if min_level not in order:
            return api_error(400, f"minLevel must be one of {', '.join(order)}")
        lines = lines.filter(level__in=order[order.index(min_level) :])
    payload = [
        {
            "namespace": execution.namespace,
            "flowId": execution.flow_id,
            "executionId": execution.pk,
            "taskId": line.task_id or None,
            "taskRunId": line.task_run_id,
            "timestamp": line.timestamp.isoformat(),
            "level": line.level,
            "stream": line.stream,
            "message": line.message,
        }
        for line in lines
    ]
    return JsonResponse(payload, safe=False)
