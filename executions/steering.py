"""Steering an execution from the page and from Kestra's REST paths: restart a failed
one, replay from a chosen task into a new one, resume a paused one. Runners of the
execution's namespace may; others get 404 or 403 like everywhere else."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from accounts.access import execution_for_user
from accounts.audit import audit_execution_steered
from accounts.models import Role
from flows.inputs import InputsInvalid, inputs_sent
from flowsite.api import api_error, api_view

from .api_json import execution_json
from .lifecycle import NotAllowed, execution_replay, execution_restart, execution_resume
from .models import Execution


def _restart(request: HttpRequest, execution: Execution) -> Execution:
    execution_restart(execution_id=execution.pk)
    audit_execution_steered(actor=request.user, execution=execution, action="restarted")
    return execution


def _replay(request: HttpRequest, execution: Execution) -> Execution:
    # The page's form names the task run task_run_id; Kestra's API, taskRunId.
    task_run_id = request.POST.get("task_run_id") or request.GET.get("taskRunId") or None
    replay = execution_replay(execution_id=execution.pk, task_run_id=task_run_id, user=request.user)
    audit_execution_steered(
        actor=request.user, execution=replay, action="replayed", summary=f"from {execution.pk}"
    )
    return replay


def _resume(request: HttpRequest, execution: Execution) -> Execution:
    # A Pause's onResume inputs, sent as a run's inputs are; the page's form posts its
    # CSRF token among them, and a field left empty as nothing.
    inputs, files = inputs_sent(request)
    if inputs.pop("csrfmiddlewaretoken", None) is not None:  # the page's form
        inputs = {name: value for name, value in inputs.items() if value != ""}
    execution_resume(execution_id=execution.pk, inputs=inputs, files=files)
    audit_execution_steered(actor=request.user, execution=execution, action="resumed")
    return execution


Steer = Callable[[HttpRequest, Execution], Execution]


def _page_steer(steer: Steer) -> Callable[[HttpRequest, str], HttpResponseBase]:
    """The page's POST: steer, then show the execution it led to (a replay is a new
    one); a refusal comes back as a message on the execution's page."""

    @login_required
    @require_POST
    def view(request: HttpRequest, execution_id: str) -> HttpResponse:
        execution = execution_for_user(request.user, execution_id, need=Role.RUNNER)
        try:
            return redirect(steer(request, execution))
        except (NotAllowed, ValueError) as exc:
            messages.error(request, str(exc))
            return redirect(execution)
        except InputsInvalid as exc:
            messages.error(request, "; ".join(exc.errors.values()))
            return redirect(execution)

    return view


execution_restart_view = _page_steer(_restart)
execution_replay_view = _page_steer(_replay)
execution_resume_view = _page_steer(_resume)


def _api_steer(steer: Steer) -> Callable[[HttpRequest, str], HttpResponseBase]:
    """Kestra's POST /api/v1/executions/{id}/restart|replay|resume: the execution it led
    to as JSON, 409 when its state does not allow it."""

    @api_view(("POST",))
    def view(request: HttpRequest, execution_id: str) -> HttpResponse:
        execution = execution_for_user(request.user, execution_id, need=Role.RUNNER)
        try:
            result = steer(request, execution)
        except NotAllowed as exc:
            return api_error(409, str(exc))
        except ValueError as exc:
            return api_error(400, str(exc))
        except InputsInvalid as exc:
            return api_error(422, "Invalid inputs", errors=exc.errors)
        result.refresh_from_db()
        return JsonResponse(execution_json(result))

    return view


api_execution_restart = _api_steer(_restart)
api_execution_replay = _api_steer(_replay)
api_execution_resume = _api_steer(_resume)
