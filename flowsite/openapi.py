"""The OpenAPI document of Flowsite's REST API, read from the URLs it serves.

Kestra serves its own at ``/swagger/kestra.yml``; Flowsite serves this one there. It is
built from the URL patterns under ``/api/v1/`` at the time it is asked for, so an
endpoint any app adds is described without a list kept by hand: its path, the methods
``api_view`` allows, its docstring, and the query parameters named below. Each path is
described twice, as Flowsite serves it: under Kestra 1.x's tenant (``{tenant}``, only
``main``) and without it.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any

from executions.api import EXECUTION_FILTERS
from executions.api_logs import LOG_FILTERS
from flows.api import FLOW_FILTERS

from .api_paths import TENANT, api_routes

# Views that are not ``api_view``s and so do not say their methods themselves.
OTHER_METHODS = {
    "flows.api.flow_schema_view": ("GET",),
    "triggers.api.webhook": ("GET", "POST", "PUT"),
}
# One pattern that serves two of Kestra's paths, told apart by their method.
SPLIT_ROUTES = {
    "executions/{first}/{second}": (
        ("executions/{namespace}/{id}", "POST", "Start an execution of the flow"),
        ("executions/{executionId}/kill", "DELETE", "Kill an execution (older path: 202)"),
    ),
}
PAGE = (
    ("page", "integer", "Page number, from 1"),
    ("size", "integer", "Page size (10)"),
    ("sort", "string", "field:asc or field:desc, repeated"),
)


def _filters(fields: dict[str, Any]) -> tuple[tuple[str, str, str], ...]:
    names = ", ".join(fields)
    return (
        (
            "filters",
            "object",
            f"Kestra's filters: filters[field][OPERATION]=value, field one of {names}; "
            "a label as filters[labels][EQUALS][key]=value; groups as filters[or][0][...]",
        ),
    )


QUERY: dict[str, tuple[tuple[str, str, str], ...]] = {
    "executions": (
        ("namespace", "string", "The flow's namespace"),
        ("flowId", "string", "The flow's id"),
        *PAGE,
    ),
    "executions/search": (*PAGE, *_filters(EXECUTION_FILTERS)),
    "executions/{}/{}": (("labels", "string", "key:value, repeated: labels of the new execution"),),
    "executions/{}/replay": (("taskRunId", "string", "Replay from this task run"),),
    "executions/{}/actions/replay": (("taskRunId", "string", "Replay from this task run"),),
    "executions/{}/file": (("path", "string", "kestra:///... URI of the file"),),
    "executions/{}/file/metas": (("path", "string", "kestra:///... URI"),),
    "logs/search": (*PAGE, *_filters(LOG_FILTERS)),
    "flows/search": (*PAGE, *_filters(FLOW_FILTERS)),
    "flows/distinct-namespaces": (("q", "string", "A part of the namespace"),),
    "namespaces/search": (("q", "string", "A part of the namespace"), *PAGE[:2]),
    "triggers/search": PAGE[:2],
    "environments": (
        ("state", "string", "READY, BUILDING, FAILED or RETIRED, repeated (READY and BUILDING)"),
        *PAGE[:2],
    ),
}
for _route in ("logs/{}", "logs/{}/download", "logs/{}/follow"):
    QUERY[_route] = (
        ("minLevel", "string", "TRACE, DEBUG, INFO, WARN or ERROR: this level and above"),
        ("taskRunId", "string", "Lines of this task run"),
        ("taskId", "string", "Lines of this task"),
        ("attempt", "integer", "Lines of this attempt, counted from 0"),
    )
QUERY["logs/{}"] += (
    ("page", "integer", "Flowsite: this page of the lines (from 1); all of them without paging"),
    ("size", "integer", "Flowsite: lines per page (10 by default, 10000 at most)"),
    ("afterId", "integer", "Flowsite: the lines after this one, as the Link header's next"),
)
QUERY["logs/search"] += (("q", "string", "Kestra's legacy filters[q]: words of the message"),)
CONTENT = {
    "executions/{}/follow": "text/event-stream",
    "logs/{}/follow": "text/event-stream",
    "logs/{}/download": "text/plain",
    "executions/{}/file": "application/octet-stream",
}


_PATH_PARAMETER = re.compile(r"\{(\w+)\}")


def _shape(path: str) -> str:
    """The path with its parameters unnamed, as QUERY and CONTENT are keyed."""
    return _PATH_PARAMETER.sub("{}", path)


def _methods(view: Callable[..., Any]) -> tuple[str, ...]:
    named = f"{view.__module__}.{view.__name__}"
    return tuple(getattr(view, "api_methods", None) or OTHER_METHODS.get(named, ("GET",)))


def _operations(route: str, view: Callable[..., Any]) -> Iterator[tuple[str, str, str, str]]:
    """(path, method, summary, description) of each operation the pattern serves."""
    if route in SPLIT_ROUTES:
        for path, method, summary in SPLIT_ROUTES[route]:
            yield path, method, summary, ""
        return
    doc = inspect.getdoc(view) or ""
    summary = doc.split("\n\n")[0].replace("\n", " ") if doc else ""
    for method in _methods(view):
        yield route, method, summary or f"{method} /api/v1/{route}", doc


def _operation(path: str, method: str, summary: str, doc: str, tenant: bool) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = []
    if tenant:
        parameters.append(
            {
                "name": "tenant",
                "in": "path",
                "required": True,
                "schema": {"type": "string", "enum": [TENANT]},
                "description": "Kestra 1.x's tenant: Flowsite has one, main",
            }
        )
    for name in _PATH_PARAMETER.findall(path):
        parameters.append(
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        )
    for name, kind, description in QUERY.get(_shape(path), ()):
        parameters.append(
            {"name": name, "in": "query", "schema": {"type": kind}, "description": description}
        )
    content_type = CONTENT.get(_shape(path), "application/json")
    operation: dict[str, Any] = {
        "tags": [path.split("/")[0]],
        "summary": summary,
        "operationId": _operation_id(method, path, tenant),
        "parameters": parameters,
        "responses": {
            "2XX": {"description": "Done", "content": {content_type: {"schema": {}}}},
            "default": {
                "description": "An error: 400/422 what is wrong with the request, 401 no "
                "credentials, 403 or 404 not allowed, 404 not found, 405 wrong method",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            },
        },
    }
    if doc and doc != summary:
        operation["description"] = doc
    return operation


def _operation_id(method: str, path: str, tenant: bool) -> str:
    words = re.sub(r"[^A-Za-z0-9]+", "_", path).strip("_")
    return f"{method.lower()}_{words}" + ("_tenant" if tenant else "")


@cache
def openapi_document() -> dict[str, Any]:
    """The document, built once per process: the URLs do not change while it runs."""
    paths: dict[str, dict[str, Any]] = {}
    for route, view in api_routes():
        for path, method, summary, doc in _operations(route, view):
            for tenant in (True, False):
                served = f"/api/v1/{{tenant}}/{path}" if tenant else f"/api/v1/{path}"
                operation = _operation(path, method, summary, doc, tenant)
                paths.setdefault(served, {})[method.lower()] = operation
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Flowsite",
            "version": "1",
            "description": "Kestra's REST API as Flowsite serves it. Every path is served "
            f"with Kestra 1.x's tenant ({TENANT}) and without it. Errors are JSON: "
            '{"message": "..."}.',
        },
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["message"],
                    "properties": {"message": {"type": "string"}},
                }
            },
            "securitySchemes": {
                "basicAuth": {"type": "http", "scheme": "basic"},
                "bearerAuth": {"type": "http", "scheme": "bearer"},
            },
        },
        "security": [{"basicAuth": []}, {"bearerAuth": []}],
    }
