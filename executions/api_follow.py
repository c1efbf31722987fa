"""Kestra's ``GET /executions/{id}/follow``: a Server-Sent Events stream of the execution.

Each event's data is the execution as ``GET /executions/{id}`` shows it, sent when it
changed; the stream ends after the execution ends, as Kestra's does. The database is
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

from .api_json import execution_json
from .models import TERMINAL_STATES, Execution, TaskRun

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


@csrf_exempt  # authenticated by HTTP Basic or a token, never a cookie
async def execution_follow(request: HttpRequest, execution_id: str) -> HttpResponseBase:
    if request.method != "GET":
        response = api_error(405, f"Method {request.method} is not allowed here")
        response["Allow"] = "GET"
        return response
    refused = await sync_to_async(_allowed)(request, execution_id)
    if refused is not None:
        return refused
    stream = StreamingHttpResponse(_events(execution_id), content_type="text/event-stream")
    stream["Cache-Control"] = "no-cache"
    stream["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
    return stream


execution_follow.api_methods = ("GET",)  # type: ignore[attr-defined]
