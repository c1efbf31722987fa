"""Kestra's trigger endpoints: the webhook URL, and /api/v1/triggers to list, toggle and
backfill."""

from __future__ import annotations

import base64
import hmac
from datetime import datetime
from typing import Any

from django.db.models import Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from accounts.access import flow_for_user, trigger_for_user
from accounts.audit import audit_trigger_changed
from accounts.models import Role
from accounts.permissions import visible
from executions.api_json import execution_json
from flows.language.triggers import (
    ConditionContext,
    ConditionInvalid,
    WebhookTrigger,
    conditions_hold,
)
from flows.models import Flow
from flowsite.api import api_error, api_view, request_text
from flowsite.bounded import load_json, unstorable

from .clock import BackfillInvalid, backfill_create
from .models import WEBHOOK, TriggerState
from .states import TriggerStartFailed, trigger_start

MAX_PAGE_SIZE = 1000


@csrf_exempt  # called by other systems; the key in the URL is the credential
@require_http_methods(["GET", "POST", "PUT"])
def webhook(request: HttpRequest, namespace: str, flow_id: str, key: str) -> HttpResponse:
    """Start the flow whose enabled Webhook trigger has this key. Whatever is wrong (no
    such flow, no such key, disabled) gets the same 404, so the URL tells a guesser nothing."""
    found = _webhook_for(namespace, flow_id, key)
    if found is None:
        return api_error(404, "Not found")
    state, flow, trigger = found
    variables = {
        "body": _body(request),
        "headers": {name.lower(): [value] for name, value in request.headers.items()},
        "parameters": {name: request.GET.getlist(name) for name in request.GET},
    }
    if odd := unstorable(variables):
        return api_error(400, f"The request holds {odd}, which cannot be stored")
    if trigger.conditions:
        context = ConditionContext(
            variables={
                "trigger": variables,
                "flow": {"id": flow.flow_id, "namespace": flow.namespace},
                "labels": flow.current_revision.definition.labels,
            },
            flow_namespace=flow.namespace,
            flow_id=flow.flow_id,
        )
        try:
            if not conditions_hold(trigger.conditions, context):
                return HttpResponse(status=204)  # as Kestra: heard, nothing started
        except ConditionInvalid as exc:
            return api_error(422, f"The webhook's conditions could not be decided: {exc}")
    try:
        execution = trigger_start(
            state=state, flow=flow, variables=variables, inputs=trigger.inputs
        )
    except TriggerStartFailed as exc:
        return api_error(422, f"The execution could not start: {exc}")
    assert execution is not None  # without a key a trigger always starts one
    return JsonResponse({**execution_json(execution), "trigger": execution.trigger})


def _webhook_for(
    namespace: str, flow_id: str, key: str
) -> tuple[TriggerState, Flow, WebhookTrigger] | None:
    flow = Flow.objects.live().filter(namespace=namespace, flow_id=flow_id).first()
    if flow is None:
        return None
    for state in TriggerState.objects.filter(namespace=namespace, flow_id=flow_id, type=WEBHOOK):
        trigger = state.trigger
        assert isinstance(trigger, WebhookTrigger)
        if hmac.compare_digest(trigger.key.encode(), key.encode()) and state.is_enabled:
            return state, flow, trigger
    return None


def _body(request: HttpRequest) -> Any:
    """As Kestra: a JSON object or array parsed, other text as text, bytes in base64."""
    raw = request.body
    if not raw:
        return None
    text = request_text(request)
    if text is None:
        return base64.b64encode(raw).decode("ascii")
    try:
        value = load_json(text)
    except ValueError:  # not JSON, or JSON too deep or too big to read: kept as text
        return text
    return value if isinstance(value, dict | list) else text


@api_view(("GET",))
def triggers_search(request: HttpRequest) -> HttpResponse:
    """GET /api/v1/triggers/search?namespace=&flowId=&page=&size= over what the user sees."""
    states = visible(TriggerState.objects.all(), request.user)
    if namespace := request.GET.get("namespace"):
        states = states.filter(Q(namespace=namespace) | Q(namespace__startswith=namespace + "."))
    if flow_id := request.GET.get("flowId"):
        states = states.filter(flow_id=flow_id)
    try:
        page = max(int(request.GET.get("page", 1)), 1)
        size = min(max(int(request.GET.get("size", 10)), 1), MAX_PAGE_SIZE)
    except ValueError:
        return api_error(400, "page and size must be whole numbers")
    rows = states[(page - 1) * size : page * size]
    return JsonResponse({"results": [s.as_json() for s in rows], "total": states.count()})


@api_view(("GET",))
def triggers_of_flow(request: HttpRequest, namespace: str, flow_id: str) -> HttpResponse:
    flow_for_user(request.user, namespace, flow_id)
    states = TriggerState.objects.filter(namespace=namespace, flow_id=flow_id)
    return JsonResponse({"results": [s.as_json() for s in states], "total": states.count()})


@api_view(("PUT",))
def trigger_update(request: HttpRequest) -> HttpResponse:
    """PUT /api/v1/triggers with Kestra's trigger body: ``disabled`` toggles it, a
    ``backfill`` {start, end, labels} runs a schedule over past dates."""
    try:
        body = load_json(request_text(request) or "")
    except ValueError:
        return api_error(400, "The body must be a JSON trigger: {namespace, flowId, triggerId}")
    if not isinstance(body, dict) or not all(
        isinstance(body.get(k), str) for k in ("namespace", "flowId", "triggerId")
    ):
        return api_error(400, "The body must name the trigger: namespace, flowId and triggerId")
    namespace, flow_id, trigger_id = body["namespace"], body["flowId"], body["triggerId"]
    _, state = trigger_for_user(request.user, namespace, flow_id, trigger_id, need=Role.EDITOR)
    where = {"namespace": namespace, "flow_id": flow_id, "trigger_id": trigger_id}
    if isinstance(body.get("disabled"), bool) and body["disabled"] != state.disabled:
        state.set_disabled(body["disabled"])
        action = "disabled" if state.disabled else "enabled"
        audit_trigger_changed(actor=request.user, action=action, **where)
    if body.get("backfill"):
        try:
            _backfill_from_json(state, body["backfill"], request.user)
        except (BackfillInvalid, ValueError, TypeError) as exc:
            return api_error(422, f"Invalid backfill: {exc}")
        audit_trigger_changed(actor=request.user, action="backfilled", **where)
    return JsonResponse(state.as_json())


def _backfill_from_json(state: TriggerState, backfill: Any, user: Any) -> None:
    if not isinstance(backfill, dict) or not backfill.get("start"):
        raise ValueError("it needs a start date")
    now = timezone.now()
    start = _aware(datetime.fromisoformat(str(backfill["start"])))
    end = _aware(datetime.fromisoformat(str(backfill["end"]))) if backfill.get("end") else now
    labels = backfill.get("labels") or []
    if isinstance(labels, list):
        labels = {str(i["key"]): str(i.get("value", "")) for i in labels}
    backfill_create(state=state, start=start, end=end, labels=dict(labels), user=user, now=now)


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"{value.isoformat()} needs a time zone, e.g. 2024-01-01T00:00:00Z")
    return value
