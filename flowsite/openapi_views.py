"""The OpenAPI document at Kestra's path, and a page that shows it to people."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import yaml
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from .openapi import openapi_document

METHOD_ORDER = ("get", "post", "put", "patch", "delete")


@require_GET
@cache_control(public=True, max_age=300)
def swagger_yaml(request: HttpRequest) -> HttpResponse:
    """Public, as the flow schema is: what the API looks like is no secret."""
    text = yaml.safe_dump(openapi_document(), sort_keys=False, allow_unicode=True)
    return HttpResponse(text, content_type="application/yaml; charset=utf-8")


def _groups(document: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    """The tenant-less paths by their first segment, each with its operations in order.
    The tenant paths are the same and said once at the top of the page."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for path, operations in document["paths"].items():
        if path.startswith("/api/v1/{tenant}/"):
            continue
        for method in sorted(operations, key=METHOD_ORDER.index):
            operation = operations[method]
            groups[operation["tags"][0]].append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": operation["summary"],
                    "description": operation.get("description", ""),
                    "parameters": [p for p in operation["parameters"] if p["in"] == "query"],
                    "anchor": operation["operationId"],
                }
            )
    return sorted(groups.items())


@login_required
@require_GET
def api_docs(request: HttpRequest) -> HttpResponse:
    document = openapi_document()
    return render(
        request,
        "flowsite/api_docs.html",
        {"info": document["info"], "groups": _groups(document)},
    )
