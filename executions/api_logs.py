"""Kestra's log endpoints: an execution's lines (``/logs/{executionId}``), the same as a
text file (``.../download``), and a search across the executions one may see
(``/logs/search``, with Kestra's ``filters[...]``)."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict, StreamingHttpResponse
from django.http.response import HttpResponseBase

from accounts.access import execution_for_user
from accounts.permissions import visible
from flowsite.api import api_error, api_view
from flowsite.query_filters import (
    PAGE_SIZE,
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

from .api_json import KESTRA_LOG_LEVELS, log_entry_json
from .log_stream import CHUNK, COLUMNS, json_array_parts, log_chunks, text_parts
from .models import TERMINAL_STATES, Execution, LogLine

# An execution's lines are read by the thousand: a page may hold more than a search's.
LOG_MAX_PAGE_SIZE = 10_000


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


def _page_params(request: HttpRequest) -> tuple[int, int] | None:
    """Paging of an execution's lines, Kestra's ``page`` and ``size`` or Flowsite's
    ``afterId`` (the id of the last line read, as the ``Link`` header gives it): the
    offset from the start and the page size; None when none of them is given."""
    params = request.GET
    if not {"page", "size", "afterId"} & params.keys():
        return None
    try:
        page = int(params.get("page", "1"))
        size = int(params.get("size", str(PAGE_SIZE)))
    except ValueError:
        raise FilterInvalid("page and size must be whole numbers") from None
    if page < 1 or not 1 <= size <= LOG_MAX_PAGE_SIZE:
        raise FilterInvalid(f"page must be 1 or more, size between 1 and {LOG_MAX_PAGE_SIZE}")
    return (page - 1) * size, size


def _after_id(request: HttpRequest) -> int:
    after = request.GET.get("afterId", "0")
    if not after.isdigit():
        raise FilterInvalid(f"afterId must be a line's id, not '{after}'")
    return int(after)


def _next_link(request: HttpRequest, last_id: int) -> str:
    """The page after the one ending at ``last_id``, relative to this URL (so that it
    stays right under a tenant's path)."""
    params = request.GET.copy()
    params.pop("page", None)
    params["afterId"] = str(last_id)
    return f'<?{params.urlencode()}>; rel="next"'


@api_view(("GET",))
def execution_logs(request: HttpRequest, execution_id: str) -> HttpResponseBase:
    """Kestra's list of an execution's log entries. With ``page``, ``size`` or
    ``afterId``, one page of them and a ``Link`` to the next; without, all of them,
    streamed as they are read when they are more than a chunk."""
    execution = execution_for_user(request.user, execution_id)
    try:
        lines = _execution_lines(request, execution)
        paging = _page_params(request)
        after_id = _after_id(request)
    except FilterInvalid as exc:
        return api_error(400, str(exc))
    if paging is not None:
        offset, size = paging
        after = lines.filter(id__gt=after_id).values_list(*COLUMNS, named=True)
        rows = list(after[offset : offset + size])
        response = JsonResponse([log_entry_json(row, execution) for row in rows], safe=False)
        if len(rows) == size:
            response["Link"] = _next_link(request, rows[-1].id)
        return response
    chunks = log_chunks(lines, after_id=after_id)
    first = next(chunks, [])
    if len(first) < CHUNK:  # all of it: one body, with its length
        return JsonResponse([log_entry_json(row, execution) for row in first], safe=False)
    return StreamingHttpResponse(
        json_array_parts(first, chunks, execution), content_type="application/json"
    )


@api_view(("GET",))
def execution_logs_download(request: HttpRequest, execution_id: str) -> HttpResponseBase:
    """The lines as a text file, streamed as they are read (Kestra's ``/download``)."""
    execution = execution_for_user(request.user, execution_id)
    try:
        lines = _execution_lines(request, execution)
        after_id = _after_id(request)
    except FilterInvalid as exc:
        return api_error(400, str(exc))
    response = StreamingHttpResponse(
        text_parts(log_chunks(lines, after_id=after_id)), content_type="text/plain; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{execution.pk}.log"'
    if execution.state not in TERMINAL_STATES:  # as Kestra: more may come
        response["Cache-Control"] = "no-cache"
    return response


# Kestra's search parameters from before filters[...], which it still reads.
LEGACY_SEARCH = {
    "q": "filters[q][EQUALS]",
    "namespace": "filters[namespace][PREFIX]",
    "flowId": "filters[flowId][EQUALS]",
    "minLevel": "filters[level][EQUALS]",
    "startDate": "filters[startDate][GREATER_THAN_OR_EQUAL_TO]",
    "endDate": "filters[endDate][LESS_THAN_OR_EQUAL_TO]",
}

# Counting every line of a huge table costs a scan of it for each page: the total stops
# counting here (a search engine's "more than"); the pages themselves stay cheap.
SEARCH_COUNT_CAP = 100_000


def _search_params(params: QueryDict) -> QueryDict:
    params = params.copy()
    for legacy, spelled in LEGACY_SEARCH.items():
        if legacy in params:
            params.setlist(spelled, params.getlist(spelled) + params.getlist(legacy))
    return params


@api_view(("GET",))
def logs_search(request: HttpRequest) -> HttpResponse:
    """Kestra's ``GET /logs/search``: lines of the executions the caller may see,
    newest first, one page at a time (Kestra's offset pagination). ``total`` counts up
    to SEARCH_COUNT_CAP."""
    executions = visible(Execution.objects.all(), request.user)
    try:
        condition = filter_condition(_search_params(request.GET), LOG_FILTERS)
        lines = LogLine.objects.filter(execution__in=executions).filter(condition)
        lines = sorted_by(lines.select_related("execution").order_by("-id"), request, LOG_SORTS)
        found, total = paged(lines, request, count_at_most=SEARCH_COUNT_CAP)
    except FilterInvalid as exc:
        return api_error(400, str(exc))
    results = [log_entry_json(line, line.execution) for line in found]
    return JsonResponse({"results": results, "total": total, "type": "OFFSET"})
