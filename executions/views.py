from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import F, Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.access import execution_for_user
from accounts.audit import audit_execution_killed, audit_execution_labelled
from accounts.models import Role
from accounts.permissions import abilities, standing, visible
from flows.language.tasks import PauseTask
from flowsite.listing import Column, kept_params, listing

from . import lifecycle
from .labels import LabelsInvalid, labels_update
from .links import execution_links
from .metrics import metrics_by_task
from .models import Execution, State, TaskRun
from .outputs_shown import output_preview, outputs_by_task, pretty_json
from .presentation import execution_tree, gantt_rows
from .search import execution_search
from .secret_inputs import is_sealed

COLUMNS = [
    Column("Execution"),
    Column("Flow", "flow"),
    Column("State", "state"),
    Column("Labels"),
    Column("Started", "start"),
    Column("Duration", "duration"),
]
SORTS = {
    "flow": ("namespace", "flow_id", "created_at"),
    "state": ("state", "created_at"),
    "start": ("created_at",),
    "duration": ("took",),
}


def _context(request: HttpRequest, execution: Execution) -> dict[str, Any]:
    """The page and its refreshed fragment: the tree, the Gantt and the outputs, built
    from one query for the task runs and one each for their attempts and subflows."""
    runs = list(
        execution.task_runs.prefetch_related(
            "attempts",
            # A child in a namespace the reader cannot view is not named.
            Prefetch(
                "subflows",
                queryset=visible(Execution.objects.all(), request.user).only(
                    "id", "state", "parent_task_run"
                ),
            ),
        )
    )
    tree = execution_tree(execution, runs)
    return {
        "execution": execution,
        "can": abilities(request.user, execution.namespace),
        "tree": tree,
        "gantt": gantt_rows(execution, tree),
        "task_outputs": outputs_by_task(tree),
        "task_metrics": metrics_by_task(tree, execution),
        "execution_outputs": pretty_json(execution.outputs) if execution.outputs else "",
        "execution_outputs_preview": output_preview(execution.outputs)
        if isinstance(execution.outputs, dict)
        else "",
        "has_files": _template_exists("executions/_files.html"),
        "resume_inputs": _resume_inputs(execution, runs),
        "now": timezone.now(),
    }


def _resume_inputs(execution: Execution, runs: list[TaskRun]) -> list[Any]:
    """The ``onResume`` inputs of the Pause tasks waiting to be resumed: the Resume
    form asks for them."""
    if execution.state != State.PAUSED:
        return []
    definition = execution.flow_revision.definition
    asked = []
    for run in runs:
        task = definition.task(run.task_id) if run.state == State.PAUSED else None
        if isinstance(task, PauseTask):
            asked += task.on_resume
    return asked


def _page_context(request: HttpRequest, execution: Execution) -> dict[str, Any]:
    """What only the whole page shows: it does not change while the run goes on."""
    trigger = execution.trigger or {}
    return {
        **_context(request, execution),
        **_labels_context(request, execution),
        "inputs": [(name, _shown(value)) for name, value in execution.inputs.items()],
        "trigger_variables": pretty_json(trigger["variables"]) if trigger.get("variables") else "",
        "links": execution_links(execution, request.user),
    }


def _labels_context(
    request: HttpRequest,
    execution: Execution,
    error: str = "",
    sent: list[tuple[str, str]] | None = None,
) -> dict[str, Any]:
    """The labels part; after a refusal, the form keeps what the reader typed."""
    labels = {str(k): str(v) for k, v in (execution.labels or {}).items()}
    editable = [(k, v) for k, v in labels.items() if not k.startswith("system.")]
    return {
        "execution": execution,
        "can": abilities(request.user, execution.namespace),
        "labels": labels,
        "editable_labels": editable if sent is None else sent,
        "labels_error": error,
    }


def _shown(value: object) -> str:
    if is_sealed(value):  # a SECRET input: never shown, not even encrypted
        return "******"
    return value if isinstance(value, str) else pretty_json(value)


def _template_exists(name: str) -> bool:
    try:
        get_template(name)
    except TemplateDoesNotExist:
        return False
    return True


@login_required
def executions_list(request: HttpRequest) -> HttpResponse:
    search = execution_search(request.GET)
    executions = search.apply(visible(Execution.objects.all(), request.user))
    executions = executions.annotate(took=F("ended_at") - F("started_at"))
    page = listing(request.GET, executions, columns=COLUMNS, sorts=SORTS, default="-start")
    context = {
        "listing": page,
        "search": search,
        "states": State.values,
        "filtered": bool(kept_params(request.GET).keys() - {"sort"}),
        "standing": standing(request.user),
    }
    return render(request, "executions/list.html", context)


@login_required
def execution_detail(request: HttpRequest, execution_id: str) -> HttpResponse:
    execution = execution_for_user(request.user, execution_id)
    return render(request, "executions/execution.html", _page_context(request, execution))


@login_required
def execution_task_runs(request: HttpRequest, execution_id: str) -> HttpResponse:
    execution = execution_for_user(request.user, execution_id)
    return render(request, "executions/_task_runs.html", _context(request, execution))


@login_required
@require_POST
def execution_labels(request: HttpRequest, execution_id: str) -> HttpResponse:
    """The page's label form: it sends every label but the system ones, which it keeps."""
    execution = execution_for_user(request.user, execution_id, need=Role.EDITOR)
    sent = zip(request.POST.getlist("key"), request.POST.getlist("value"), strict=False)
    labels = [(key.strip(), value.strip()) for key, value in sent if key.strip() or value.strip()]
    before = dict(execution.labels or {})
    try:
        after = labels_update(execution, labels, replace=True)
    except LabelsInvalid as exc:
        context = _labels_context(request, execution, str(exc), labels)
        return render(request, "executions/_labels.html", context, status=_htmx_status(request))
    if after != before:
        audit_execution_labelled(
            actor=request.user, execution=execution, before=before, after=after
        )
    if not request.headers.get("HX-Request"):
        return redirect(execution)
    return render(request, "executions/_labels.html", _labels_context(request, execution))


def _htmx_status(request: HttpRequest) -> int:
    """htmx swaps only a 2xx answer: a form with its error comes back as one."""
    return 200 if request.headers.get("HX-Request") else 400


@login_required
@require_POST
def execution_kill(request: HttpRequest, execution_id: str) -> HttpResponse:
    execution = execution_for_user(request.user, execution_id, need=Role.RUNNER)
    killed = lifecycle.execution_kill(execution_id=execution.pk)
    execution.refresh_from_db(fields=["state"])
    if killed:  # False: it had already ended, so nothing was killed
        audit_execution_killed(actor=request.user, execution=execution)
    return render(request, "executions/_task_runs.html", _context(request, execution))
