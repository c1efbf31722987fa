"""Kestra's flow endpoints: /api/v1/flows."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from accounts.access import flow_for_user, namespace_for_new_flow, namespace_for_user
from accounts.audit import audit_flow_created, audit_flow_deleted, audit_flow_saved
from accounts.models import Role
from accounts.permissions import visible
from flowsite.api import api_error, api_view, flow_invalid_response, request_text
from flowsite.query_filters import (
    FilterField,
    FilterInvalid,
    constant_field,
    filter_condition,
    paged,
    search_text_field,
    sorted_by,
    text_field,
)
from flowsite.values import format_instant

from .language import FlowInvalid, flow_documents, parse_flow, parse_new_flow
from .models import Flow, FlowExists
from .process_check import process_runner_check
from .schema import flow_schema


def flow_json(flow: Flow, *, source: bool = True) -> dict[str, Any]:
    """Kestra's Flow (with ``source``: FlowWithSource), as its clients read it."""
    try:
        definition = flow.definition
    except FlowInvalid:  # saved before the language refused it: still listed, never a 500
        return {
            "id": flow.flow_id,
            "namespace": flow.namespace,
            "revision": flow.revision,
            "disabled": False,
            "draft": False,
            "deleted": flow.deleted_at is not None,
            "tasks": [],
            "updated": format_instant(flow.updated_at),
            **({"source": flow.source} if source else {}),
        }
    body = definition.model_dump(by_alias=True, exclude_defaults=True, mode="json")
    body.update(
        {
            "id": flow.flow_id,
            "namespace": flow.namespace,
            "revision": flow.revision,
            "description": flow.description or None,
            "labels": [{"key": str(k), "value": str(v)} for k, v in definition.labels.items()],
            "variables": definition.variables,
            "disabled": definition.disabled,
            "draft": False,  # Flowsite has no draft revisions
            "deleted": flow.deleted_at is not None,
            "tasks": [
                task.model_dump(by_alias=True, exclude_defaults=True, mode="json")
                for task in definition.tasks
            ],
            "updated": format_instant(flow.updated_at),
        }
    )
    if source:
        body["source"] = flow.source
    return body


# Kestra's filters on flows (filters[field][OPERATION]=value).
FLOW_FILTERS: dict[str, FilterField] = {
    "namespace": text_field("namespace"),
    "flowId": text_field("flow_id"),
    "q": search_text_field("flow_id", "namespace", "description"),
    "scope": constant_field({"USER": True, "SYSTEM": False}),
}


def _yaml_body(request: HttpRequest) -> str | HttpResponse:
    text = request_text(request)
    if text is None:
        return api_error(400, "The request body must be UTF-8 encoded YAML")
    if not text.strip():
        return api_error(400, "The request body is empty: send the flow's YAML")
    return text


FLOW_SORTS = {"id": "flow_id", "namespace": "namespace", "updated": "updated_at"}


@api_view(("POST",))
def flows_create(request: HttpRequest) -> HttpResponse:
    source = _yaml_body(request)
    if isinstance(source, HttpResponse):
        return source
    try:
        namespace_for_new_flow(request.user, parse_flow(source).namespace)
        flow = Flow.save_source(source, author=request.user, create_only=True)
    except FlowInvalid as exc:
        return flow_invalid_response(exc)
    except FlowExists as exc:
        return api_error(409, f"Flow {exc.flow} already exists: use PUT to update it")
    audit_flow_created(actor=request.user, flow=flow)
    return JsonResponse(flow_json(flow), status=200)


@api_view(("GET", "PUT", "DELETE"))
def flow_item(request: HttpRequest, namespace: str, flow_id: str) -> HttpResponse:
    need = Role.VIEWER if request.method == "GET" else Role.EDITOR
    flow = flow_for_user(request.user, namespace, flow_id, need=need)
    if request.method == "GET":
        return JsonResponse(flow_json(flow))
    if request.method == "DELETE":
        flow.soft_delete()
        audit_flow_deleted(actor=request.user, flow=flow)
        return HttpResponse(status=204)
    source = _yaml_body(request)
    if isinstance(source, HttpResponse):
        return source
    try:
        flow = Flow.save_source(source, author=request.user, expect=(namespace, flow_id))
    except FlowInvalid as exc:
        return flow_invalid_response(exc)
    audit_flow_saved(actor=request.user, flow=flow)
    return JsonResponse(flow_json(flow))


@require_GET
@cache_control(public=True, max_age=300)
def flow_schema_view(request: HttpRequest) -> HttpResponse:
    """Public: the language is no secret, and VS Code fetches it without credentials."""
    return JsonResponse(flow_schema())


@api_view(("POST",))
def flows_validate(request: HttpRequest) -> HttpResponse:
    """Kestra's validate endpoint: what is wrong with each flow of the body (one, or
    several separated by ``---``), without saving anything."""
    source = _yaml_body(request)
    if isinstance(source, HttpResponse):
        return source
    return JsonResponse(
        [_validation(index, text) for index, text in enumerate(flow_documents(source) or [source])],
        safe=False,
    )


def _validation(index: int, source: str) -> dict[str, Any]:
    try:
        definition = parse_new_flow(source)
        process_runner_check(definition, source)
    except FlowInvalid as exc:
        return {
            "index": index,
            "constraints": "\n".join(str(e) for e in exc.errors),
            "errors": [e.as_dict() for e in exc.errors],
        }
    return {"index": index, "flow": definition.id, "namespace": definition.namespace, "errors": []}


@api_view(("POST",))
def flows_bulk(request: HttpRequest) -> HttpResponse:
    """Kestra's bulk import: several flows separated by ``---``, each created or updated
    as its own PUT would be, all or none. A flow that does not validate names its place."""
    source = _yaml_body(request)
    if isinstance(source, HttpResponse):
        return source
    documents = flow_documents(source)
    with transaction.atomic():
        saved = []
        for index, text in enumerate(documents):
            try:
                definition = parse_flow(text)
                existing = Flow.objects.live().filter(
                    namespace=definition.namespace, flow_id=definition.id
                )
                if existing.exists():
                    flow_for_user(
                        request.user, definition.namespace, definition.id, need=Role.EDITOR
                    )
                else:
                    namespace_for_new_flow(request.user, definition.namespace)
                flow = Flow.save_source(text, author=request.user)
            except FlowInvalid as exc:
                transaction.set_rollback(True)
                return api_error(
                    422,
                    f"Flow {index + 1} of {len(documents)} is invalid: {exc.errors[0]}",
                    errors=[e.as_dict() for e in exc.errors],
                )
            (audit_flow_saved if flow.revision > 1 else audit_flow_created)(
                actor=request.user, flow=flow
            )
            saved.append(flow)
    return JsonResponse([flow_json(flow) for flow in saved], safe=False)


@api_view(("GET",))
def flows_of_namespace(request: HttpRequest, namespace: str) -> HttpResponse:
    """Kestra's ``GET /flows/{namespace}``: the namespace's flows (not those under it)."""
    namespace_for_user(request.user, namespace)
    flows = Flow.objects.live().filter(namespace=namespace).order_by("flow_id")
    return JsonResponse([flow_json(flow, source=False) for flow in flows], safe=False)


@api_view(("GET",))
def flows_search(request: HttpRequest) -> HttpResponse:
    """Kestra's ``GET /flows/search``: the flows one may see, by ``filters[...]``."""
    flows = visible(Flow.objects.live(), request.user).order_by("namespace", "flow_id")
    try:
        flows = sorted_by(
            flows.filter(filter_condition(request.GET, FLOW_FILTERS)), request, FLOW_SORTS
        )
        found, total = paged(flows, request)
    except FilterInvalid as exc:
        return api_error(400, str(exc))
    return JsonResponse({"results": [flow_json(f, source=False) for f in found], "total": total})


@api_view(("GET",))
def flows_distinct_namespaces(request: HttpRequest) -> HttpResponse:
    """The namespaces holding flows one may see, ``q`` narrowing them by a part of the name."""
    flows = visible(Flow.objects.live(), request.user)
    if q := request.GET.get("q", "").strip():
        flows = flows.filter(namespace__icontains=q)
    namespaces = flows.order_by("namespace").values_list("namespace", flat=True).distinct()
    return JsonResponse(list(namespaces), safe=False)
