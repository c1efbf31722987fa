"""Kestra's KV endpoints.

``GET /api/v1/namespaces/{ns}/kv`` (its entries), ``.../kv/inheritance`` (its own and its
parents'), ``GET/PUT/DELETE .../kv/{key}``, ``DELETE .../kv`` with ``{"keys": [...]}``,
and ``GET /api/v1/kv`` (entries of every namespace one may see, paged, with Kestra's
``filters[namespace][EQUALS]=...``). A PUT's body is the value: JSON typed by its shape
(``"text"``, ``42``, ``true``, ``{...}``), or an unquoted date, instant or duration; the
``ttl`` header (ISO-8601) and the ``description`` header go with it. Editors read and
write a namespace's KV store; others are answered 404, as for anything out of sight.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse

from accounts.access import namespace_for_user
from accounts.models import Role
from accounts.permissions import may, visible
from flowsite.api import api_error, api_view, request_text
from flowsite.bounded import load_json
from flowsite.values import format_instant, parse_duration

from .kv import (
    KVError,
    KVMissing,
    kv_delete,
    kv_entry_json,
    kv_from_text,
    kv_inherited,
    kv_keys,
    kv_set,
    kv_value,
)
from .models import KeyValue

KV_ROLE = Role.EDITOR  # who reads and writes a namespace's KV store
PAGE_SIZE_MAX = 1000


@api_view(("GET", "DELETE"))
def kv_list(request: HttpRequest, namespace: str) -> HttpResponse:
    namespace_for_user(request.user, namespace, need=KV_ROLE)
    if request.method == "GET":
        return JsonResponse([kv_entry_json(e) for e in kv_keys(namespace)], safe=False)
    text = request_text(request) or ""
    try:
        body = load_json(text)
    except ValueError as exc:
        return api_error(400, f'The body must be JSON such as {{"keys": ["a", "b"]}}: {exc}')
    keys = body.get("keys") if isinstance(body, dict) else None
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        return api_error(400, 'The body must be {"keys": [...]}, a list of key names')
    deleted = []
    for key in keys:
        try:
            if kv_delete(namespace, key, user=request.user):
                deleted.append(key)
        except KVError as exc:
            return api_error(400, str(exc))
    return JsonResponse({"keys": deleted})


@api_view(("GET",))
def kv_inheritance(request: HttpRequest, namespace: str) -> HttpResponse:
    namespace_for_user(request.user, namespace, need=KV_ROLE)
    return JsonResponse([kv_entry_json(e) for e in kv_inherited(namespace)], safe=False)


@api_view(("GET", "PUT", "DELETE"))
def kv_item(request: HttpRequest, namespace: str, key: str) -> HttpResponse:
    namespace_for_user(request.user, namespace, need=KV_ROLE)
    try:
        if request.method == "GET":
            entry = kv_value(namespace, key)
            return JsonResponse(
                {
                    "type": entry.type,
                    "value": entry.value,
                    "revision": entry.revision,
                    "updated": format_instant(entry.updated_at),
                }
            )
        if request.method == "DELETE":
            return JsonResponse(kv_delete(namespace, key, user=request.user), safe=False)
        return _put(request, namespace, key)
    except KVMissing as exc:
        return api_error(404, str(exc))
    except KVError as exc:
        return api_error(400, str(exc))


def _put(request: HttpRequest, namespace: str, key: str) -> HttpResponse:
    text = request_text(request)
    if text is None:
        return api_error(400, "The value must be UTF-8 text")
    ttl_header = request.headers.get("ttl")
    try:
        ttl = parse_duration(ttl_header) if ttl_header else None
    except ValueError as exc:
        return api_error(400, f"The ttl header {ttl_header!r} is not an ISO-8601 duration: {exc}")
    typed = kv_from_text(text)
    kv_set(
        namespace=namespace,
        key=key,
        typed=typed,
        ttl=ttl,
        description=request.headers.get("description"),
        user=request.user,
    )
    return HttpResponse(status=200)


@api_view(("GET",))
def kv_search(request: HttpRequest) -> HttpResponse:
    """Every live entry of the namespaces the user may see (Editor), Kestra's paging."""
    rows: Any = visible(KeyValue.objects.live().order_by("namespace", "key"), request.user)
    for name, value in request.GET.items():
        if not name.startswith("filters["):
            continue
        field, _, operation = name[len("filters[") :].rstrip("]").partition("][")
        try:
            rows = _filtered(rows, field, operation, str(value))
        except ValueError as exc:
            return api_error(400, f"{name}: {exc}")
    try:
        page = max(int(request.GET.get("page", 1)), 1)
        size = min(max(int(request.GET.get("size", 100)), 1), PAGE_SIZE_MAX)
    except ValueError:
        return api_error(400, "page and size must be whole numbers")
    allowed = [row for row in rows if _may_read(request, row.namespace)]
    chunk = allowed[(page - 1) * size : page * size]
    return JsonResponse({"results": [kv_entry_json(e) for e in chunk], "total": len(allowed)})


def _may_read(request: HttpRequest, namespace: str) -> bool:
    return may(request.user, KV_ROLE, namespace)


def _filtered(rows: Any, field: str, operation: str, value: str) -> Any:
    column = {"namespace": "namespace", "key": "key", "q": "key"}.get(field)
    if column is None:
        raise ValueError("filter on namespace, key or q")
    values = [v for v in value.split(",") if v]
    lookups = {
        "EQUALS": f"{column}",
        "NOT_EQUALS": f"{column}",
        "STARTS_WITH": f"{column}__startswith",
        "PREFIX": f"{column}__startswith",
        "CONTAINS": f"{column}__contains",
        "IN": f"{column}__in",
        "REGEX": f"{column}__regex",
    }
    if field == "q":
        operation = "CONTAINS"
    if operation not in lookups:
        raise ValueError(f"the operation {operation!r} is not one of {', '.join(lookups)}")
    argument: Any = values if operation == "IN" else value
    if operation == "PREFIX" and column == "namespace":  # the namespace or one inside it
        return rows.filter(namespace=value) | rows.filter(namespace__startswith=value + ".")
    if operation == "NOT_EQUALS":
        return rows.exclude(**{lookups[operation]: argument})
    return rows.filter(**{lookups[operation]: argument})
