"""Kestra 1.x's tenant paths and JSON errors, for everything under /api.

Kestra 1.x puts a tenant in every path: ``/api/v1/{tenant}/flows``; its open-source
edition has one tenant, ``main``, and its clients (kestrapy) always send it. Flowsite
has one tenant too, so ``/api/v1/main/...`` is served as ``/api/v1/...`` before the
URLs are resolved: every endpoint, whichever app adds it, has both paths. Any other
tenant is answered 404.

Under /api a client reads JSON, so no error leaves as one of Django's HTML pages: an
unknown path (404), a wrong method (405), a refused CSRF check (403) or an unexpected
error (500) is rewritten into Kestra's shape, ``{"message": ...}``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.http.response import HttpResponseBase
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve

API_PREFIX = "/api/"
VERSIONED = "/api/v1/"
TENANT = "main"  # Kestra OSS's only tenant
ROUTE_PREFIX = "api/v1/"
_PARAMETER = re.compile(r"<(?:\w+:)?(\w+)>")  # Django's <str:name>
DEFAULT_MESSAGES = {
    400: "Bad request",
    401: "Authentication required",
    403: "Permission denied",
    404: "Not found",
    405: "Method not allowed",
    413: "Request body too large",
    500: "Internal server error: the error is logged on the server",
}


def api_routes() -> Iterator[tuple[str, Callable[..., Any]]]:
    """Each URL pattern under /api/v1/, as ``executions/{executionId}`` and its view."""

    def walk(patterns: list[Any], prefix: str) -> Iterator[tuple[str, Callable[..., Any]]]:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and route.startswith(ROUTE_PREFIX):
                yield _PARAMETER.sub(r"{\1}", route[len(ROUTE_PREFIX) :]), pattern.callback

    yield from walk(get_resolver().url_patterns, "")


@cache
def _resources() -> frozenset[str]:
    """The first segments of the tenant-less paths: flows, executions, logs..."""
    return frozenset(route.split("/")[0] for route, _ in api_routes())


def tenant_stripped(path: str) -> tuple[str, str | None]:
    """``path`` without its tenant segment, and the tenant it named (or None)."""
    if not path.startswith(VERSIONED):
        return path, None
    tenant, slash, rest = path[len(VERSIONED) :].partition("/")
    if not slash:
        return path, None
    return VERSIONED + rest, tenant


def _resolves(path: str) -> bool:
    try:
        resolve(path)
    except Resolver404:
        return False
    return True


def api_error_response(status: int, message: str, path: str) -> JsonResponse:
    # Kestra's error bodies: a message, and a link to what was asked for.
    return JsonResponse(
        {"message": message, "_links": {"self": {"href": path, "templated": False}}},
        status=status,
    )


class ApiPathsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if not request.path_info.startswith(API_PREFIX):
            return self.get_response(request)
        asked = request.path
        stripped, tenant = tenant_stripped(request.path_info)
        if tenant == TENANT:
            script_name = asked[: len(asked) - len(request.path_info)]
            request.path_info, request.path = stripped, script_name + stripped
        elif tenant is not None and tenant not in _resources() and _resolves(stripped):
            return api_error_response(
                404, f"Tenant '{tenant}' not found: Flowsite's only tenant is '{TENANT}'", asked
            )
        response = self.get_response(request)
        return self._as_json(request, response, asked)

    @staticmethod
    def _as_json(request: HttpRequest, response: HttpResponseBase, asked: str) -> HttpResponseBase:
        if response.status_code < 400:
            return response
        if response.get("Content-Type", "").startswith("application/json"):
            return response
        message = DEFAULT_MESSAGES.get(response.status_code, "Request failed")
        if response.status_code == 404:
            message = f"Not found: {request.method} {asked}"
        elif response.status_code == 405:
            message = f"Method {request.method} is not allowed on {asked}"
        elif response.get("Content-Type", "").startswith("text/plain") and not getattr(
            response, "streaming", False
        ):
            text = response.content.decode("utf-8", "replace").strip()  # type: ignore[attr-defined]
            message = text[:500] or message
        replacement = api_error_response(response.status_code, message, asked)
        for header in ("Allow", "WWW-Authenticate", "Retry-After"):
            if header in response:
                replacement[header] = response[header]
        return replacement
