"""The execution page's log view reads its lines by position, a screenful at a time: how
many lines there are, the lines at a range of positions, which lines match a search and
where one of them stands. A run may hold millions of lines: none of these reads them all
into memory, and the page never holds more than it shows.

Positions count the lines of the view (its filters applied) in id order, up to the line
``until`` the page last heard of, so that they stay put while new lines come in."""

from __future__ import annotations

import inspect
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse

from accounts.access import execution_for_user

from . import api_logs
from .api_json import KESTRA_LOG_LEVELS
from .models import LogLine

RANGE_MAX = 1000  # lines one request may ask for
SEARCH_MAX = 1000  # matches a search answers; the page says when there are more
FIELDS = ("id", "task_run_id", "task_id", "attempt", "stream", "level", "timestamp", "message")


class BadParameter(ValueError):
    pass


def _number(request: HttpRequest, name: str, default: int | None = None) -> int:
    raw = request.GET.get(name, "")
    if not raw and default is not None:
        return default
    if not raw.isdigit():
        raise BadParameter(f"{name} must be a whole number, not '{raw}'")
    return int(raw)


def _view_lines(request: HttpRequest, execution_id: str) -> QuerySet[LogLine]:
    """The lines the page's view holds: its level (that level and above), task run and
    attempt, up to the line ``until``; in id order."""
    execution = execution_for_user(request.user, execution_id)
    lines = LogLine.objects.filter(execution=execution)
    if "until" in request.GET:
        lines = lines.filter(id__lte=_number(request, "until"))
    if level := request.GET.get("level", "").upper():
        if level not in KESTRA_LOG_LEVELS:
            raise BadParameter(f"level must be one of {', '.join(KESTRA_LOG_LEVELS)}")
        if level != KESTRA_LOG_LEVELS[0]:  # TRACE and above: every line
            lines = lines.filter(level__in=KESTRA_LOG_LEVELS[KESTRA_LOG_LEVELS.index(level) :])
    if task_run := request.GET.get("taskRunId"):
        lines = lines.filter(task_run_id=task_run)
    if "attempt" in request.GET:
        lines = lines.filter(attempt=_number(request, "attempt"))
    return lines.order_by("id")


def _json(row: dict[str, Any]) -> dict[str, Any]:
    """A line as the websocket sends it (LogLine.as_dict), from a row of values()."""
    return {
        "id": row["id"],
        "taskRunId": row["task_run_id"],
        "taskId": row["task_id"],
        "attempt": row["attempt"],
        "stream": row["stream"],
        "level": row["level"],
        "timestamp": row["timestamp"].isoformat(),
        "message": row["message"],
    }


def lines_at(lines: QuerySet[LogLine], start: int, count: int, total: int | None) -> list[Any]:
    """The lines at positions [start, start + count). The database steps over the lines
    before the range in its (execution, id) index: from the start, or backwards from the
    end when the page says how many there are and the range lies nearer the end."""
    if total is not None and start > total - start - count:
        skipped = max(0, total - start - count)
        shown = min(count, total - start)
        rows = list(lines.order_by("-id").values(*FIELDS)[skipped : skipped + max(0, shown)])
        return [_json(row) for row in reversed(rows)]
    return [_json(row) for row in lines.values(*FIELDS)[start : start + count]]


def _answer(read: Any) -> Any:
    """A view reading the page's log view: logged in, 404 for an execution the user may
    not see, 400 for a parameter it cannot read."""

    @login_required
    def view(request: HttpRequest, execution_id: str) -> HttpResponse:
        try:
            return JsonResponse(read(request, _view_lines(request, execution_id)))
        except BadParameter as exc:
            return HttpResponseBadRequest(str(exc))

    view.__name__ = view.__qualname__ = read.__name__
    view.__doc__ = read.__doc__
    return view


@_answer
def log_count(request: HttpRequest, lines: QuerySet[LogLine]) -> dict[str, Any]:
    """How many lines the view holds, and the last one's id."""
    last = lines.order_by("-id").values_list("id", flat=True).first()
    return {"count": lines.count(), "lastId": last or 0}


@_answer
def log_lines(request: HttpRequest, lines: QuerySet[LogLine]) -> dict[str, Any]:
    """``from``, ``count`` (at most RANGE_MAX) and, to read near the end cheaply, ``total``."""
    start = _number(request, "from", 0)
    count = min(_number(request, "count", 200), RANGE_MAX)
    total = _number(request, "total") if "total" in request.GET else None
    return {"from": start, "lines": lines_at(lines, start, count, total)}


@_answer
def log_search(request: HttpRequest, lines: QuerySet[LogLine]) -> dict[str, Any]:
    """The ids of the first SEARCH_MAX lines whose message contains ``q`` (any case)."""
    query = request.GET.get("q", "")
    if not query:
        return {"ids": [], "more": False}
    found = list(
        lines.filter(message__icontains=query).values_list("id", flat=True)[: SEARCH_MAX + 1]
    )
    return {"ids": found[:SEARCH_MAX], "more": len(found) > SEARCH_MAX}


@_answer
def log_position(request: HttpRequest, lines: QuerySet[LogLine]) -> dict[str, Any]:
    """Where the line ``id`` stands in the view: how many of its lines come before it."""
    return {"position": lines.filter(id__lt=_number(request, "id")).count()}


@login_required
def log_download(request: HttpRequest, execution_id: str) -> HttpResponse:
    """The page's download link: the API's download (Kestra's parameters) for a user
    logged in on the site, whom the API, asking for a password or a token, would refuse."""
    execution_for_user(request.user, execution_id)
    download = inspect.unwrap(api_logs.execution_logs_download)  # without its API login
    return download(request, execution_id)  # type: ignore[no-any-return]
