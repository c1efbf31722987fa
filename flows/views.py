from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from executions.engine import execution_start

from .language import FlowInvalid
from .language.source import FlowError
from .models import Flow, FlowExists

STARTER = """id: my-flow
namespace: dev
description: A new flow

tasks:
  - id: hello
    type: io.kestra.plugin.scripts.python.Script
    script: |
      print("Hello from Flowsite")
"""


def _get_flow_for_user(request: HttpRequest, namespace: str, flow_id: str) -> Flow:
    # Every logged-in user may see and change every flow until team permissions land.
    return get_object_or_404(Flow.objects.live(), namespace=namespace, flow_id=flow_id)


def _redirect(request: HttpRequest, url: str) -> HttpResponse:
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@login_required
def namespaces(request: HttpRequest) -> HttpResponse:
    rows = Flow.objects.live().values("namespace").annotate(flows=Count("id")).order_by("namespace")
    return render(request, "flows/namespaces.html", {"namespaces": rows})


@login_required
def namespace(request: HttpRequest, namespace: str) -> HttpResponse:
    flows = Flow.objects.live().filter(namespace=namespace)
    return render(request, "flows/namespace.html", {"namespace": namespace, "flows": flows})


@login_required
@require_http_methods(["GET", "POST"])
def flow_new(request: HttpRequest) -> HttpResponse:
    source, errors = STARTER, []
    if request.method == "POST":
        source = request.POST.get("source", "")
        try:
            flow = Flow.save_source(source, author=request.user, create_only=True)
        except FlowInvalid as exc:
            errors = exc.errors
        except FlowExists as exc:
            errors = [FlowError(f"A flow {exc.flow} already exists: open it to edit it", 1, 1)]
        else:
            return _redirect(request, flow.get_absolute_url())
    return render(request, "flows/new.html", {"source": source, "errors": errors})


@login_required
@require_http_methods(["GET", "POST"])
def flow_detail(request: HttpRequest, namespace: str, flow_id: str) -> HttpResponse:
    flow = _get_flow_for_user(request, namespace, flow_id)
    context: dict = {"flow": flow, "source": flow.source, "errors": [], "saved": False}
    if request.method == "POST":
        # A refused save keeps the text exactly as typed; nothing stored changes.
        context["source"] = request.POST.get("source", "")
        try:
            flow = Flow.save_source(
                context["source"], author=request.user, expect=(namespace, flow_id)
            )
        except FlowInvalid as exc:
            context["errors"] = exc.errors
        else:
            context.update(flow=flow, saved=True)
    template = "flows/_editor.html" if request.htmx else "flows/flow.html"
    return render(request, template, context, status=422 if context["errors"] else 200)


@login_required
@require_POST
def flow_run(request: HttpRequest, namespace: str, flow_id: str) -> HttpResponse:
    flow = _get_flow_for_user(request, namespace, flow_id)
    execution = execution_start(flow=flow, user=request.user)
    return _redirect(request, execution.get_absolute_url())


@login_required
@require_POST
def flow_delete(request: HttpRequest, namespace: str, flow_id: str) -> HttpResponse:
    flow = _get_flow_for_user(request, namespace, flow_id)
    flow.soft_delete()
    return _redirect(request, f"/namespaces/{namespace}/")
