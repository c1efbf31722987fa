"""The Process runner's switch of a namespace: a part of its Access page, and Kestra-style
REST path ``/api/v1/namespaces/{namespace}/process-runner``. Its Admins see it; only a
superuser turns it (namespaces/process_runner.py)."""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.access import namespace_for_user
from accounts.models import Role
from flowsite.api import api_error, api_view, request_text
from flowsite.http import RequestUser, is_htmx

from .process_runner import (
    process_runner_by_settings,
    process_runner_granted_on,
    process_runner_switch,
)

ONLY_SUPERUSERS = "Only a superuser may allow or stop the Process runner in a namespace"


def process_runner_state(namespace: str) -> dict[str, Any]:
    """Whether ``namespace`` may use the Process runner, and what allows it."""
    by_settings = process_runner_by_settings(namespace)
    granted_on = process_runner_granted_on(namespace)
    return {
        "namespace": namespace,
        "allowed": by_settings or granted_on is not None,
        "allowedBySettings": by_settings,
        "allowedOn": granted_on,  # this namespace, a parent, or None
        "switchedOn": granted_on == namespace,
    }


def process_runner_context(user: RequestUser, namespace: str) -> dict[str, Any]:
    return {
        "namespace": namespace,
        "state": process_runner_state(namespace),
        "may_switch": bool(user.is_superuser),
    }


def _superuser_of(user: RequestUser, namespace: str) -> None:
    """Like the Teams and Users pages: the switch exists only for superusers, anyone
    else gets 404 (its Admins see its state, not a way to turn it)."""
    if not user.is_superuser:
        raise Http404(ONLY_SUPERUSERS)
    namespace_for_user(user, namespace, need=Role.ADMIN)  # 404 for what cannot be one


@login_required
@require_POST
def process_runner_page_switch(request: HttpRequest, namespace: str) -> HttpResponse:
    _superuser_of(request.user, namespace)
    choice = request.POST.get("allowed")
    if choice not in ("0", "1"):
        return HttpResponse(f"allowed must be 0 or 1, not {choice!r}", status=422)
    process_runner_switch(actor=request.user, namespace=namespace, allowed=choice == "1")
    if is_htmx(request):
        context = process_runner_context(request.user, namespace)
        return render(request, "namespaces/_process_runner.html", context)
    return redirect("namespace_access", namespace)


@api_view(("GET", "PUT"))
def process_runner_api(request: HttpRequest, namespace: str) -> HttpResponse:
    """GET: whether the namespace may use the Process runner (its Viewers may know).
    PUT ``{"allowed": true}``: turn its switch, superusers only."""
    if request.method == "GET":
        namespace_for_user(request.user, namespace)
        return JsonResponse(process_runner_state(namespace))
    _superuser_of(request.user, namespace)
    try:
        body = json.loads(request_text(request) or "null")
    except ValueError as exc:
        return api_error(422, f'The request body is not JSON ({exc}): send {{"allowed": true}}')
    if not isinstance(body, dict) or not isinstance(body.get("allowed"), bool):
        return api_error(422, 'The request body must be {"allowed": true} or {"allowed": false}')
    process_runner_switch(actor=request.user, namespace=namespace, allowed=body["allowed"])
    return JsonResponse(process_runner_state(namespace))
