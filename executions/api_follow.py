"""Kestra's Server-Sent Events streams: ``GET /executions/{id}/follow`` and
``GET /logs/{id}/follow``.

An execution's stream sends it as ``GET /executions/{id}`` shows it each time it
changed; a log stream sends each new line as ``GET /logs/{id}`` does. Both end after
the execution ends, as Kestra's do. The database is
the record: the stream reads it every POLL_SECONDS (one small query while nothing
changes), so a missed wake-up can never leave a follower behind.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from asgiref.sync import sync_to_async
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.views.decorators.csrf import csrf_exempt

from accounts.access import execution_for_user
from flowsite.api import api_error, api_user

from .api_json import KESTRA_LOG_LEVELS, execution_json, log_entry_json
from .models import TERMINAL_STATES, Execution, LogLine, TaskRun

POLL_SECONDS = 0.25
KEEP_ALIVE_SECONDS = 15  # a comment line, so proxies do not close a quiet stream


def _allowed(request: HttpRequest, execution_id: str) -> HttpResponse | None:
    user = api_user(request)
    if isinstance(user, HttpResponse):
        return user
    try:
        execution_for_user(user, execution_id)
    except Http404 as exc:
        return api_error(404, str(exc))
    return None


def _fingerprint(execution_id: str) -> tuple[Any, ...] | None:
    """What changes when anything shown changes: states, ends and attempt counts."""
    execution = Execution.objects.filter(pk=execution_id).values("state", "ended_at").first()
    if execution is None:
        return None
    runs = tuple(
        TaskRun.objects.filter(execution_id=execution_id)
        .order_by("id")
        .values_list("id", "state", "attempt", "ended_at")
    )
    return (execution["state"], execution["ended_at"], runs)


def _snapshot(execution_id: str) -> tuple[dict[str, Any] | None, bool]:
    execution = (
        Execution.objects.select_related("flow_revision", "parent_task_run")
        .filter(pk=execution_id)
        .first()
    )
    if execution is None:
        return None, True
    return execution_json(execution), execution.state in TERMINAL_STATES


async def _events(execution_id: str) -> AsyncIterator[str]:
    fingerprint: tuple[Any, ...] | None = ()
    quiet = 0.0
    while True:
        now = await sync_to_async(_fingerprint)(execution_id)
        if now is None:
            return  # deleted while followed
        if now != fingerprint:
            fingerprint = now
            payload, ended = await sync_to_async(_snapshot)(execution_id)
            if payload is None:
                return
            yield f"event: execution\ndata: {json.dumps(payload)}\n\n"
            quiet = 0.0
            if ended:
                return
        await asyncio.sleep(POLL_SECONDS)
        quiet += POLL_SECONDS
        if quiet >= KEEP_ALIVE_SECONDS:
            quiet = 0.0
            yield ":\n\n"


def _new_lines(
    execution_id: str, after: int, levels: list[str]
) -> tuple[list[dict[str, Any]], int, bool]:
    """The lines written since line ``after``, the last id, and whether the run ended
    (read before the lines, so that none written before its end is missed)."""
    execution = Execution.objects.select_related("flow_revision").filter(pk=execution_id).first()
    if execution is None:
        return [], after, True
    ended = execution.state in TERMINAL_STATES
    lines = list(
        LogLine.objects.filter(execution_id=execution_id, id__gt=after, level__in=levels).order_by(
            "id"
        )[:500]
    )
    last = lines[-1].id if lines else after
    return [log_entry_json(line, execution) for line in lines], last, ended and len(lines) < 500


async def _log_events(execution_id: str, levels: list[str]) -> AsyncIterator[str]:
    after, quiet = 0, 0.0
    while True:
        lines, after, ended = await sync_to_async(_new_lines)(execution_id, after, levels)
        for line in lines:
            yield f"event: log\ndata: {json.dumps(line)}\n\n"
        if ended:
            return
        if lines:
            quiet = 0.0
            continue
        await asyncio.sleep(POLL_SECONDS)
        quiet += POLL_SECONDS
        if quiet >= KEEP_ALIVE_SECONDS:
            quiet = 0.0
            yield ":\n\n"


def _refused_method(request: HttpRequest) -> HttpResponse | None:
    if request.method == "GET":
        return None
    response = api_error(405, f"Method {request.method} is not allowed here")
    response["Allow"] = "GET"
    return response


def _event_stream(events: AsyncIterator[str]) -> StreamingHttpResponse:
    stream = StreamingHttpResponse(events, content_type="text/event-stream")
    stream["Cache-Control"] = "no-cache"
    stream["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
    return stream


@csrf_exempt  # authenticated by HTTP Basic or a token, never a cookie
async def logs_follow(request: HttpRequest, execution_id: str) -> HttpResponseBase:
    """Follow an execution's log lines as they are written (Server-Sent Events)."""
    if refused := _refused_method(request) or await sync_to_async(_allowed)(request, execution_id):
        return refused
    level = request.GET.get("minLevel", "TRACE").upper()
    if level not in KESTRA_LOG_LEVELS:
        return api_error(400, f"minLevel must be one of {', '.join(KESTRA_LOG_LEVELS)}")
    levels = list(KESTRA_LOG_LEVELS[KESTRA_LOG_LEVELS.index(level) :])
    return _event_stream(_log_events(execution_id, levels))


logs_follow.api_methods = ("GET",)  # type: ignore[attr-defined]


@csrf_exempt  # authenticated by HTTP Basic or a token, never a cookie
async def execution_follow(request: HttpRequest, execution_id: str) -> HttpResponseBase:
    """Follow an execution: it is sent again each time it changes (Server-Sent Events)."""
    if refused := _refused_method(request) or await sync_to_async(_allowed)(request, execution_id):
        return refused
    return _event_stream(_events(execution_id))


execution_follow.api_methods = ("GET",)  # type: ignore[attr-defined]
