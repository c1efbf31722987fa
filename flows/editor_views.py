"""What the browser editor asks the server while someone types."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_POST

from .language import FlowInvalid, parse_flow
from .language.source import parse_yaml


@login_required
@require_POST
def flow_check(request: HttpRequest) -> JsonResponse:
    """Validate YAML without saving it: the errors with line and column, and the tasks
    (id, type, line) for the topology, as far as the text can be read."""
    source = request.POST.get("source", "")
    errors: list[dict[str, Any]] = []
    try:
        parse_flow(source)
    except FlowInvalid as exc:
        errors = [e.as_dict() for e in exc.errors]
    return JsonResponse({"errors": errors, "tasks": _task_outline(source)})


def _task_outline(source: str) -> list[dict[str, Any]]:
    try:
        parsed = parse_yaml(source)
    except Exception:  # unreadable YAML has no outline; its error says why
        return []
    tasks = parsed.data.get("tasks") if isinstance(parsed.data, dict) else None
    if not isinstance(tasks, list):
        return []
    outline = []
    for index, task in enumerate(tasks):
        if not isinstance(task, dict):
            continue
        position = parsed.position(("tasks", index))
        outline.append(
            {
                "id": str(task.get("id", "")),
                "type": str(task.get("type", "")),
                "line": position.line,
                "column": position.column,
            }
        )
    return outline
