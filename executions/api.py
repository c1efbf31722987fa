"""Kestra's execution endpoints: /api/v1/executions (and /api/v1/main/executions)."""

from __future__ import annotations

import json
import time

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.views.decorators.csrf import csrf_exempt

from accounts.access import execution_for_user, flow_for_user
from accounts.audit import audit_execution_killed, audit_execution_labelled, audit_execution_ran
from accounts.models import Role
from accounts.permissions import visible
from flows.inputs import InputsInvalid, inputs_sent
from flows.language import FlowInvalid
from flowsite.api import api_error, api_view, flow_invalid_response
from flowsite.query_filters import (
    FilterField,
    FilterInvalid,
    constant_field,
    date_field,
    filter_condition,
    labels_field,
    paged,
    search_text_field,
    sorted_by,
    text_field,
    time_range_field,
)

from . import lifecycle
from .api_json import execution_json
from .labels import LabelsInvalid, labels_update
from .lifecycle import execution_start
from .models import TERMINAL_STATES, Execution, State
from .search import KESTRA_NAMES, execution_search

# ?wait=true holds one of the web server's threads: for so long at most, then the
# execution is answered as it is.
WAIT_SECONDS = 120
WAIT_POLL_SECONDS = 0.1

# Kestra's filters on executions (filters[field][OPERATION]=value).
EXECUTION_FILTERS: dict[str, FilterField] = {
    "namespace": text_field("namespace"),
    "flowId": text_field("flow_id"),
    "state": text_field("state", upper=tuple(State.values)),
    "labels": labels_field("labels"),
    "startDate": date_field("created_at"),
    "endDate": date_field("ended_at"),
    "timeRange": time_range_field("created_at"),
    "q": search_text_field("id", "namespace", "flow_id"),
    "scope": constant_field({"USER": True, "SYSTEM": False}),
    "kind": constant_field({"NORMAL": True, "TEST": False, "PLAYGROUND": False}),
    "childFilter": constant_field({"MAIN": True, "CHILD": True}),
}

# Kestra's sort=field:asc|desc on executions.
EXECUTION_SORTS = {
    "id": "id",
    "namespace": "namespace",
    "flowId": "flow_id",
    "state.current": "state",
    "state.startDate": "created_at",
    "state.endDate": "ended_at",
    "startDate": "created_at",
    "endDate": "ended_at",
}


def _sent_labels(request: HttpRequest) -> dict[str, str]:
    """Kestra's ``labels=key:value`` query parameters of a new execution."""
    labels = {}
    for label in request.GET.getlist("labels"):
        key, colon, value = label.partition(":")
        if not colon or not key.strip():
            raise ValueError(f"labels: '{label}' must be written key:value")
        labels[key.strip()] = value.strip()
    return labels


@api_view(("POST",))
def execution_create(request: HttpRequest, namespace: str, flow_id: str) -> HttpResponse:
    flow = flow_for_user(request.user, namespace, flow_id, need=Role.RUNNER)
    try:
        inputs, files = inputs_sent(request)
        labels = _sent_labels(request)
    except ValueError as exc:
        return api_error(400, str(exc))
    try:
        execution = execution_start(
            flow=flow, user=request.user, inputs=inputs, files=files, labels=labels
        )
    except FlowInvalid as exc:
        return flow_invalid_response(exc)
    except InputsInvalid as exc:
        return api_error(422, "Invalid inputs", errors=exc.errors)
    audit_execution_ran(actor=request.user, execution=execution, flow=flow)
    page = request.build_absolute_uri(execution.get_absolute_url())
    return JsonResponse({**execution_json(execution), "url": page})


@api_view(("GET",))
def execution_item(request: HttpRequest, execution_id: str) -> HttpResponse:
    execution = execution_for_user(request.user, execution_id)
    return JsonResponse(execution_json(execution))


@api_view(("GET",))
def executions_search(request: HttpRequest) -> HttpResponse:
    """Kestra's ``GET /api/v1/executions/search``: the executions the caller may see,
    newest first, narrowed by Kestra's ``filters[field][OPERATION]=value`` and by the
    older plain parameters (``namespace=``, ``state=``...), one page at a time."""
    search = execution_search(request.GET, KESTRA_NAMES)
    if search.errors:
        return api_error(400, "; ".join(search.errors))
    try:
        condition = filter_condition(request.GET, EXECUTION_FILTERS)
        executions = search.apply(visible(Execution.objects.all(), request.user))
        executions = sorted_by(
            executions.filter(condition)
            .select_related("flow_revision", "parent_task_run")
            .prefetch_related("task_runs__attempts"),
            request,
            EXECUTION_SORTS,
        )
        found, total = paged(executions, request)
    except FilterInvalid as exc:
        return api_error(400, str(exc))
    return JsonResponse({"results": [execution_json(e) for e in found], "total": total})


@csrf_exempt  # each branch authenticates with HTTP Basic, never a cookie
def executions_pair(request: HttpRequest, first: str, second: str) -> HttpResponseBase:
    """POST /executions/{namespace}/{id} starts a run; /executions/{id}/kill kills one."""
    if second == "kill" and request.method != "POST":
        return execution_kill(request, first)
    response = execution_create(request, first, second)
    waits = request.GET.get("wait") == "true"
    if not waits or response.status_code != 200 or not isinstance(response, HttpResponse):
        return response
    # Kestra's ?wait=true: the execution once it has ended. After the creating
    # transaction, which must commit for the worker to see the run at all.
    execution = _ended(json.loads(response.content)["id"])
    return JsonResponse(execution_json(execution))


def _ended(execution_id: str) -> Execution:
    """The execution once it has ended, or as it is after WAIT_SECONDS."""
    deadline = time.monotonic() + WAIT_SECONDS
    running = Execution.objects.filter(pk=execution_id).exclude(state__in=TERMINAL_STATES)
    while running.exists() and time.monotonic() < deadline:
        time.sleep(WAIT_POLL_SECONDS)
    return Execution.objects.select_related("flow_revision", "parent_task_run").get(pk=execution_id)


def _kill(request: HttpRequest, execution_id: str) -> Execution | HttpResponse:
    execution = execution_for_user(request.user, execution_id, need=Role.RUNNER)
    killed = lifecycle.execution_kill(execution_id=execution.pk)
    execution.refresh_from_db()
    if not killed:
        return api_error(409, f"Execution {execution_id} has already ended ({execution.state})")
    audit_execution_killed(actor=request.user, execution=execution)
    return execution


@api_view(("DELETE",))
def execution_kill(request: HttpRequest, execution_id: str) -> HttpResponse:
    """The older ``DELETE /executions/{id}/kill``: 202 and no body."""
    killed = _kill(request, execution_id)
    return killed if isinstance(killed, HttpResponse) else HttpResponse(status=202)


@api_view(("DELETE",))
def execution_kill_action(request: HttpRequest, execution_id: str) -> HttpResponse:
    """Kestra 1.x's ``DELETE /executions/{id}/actions/kill``: the execution as killing
    left it (KILLING, then KILLED once its tasks have stopped)."""
    killed = _kill(request, execution_id)
    if isinstance(killed, HttpResponse):
        return killed
    return JsonResponse(execution_json(killed), status=202)


@api_view(("GET",))
def executions_of_flow(request: HttpRequest) -> HttpResponse:
    """``GET /executions?namespace=&flowId=``: one flow's executions, newest first."""
    namespace, flow_id = request.GET.get("namespace", ""), request.GET.get("flowId", "")
    if not namespace or not flow_id:
        return api_error(400, "namespace and flowId are required")
    flow = flow_for_user(request.user, namespace, flow_id)
    executions = Execution.objects.filter(namespace=flow.namespace, flow_id=flow.flow_id)
    try:
        found, total = paged(
            executions.select_related("flow_revision").prefetch_related("task_runs__attempts"),
            request,
        )
    except FilterInvalid as exc:
        return api_error(400, str(exc))
    return JsonResponse({"results": [execution_json(e) for e in found], "total": total})


@api_view(("POST",))
def execution_labels_set(request: HttpRequest, execution_id: str) -> HttpResponse:
    """Kestra's ``POST /api/v1/executions/{id}/labels``: a JSON list of ``{key, value}``
    added to a terminated execution's labels, or replacing those with the same keys."""
    execution = execution_for_user(request.user, execution_id, need=Role.EDITOR)
    if not execution.is_terminal:
        return api_error(400, "The execution is not terminated")
    try:
        sent = json.loads(request.body or b"null")
    except (ValueError, RecursionError):
        return api_error(400, "The body must be a JSON list of {key, value}")
    if not isinstance(sent, list) or not all(isinstance(item, dict) for item in sent):
        return api_error(400, "The body must be a JSON list of {key, value}")
    before = dict(execution.labels or {})
    try:
        labels = [(_text(item.get("key")), _text(item.get("value"))) for item in sent]
        after = labels_update(execution, labels, replace=False)
    except LabelsInvalid as exc:
        return api_error(400, str(exc))
    audit_execution_labelled(actor=request.user, execution=execution, before=before, after=after)
    return JsonResponse(execution_json(execution))


def _text(value: object) -> str:
    if value is None:
        return ""
    return value.strip() if isinstance(value, str) else json.dumps(value)
