"""What the browser editor asks the server while someone types."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_POST

from .language import FlowInvalid, parse_new_flow
from .outline import flow_outline
from .process_check import process_runner_errors


@login_required
@require_POST
def flow_check(request: HttpRequest) -> JsonResponse:
    """Validate YAML without saving it: the errors with line and column, and the task
    tree (``tasks``, and ``sections`` for errors and finally) for the topology, as far
    as the text can be read."""
    source = request.POST.get("source", "")
    errors: list[dict[str, Any]] = []
    try:
        errors = [e.as_dict() for e in process_runner_errors(parse_new_flow(source), source)]
    except FlowInvalid as exc:
        errors = [e.as_dict() for e in exc.errors]
    return JsonResponse({"errors": errors, **flow_outline(source)})
