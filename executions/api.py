"""Kestra's execution and log endpoints: /api/v1/executions and /api/v1/logs."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from accounts.audit import audit_execution_killed, audit_execution_ran
from accounts.models import Role
from accounts.permissions import require
from flows.language import FlowInvalid
from flows.models import Flow
from flowsite.api import api_error, api_view, flow_invalid_response

from .engine import execution_start
from .models import Execution, LogLine, TaskRun


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
        "taskRunList": [task_run_json(run, execution) for run in execution.task_runs.all()],
    }


def _execution_for(request: HttpRequest, execution_id: str, role: Role) -> Execution:
    execution = Execution.objects.filter(pk=execution_id).select_related("flow_revision").first()
    not_found = f"Execution {execution_id} not found"
    if execution is None:
        raise Http404(not_found)
    require(request.user, Role.VIEWER, execution.namespace, not_found=not_found)
    require(request.user, role, execution.namespace)
    return execution


@api_view(("POST",))
def execution_create(request: HttpRequest, namespace: str, flow_id: str) -> HttpResponse:
    not_found = f"Flow {namespace}.{flow_id} not found"
    require(request.user, Role.VIEWER, namespace, not_found=not_found)
    flow = Flow.objects.live().filter(namespace=namespace, flow_id=flow_id).first()
    if flow is None:
        return api_error(404, not_found)
    require(request.user, Role.RUNNER, namespace)
    try:
        execution = execution_start(flow=flow, user=request.user)
    except FlowInvalid as exc:
        return flow_invalid_response(exc)
    audit_execution_ran(actor=request.user, execution=execution, flow=flow)
    return JsonResponse(execution_json(execution))


@api_view(("GET",))
def execution_item(request: HttpRequest, execution_id: str) -> HttpResponse:
    execution = _execution_for(request, execution_id, Role.VIEWER)
    return JsonResponse(execution_json(execution))


@csrf_exempt  # each branch authenticates with HTTP Basic, never a cookie
def executions_pair(request: HttpRequest, first: str, second: str) -> HttpResponse:
    """POST /executions/{namespace}/{id} starts a run; /executions/{id}/kill kills one."""
    if second == "kill" and request.method != "POST":
        return execution_kill(request, first)
    return execution_create(request, first, second)


@api_view(("DELETE",))
def execution_kill(request: HttpRequest, execution_id: str) -> HttpResponse:
    execution = _execution_for(request, execution_id, Role.RUNNER)
    if not execution.kill():
        return api_error(409, f"Execution {execution_id} has already ended ({execution.state})")
    audit_execution_killed(actor=request.user, execution=execution)
    return HttpResponse(status=202)


@api_view(("GET",))
def execution_logs(request: HttpRequest, execution_id: str) -> HttpResponse:
    execution = _execution_for(request, execution_id, Role.VIEWER)
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
