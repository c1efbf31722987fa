"""Kestra's log endpoints: an execution's lines (``/logs/{executionId}``), the same as a
text file (``.../download``), and a search across the executions one may see
(``/logs/search``, with Kestra's ``filters[...]``)."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse

from accounts.access import execution_for_user
from accounts.permissions import visible
from flowsite.api import api_error, api_view
from flowsite.query_filters import (
    FilterField,
    FilterInvalid,
    Leaf,
    constant_field,
    date_field,
    filter_condition,
    paged,
    search_text_field,
    sorted_by,
    text_field,
    time_range_field,
)

from .api_json import KESTRA_LOG_LEVELS, log_entry_json, log_line_text
from .models import Execution, LogLine


def _at_least(level: str, param: str) -> list[str]:
    """The levels from ``level`` up: Kestra's ``minLevel``."""
    level = level.upper()
    if level not in KESTRA_LOG_LEVELS:
        raise FilterInvalid(f"{param} must be one of {', '.join(KESTRA_LOG_LEVELS)}")
    return list(KESTRA_LOG_LEVELS[KESTRA_LOG_LEVELS.index(level) :])


def _level_field(leaf: Leaf) -> Q:
    # Kestra reads filters[level][EQUALS]=WARN as "WARN and above", as minLevel.
    if leaf.operation in ("EQUALS", "GREATER_THAN_OR_EQUAL_TO"):
        return Q(level__in=_at_least(leaf.value, leaf.param))
    return text_field("level", upper=KESTRA_LOG_LEVELS)(leaf)


LOG_FILTERS: dict[str, FilterField] = {
    "namespace": text_field("execution__namespace"),
    "flowId": text_field("execution__flow_id"),
    "executionId": text_field("execution_id"),
    "taskId": text_field("task_id"),
    "taskRunId": text_field("task_run_id"),
    "level": _level_field,
    "startDate": date_field("timestamp"),
    "endDate": date_field("timestamp"),
    "timeRange": time_range_field("timestamp"),
    "q": search_text_field("message"),
    "scope": constant_field({"USER": True, "SYSTEM": False}),
}

LOG_SORTS = {"timestamp": "id", "level": "level", "taskId": "task_id"}


def _execution_lines(request: HttpRequest, execution: Execution) -> QuerySet[LogLine]:
    """The lines of ``execution`` narrowed by Kestra's minLevel, taskRunId, taskId and
    attempt parameters; raises FilterInvalid for a value it cannot read."""
    lines = LogLine.objects.filter(execution=execution).order_by("id")
    if min_level := request.GET.get("minLevel"):
        lines = lines.filter(level__in=_at_least(min_level, "minLevel"))
    if task_run_id := request.GET.get("taskRunId"):
        lines = lines.filter(task_run_id=task_run_id)
    if task_id := request.GET.get("taskId"):
        lines = lines.filter(task_id=task_id)
    if attempt := request.GET.get("attempt"):
        if not attempt.isdigit():
            raise FilterInvalid(f"attempt must be a whole number, not '{attempt}'")
        # Kestra counts attempts from 0 in this parameter; Flowsite from 1.
        lines = lines.filter(attempt=int(attempt) + 1)
    return lines


@api_view(("GET",))
def execution_logs(request: HttpRequest, execution_id: str) -> HttpResponse:
    execution = execution_for_user(request.user, execution_id)
    try:
        lines = _execution_lines(request, execution)
    except FilterInvalid as exc:
        return api_error(400, str(exc))
    return JsonResponse([log_entry_json(line, execution) for line in lines], safe=False)


@api_view(("GET",))
def execution_logs_download(request: HttpRequest, execution_id: str) -> HttpResponse:
    execution = execution_for_user(request.user, execution_id)
    try:
        lines = _execution_lines(request, execution)
    except FilterInvalid as exc:
        return api_error(400, str(exc))
    text = "".join(log_line_text(line) + "\n" for line in lines)
    response = HttpResponse(text, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{execution.pk}.log"'
    return response


@api_view(("GET",))
def logs_search(request: HttpRequest) -> HttpResponse:
    """Kestra's ``GET /logs/search``: lines of the executions the caller may see,
    newest first, one page at a time (Kestra's offset pagination)."""
    executions = visible(Execution.objects.all(), request.user)
    try:
        condition = filter_condition(request.GET, LOG_FILTERS)
        lines = LogLine.objects.filter(execution__in=executions).filter(condition)
        lines = sorted_by(lines.select_related("execution").order_by("-id"), request, LOG_SORTS)
        found, total = paged(lines, request)
    except FilterInvalid as exc:
        return api_error(400, str(exc))
    results = [log_entry_json(line, line.execution) for line in found]
    return JsonResponse({"results": results, "total": total, "type": "OFFSET"})
