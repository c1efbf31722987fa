"""Steering an execution from the page and from Kestra's REST paths: restart a failed
one, replay from a chosen task into a new one, resume a paused one. Runners of the
execution's namespace may; others get 404 or 403 like everywhere else."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from accounts.audit import audit_execution_steered
from accounts.models import Role
from accounts.permissions import require
from flowsite.api import api_error, api_view

from .engine import NotAllowed, execution_replay, execution_restart, execution_resume
from .models import Execution


def _execution(request: HttpRequest, execution_id: str) -> Execution:
    execution = get_object_or_404(Execution, pk=execution_id)
    require(request.user, Role.VIEWER, execution.namespace, not_found="Execution not found")
    require(request.user, Role.RUNNER, execution.namespace)
    return execution


def _restart(request: HttpRequest, execution: Execution) -> Execution:
    execution_restart(execution_id=execution.pk)
    audit_execution_steered(actor=request.user, execution=execution, action="restarted")
    return execution


def _replay(request: HttpRequest, execution: Execution, task_run_id: str | None) -> Execution:
    replay = execution_replay(
        execution_id=execution.pk, task_run_id=task_run_id or None, user=request.user
    )
    audit_execution_steered(
        actor=request.user, execution=replay, action="replayed", summary=f"from {execution.pk}"
    )
    return replay


def _resume(request: HttpRequest, execution: Execution) -> Execution:
    execution_resume(execution_id=execution.pk)
    audit_execution_steered(actor=request.user, execution=execution, action="resumed")
    return execution


@login_required
@require_POST
def execution_restart_view(request: HttpRequest, execution_id: str) -> HttpResponse:
    execution = _execution(request, execution_id)
    try:
        _restart(request, execution)
    except NotAllowed as exc:
        messages.error(request, str(exc))
    return redirect(execution)


@login_required
@require_POST
def execution_replay_view(request: HttpRequest, execution_id: str) -> HttpResponse:
    execution = _execution(request, execution_id)
    try:
        replay = _replay(request, execution, request.POST.get("task_run_id"))
    except NotAllowed as exc:
        messages.error(request, str(exc))
        return redirect(execution)
    return redirect(replay)


@login_required
@require_POST
def execution_resume_view(request: HttpRequest, execution_id: str) -> HttpResponse:
    execution = _execution(request, execution_id)
    try:
        _resume(request, execution)
    except NotAllowed as exc:
        messages.error(request, str(exc))
    return redirect(execution)


def _api_steer(request: HttpRequest, execution_id: str, action: str) -> HttpResponse:
    from .api import execution_json

    execution = Execution.objects.filter(pk=execution_id).first()
    not_found = f"Execution {execution_id} not found"
    if execution is None:
        return api_error(404, not_found)
    require(request.user, Role.VIEWER, execution.namespace, not_found=not_found)
    require(request.user, Role.RUNNER, execution.namespace)
    try:
        if action == "restart":
            result = _restart(request, execution)
        elif action == "replay":
            result = _replay(request, execution, request.GET.get("taskRunId"))
        else:
            result = _resume(request, execution)
    except NotAllowed as exc:
        return api_error(409, str(exc))
    result.refresh_from_db()
    return JsonResponse(execution_json(result))


@api_view(("POST",))
def api_execution_restart(request: HttpRequest, execution_id: str) -> HttpResponse:
    return _api_steer(request, execution_id, "restart")


@api_view(("POST",))
def api_execution_replay(request: HttpRequest, execution_id: str) -> HttpResponse:
    return _api_steer(request, execution_id, "replay")


@api_view(("POST",))
def api_execution_resume(request: HttpRequest, execution_id: str) -> HttpResponse:
    return _api_steer(request, execution_id, "resume")
