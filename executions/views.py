from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_POST

from accounts.audit import audit_execution_killed
from accounts.models import Role
from accounts.permissions import abilities, require, visible

from .models import Execution, State


def _get_execution_for_user(
    request: HttpRequest, execution_id: str, role: Role = Role.VIEWER
) -> Execution:
    execution = get_object_or_404(Execution, pk=execution_id)
    require(request.user, Role.VIEWER, execution.namespace, not_found="Execution not found")
    require(request.user, role, execution.namespace)
    return execution


def _context(request: HttpRequest, execution: Execution) -> dict:
    return {"execution": execution, "can": abilities(request.user, execution.namespace)}


@login_required
def executions_list(request: HttpRequest) -> HttpResponse:
    executions = visible(Execution.objects.all(), request.user)
    filters = {k: request.GET.get(k, "") for k in ("namespace", "flow", "state")}
    if filters["namespace"]:
        executions = executions.filter(namespace=filters["namespace"])
    if filters["flow"]:
        executions = executions.filter(flow_id=filters["flow"])
    if filters["state"]:
        executions = executions.filter(state=filters["state"])
    page = Paginator(executions, 50).get_page(request.GET.get("page"))
    context = {"page": page, "filters": filters, "states": State.values}
    return render(request, "executions/list.html", context)


@login_required
def execution_detail(request: HttpRequest, execution_id: str) -> HttpResponse:
    execution = _get_execution_for_user(request, execution_id)
    return render(request, "executions/execution.html", _context(request, execution))


@login_required
def execution_task_runs(request: HttpRequest, execution_id: str) -> HttpResponse:
    execution = _get_execution_for_user(request, execution_id)
    return render(request, "executions/_task_runs.html", _context(request, execution))


@login_required
@require_POST
def execution_kill(request: HttpRequest, execution_id: str) -> HttpResponse:
    execution = _get_execution_for_user(request, execution_id, Role.RUNNER)
    if execution.kill():  # False: it had already ended, so nothing was killed
        audit_execution_killed(actor=request.user, execution=execution)
    return render(request, "executions/_task_runs.html", _context(request, execution))
