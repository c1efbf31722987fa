from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from accounts.access import flow_for_user, namespace_for_new_flow, namespace_for_user
from accounts.audit import (
    audit_execution_ran,
    audit_flow_created,
    audit_flow_deleted,
    audit_flow_saved,
)
from accounts.models import Role
from accounts.permissions import abilities, covers, may, standing, visible, writable_namespaces
from executions.lifecycle import execution_start
from flowsite.http import is_htmx
from flowsite.listing import Column, listing

from .inputs import InputsInvalid
from .language import FlowInvalid, parse_flow
from .language.source import FlowError
from .list_views import flows_context
from .models import Flow, FlowExists
from .run_forms import SUBMITTED, RunForm

STARTER = """id: my-flow
namespace: dev
description: A new flow

tasks:
  - id: hello
    type: io.kestra.plugin.scripts.python.Script
    script: |
      print("Hello from Flowsite")
"""

NAMESPACE_COLUMNS = [Column("Namespace", "namespace"), Column("Flows", "flows")]


def _refuse_unless_editor(request: HttpRequest, source: str) -> list[FlowError]:
    """A new flow may only go where its author is an Editor."""
    try:
        namespace = parse_flow(source).namespace
    except FlowInvalid:
        return []  # the save reports what is wrong with it
    try:
        namespace_for_new_flow(request.user, namespace)
    except PermissionDenied as exc:
        return [FlowError(str(exc), 1, 1)]
    return []


def _redirect(request: HttpRequest, url: str) -> HttpResponse:
    return HttpResponseClientRedirect(url) if is_htmx(request) else redirect(url)


@login_required
def namespaces(request: HttpRequest) -> HttpResponse:
    flows = visible(Flow.objects.live(), request.user)
    if text := request.GET.get("q", "").strip():
        flows = flows.filter(namespace__icontains=text)
    rows = flows.values("namespace").annotate(flows=Count("id"))
    page = listing(
        request.GET,
        rows,
        columns=NAMESPACE_COLUMNS,
        sorts={"namespace": ("namespace",), "flows": ("flows",)},
        default="namespace",
        tiebreak="namespace",
    )
    context = {"listing": page, "text": text, "standing": standing(request.user)}
    return render(request, "flows/namespaces.html", context)


@login_required
def namespace(request: HttpRequest, namespace: str) -> HttpResponse:
    namespace_for_user(request.user, namespace)
    is_admin = may(request.user, Role.ADMIN, namespace)
    context = {
        **flows_context(request, namespace=namespace),
        "namespace": namespace,
        "may_audit": is_admin,
        "may_manage_access": is_admin,
        "may_see_variables": may(request.user, Role.EDITOR, namespace),
    }
    return render(request, "flows/namespace.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def flow_new(request: HttpRequest) -> HttpResponse:
    source, errors = _starter(request.user), []
    if request.method == "POST":
        source = request.POST.get("source", "")
        errors = _refuse_unless_editor(request, source)
        try:
            if not errors:
                flow = Flow.save_source(source, author=request.user, create_only=True)
                audit_flow_created(actor=request.user, flow=flow)
                return _redirect(request, flow.get_absolute_url())
        except FlowInvalid as exc:
            errors = exc.errors
        except FlowExists as exc:
            errors = [FlowError(f"A flow {exc.flow} already exists: open it to edit it", 1, 1)]
    context = {"source": source, "errors": errors, "standing": standing(request.user)}
    return render(request, "flows/new.html", context)


def _starter(user: Any) -> str:
    """The new flow's text, in a namespace its author may write to: ``dev`` when they
    may, else the first of theirs, so that a first save is not refused."""
    writable = writable_namespaces(user)
    if user.is_superuser or not writable or any(covers(ns, "dev") for ns in writable):
        return STARTER
    return STARTER.replace("namespace: dev", f"namespace: {writable[0]}", 1)


@login_required
@require_http_methods(["GET", "POST"])
def flow_detail(request: HttpRequest, namespace: str, flow_id: str) -> HttpResponse:
    role = Role.EDITOR if request.method == "POST" else Role.VIEWER
    flow = flow_for_user(request.user, namespace, flow_id, need=role)
    context: dict[str, Any] = {
        "flow": flow,
        "source": flow.source,
        "errors": [],
        "saved": False,
        "can": abilities(request.user, namespace),
    }
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
            audit_flow_saved(actor=request.user, flow=flow)
    template = "flows/_editor.html" if is_htmx(request) else "flows/flow.html"
    return render(request, template, context, status=422 if context["errors"] else 200)


@login_required
@require_POST
def flow_run(request: HttpRequest, namespace: str, flow_id: str) -> HttpResponse:
    """Start a run. A flow with inputs asks for them first: a click on Run answers with
    the run form, and the form's own POST starts the run or comes back with the errors."""
    flow = flow_for_user(request.user, namespace, flow_id, need=Role.RUNNER)
    definitions = flow.definition.inputs
    if definitions and SUBMITTED not in request.POST:
        return _run_form(request, flow, RunForm(definitions))
    form = RunForm(definitions, request.POST, request.FILES)
    try:
        execution = execution_start(
            flow=flow, user=request.user, inputs=form.input_values(), files=request.FILES
        )
    except InputsInvalid as exc:
        form.refuse(exc.errors)
        return _run_form(request, flow, form, status=422)
    audit_execution_ran(actor=request.user, execution=execution, flow=flow)
    return _redirect(request, execution.get_absolute_url())


def _run_form(request: HttpRequest, flow: Flow, form: RunForm, status: int = 200) -> HttpResponse:
    template = "flows/_run_form.html" if is_htmx(request) else "flows/run.html"
    context = {"flow": flow, "form": form, "submitted": SUBMITTED}
    return render(request, template, context, status=status)


@login_required
@require_POST
def flow_delete(request: HttpRequest, namespace: str, flow_id: str) -> HttpResponse:
    flow = flow_for_user(request.user, namespace, flow_id, need=Role.EDITOR)
    flow.soft_delete()
    audit_flow_deleted(actor=request.user, flow=flow)
    return _redirect(request, f"/namespaces/{namespace}/")
