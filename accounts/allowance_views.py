"""Allowed namespaces: which other namespaces may call a namespace's flows and hear its
executions (``accounts.reach``). Managed by the namespace's Admins on its Access page and
under ``/api/v1/namespaces/{namespace}/allowed-namespaces``; every change is audited."""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from flowsite.api import api_error, api_view, request_text

from .access import namespace_for_user
from .access_forms import GrantForm
from .access_views import render_access
from .models import NamespaceAllowance, Role
from .reach import allowance_add, allowance_problem, allowance_remove, allowances_seen


@login_required
@require_POST
def allowance_create(request: HttpRequest, namespace: str) -> HttpResponse:
    namespace_for_user(request.user, namespace, need=Role.ADMIN)
    allowed = request.POST.get("allowed", "").strip()
    problem = allowance_problem(namespace, allowed)
    if problem is None and not allowance_add(
        namespace=namespace, allowed=allowed, actor=request.user
    ):
        problem = f"{allowed} is already allowed on {namespace}"
    if problem is not None:
        form = GrantForm(page_namespace=namespace)
        return render_access(request, namespace, form, error=problem, status=422)
    return redirect("namespace_access", namespace)


@login_required
@require_POST
def allowance_delete(request: HttpRequest, namespace: str, allowed: str) -> HttpResponse:
    namespace_for_user(request.user, namespace, need=Role.ADMIN)
    allowance_remove(namespace=namespace, allowed=allowed, actor=request.user)
    return redirect("namespace_access", namespace)


# --- REST ---------------------------------------------------------------------------


def _as_json(allowance: NamespaceAllowance) -> dict[str, Any]:
    return {
        "namespace": allowance.allowed,
        "on": allowance.namespace,
        "createdBy": allowance.created_by.get_username() if allowance.created_by else None,
        "createdAt": allowance.created_at.isoformat(),
    }


def _listing(namespace: str) -> JsonResponse:
    rows = allowances_seen(namespace)
    return JsonResponse(
        {
            "namespace": namespace,
            "allowedNamespaces": [_as_json(a) for a in rows if a.namespace == namespace],
            "inheritedAllowedNamespaces": [_as_json(a) for a in rows if a.namespace != namespace],
        }
    )


class BadBody(ValueError):
    pass


def _wanted(request: HttpRequest) -> list[str]:
    """The names a PUT of the whole list asks for: ``{"allowedNamespaces": [{"namespace":
    "company.data"}]}`` as Kestra's namespace object has it, or a plain list of names."""
    example = '{"allowedNamespaces": [{"namespace": "company.data"}]}'
    try:
        body = json.loads(request_text(request) or "")
    except ValueError:
        raise BadBody(f"The body must be JSON, e.g. {example}") from None
    items = body.get("allowedNamespaces") if isinstance(body, dict) else body
    if not isinstance(items, list):
        raise BadBody(f"The body must hold a list of namespaces, e.g. {example}")
    names = []
    for item in items:
        name = item.get("namespace") if isinstance(item, dict) else item
        if not isinstance(name, str):
            raise BadBody(f"Each allowed namespace is a name or {{'namespace': name}}: {item!r}")
        names.append(name.strip())
    return list(dict.fromkeys(names))


@api_view(("GET", "PUT"))
def api_allowances(request: HttpRequest, namespace: str) -> HttpResponse:
    """GET the namespaces allowed to reach ``namespace``; PUT the whole list."""
    namespace_for_user(request.user, namespace, need=Role.ADMIN)
    if request.method == "PUT":
        try:
            wanted = _wanted(request)
        except BadBody as exc:
            return api_error(400, str(exc))
        problems = {name: p for name in wanted if (p := allowance_problem(namespace, name))}
        if problems:
            return api_error(422, "; ".join(problems.values()), errors=problems)
        have = set(
            NamespaceAllowance.objects.filter(namespace=namespace).values_list("allowed", flat=True)
        )
        for name in sorted(have - set(wanted)):
            allowance_remove(namespace=namespace, allowed=name, actor=request.user)
        for name in wanted:
            if name not in have:
                allowance_add(namespace=namespace, allowed=name, actor=request.user)
    return _listing(namespace)


@api_view(("PUT", "DELETE"))
def api_allowance_item(request: HttpRequest, namespace: str, allowed: str) -> HttpResponse:
    """PUT allows ``allowed`` on ``namespace`` (201, or 200 when it already was);
    DELETE takes it back (204, or 404 when it was not allowed)."""
    namespace_for_user(request.user, namespace, need=Role.ADMIN)
    if request.method == "DELETE":
        if not allowance_remove(namespace=namespace, allowed=allowed, actor=request.user):
            return api_error(404, f"{allowed} is not allowed on {namespace}")
        return HttpResponse(status=204)
    problem = allowance_problem(namespace, allowed)
    if problem is not None:
        return api_error(422, problem)
    created = allowance_add(namespace=namespace, allowed=allowed, actor=request.user)
    response = _listing(namespace)
    response.status_code = 201 if created else 200
    return response
