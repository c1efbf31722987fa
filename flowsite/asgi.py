"""The ASGI application daphne serves: Django's HTTP handler, run the way WSGI runs it,
and Channels for the websockets."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, cast

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.asgi import get_asgi_application
from django.core.handlers.asgi import ASGIHandler
from django.db import close_old_connections, connections
from django.http import HttpRequest, StreamingHttpResponse
from django.http.response import HttpResponseBase

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flowsite.settings")
get_asgi_application()  # django.setup(), as Django's own entry point does it

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from executions.routing import websocket_urlpatterns  # noqa: E402
from flowsite.body_limits import body_limit, refusal, too_large_message  # noqa: E402
from flowsite.busy import busy_response  # noqa: E402

logger = logging.getLogger(__name__)


def _thread_prepare() -> None:
    """A request thread lives as long as the server, so its database connections are kept
    across requests (checked before each, as WSGI servers do), instead of a new one per
    request: a new PostgreSQL connection costs more CPU than a small API call."""
    for alias in connections:
        connection = connections[alias]
        connection.settings_dict = {**connection.settings_dict, "CONN_MAX_AGE": None}


class SyncChainHandler(ASGIHandler):
    """Django's ASGI handler with its middleware and views run as under WSGI.

    Django's own builds its middleware chain for async and, with middleware that is
    synchronous at heart (sessions, CSRF, messages, WhiteNoise), crosses between the event
    loop and a thread several times per request, each request in a new thread with a new
    database connection: some 2 ms of CPU per request before any view runs. Here the whole
    chain is synchronous and runs in one hop on a fixed pool of threads, each keeping its
    connection. Reading the body, the disconnect watch and streaming the answer stay
    Django's."""

    def __init__(self, threads: int | None = None, queue_seconds: float | None = None):
        super(ASGIHandler, self).__init__()  # BaseHandler: no async chain
        self.load_middleware(is_async=False)
        threads = threads or settings.FLOWSITE_WEB_THREADS
        self._pool = ThreadPoolExecutor(threads, "web", initializer=_thread_prepare)
        self._queue_seconds = queue_seconds or settings.FLOWSITE_WEB_QUEUE_SECONDS

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Django serves HTTP only, not {scope['type']}")
        refused = _body_refusal(scope)
        if refused is not None:  # answered before the body is read into a spool file
            await self.send_response(refused, send)
            return
        # No ThreadSensitiveContext: nothing of a request runs in a thread of its own.
        await self.handle(scope, receive, send)

    async def get_response_async(self, request: HttpRequest) -> HttpResponseBase:
        respond = sync_to_async(self._respond, thread_sensitive=False, executor=self._pool)
        response: HttpResponseBase = await respond(request, time.monotonic())
        return response

    async def send_response(self, response: HttpResponseBase, send: Any) -> None:
        # Django consumes a synchronous streaming response whole before sending any of
        # it (StreamingHttpResponse.__aiter__): a million log lines would sit in memory.
        # Its parts are read here on the pool instead, a batch per hop, as they are sent.
        if isinstance(response, StreamingHttpResponse) and not response.is_async:
            parts = cast(Iterator[bytes], response.streaming_content)
            response.streaming_content = _pulled(parts, self._pool)
        await super().send_response(response, send)

    def _respond(self, request: HttpRequest, queued_at: float) -> HttpResponseBase:
        # Saturated: a request that waited this long for a thread is turned away at once,
        # so that the backlog drains instead of every client waiting longer still.
        if (waited := time.monotonic() - queued_at) > self._queue_seconds:
            logger.warning("%s %s waited %.1f s for a thread: 503", request.method,
                           request.path, waited)  # fmt: skip
            return busy_response(request, "The server is busy: try again in a moment")
        close_old_connections()  # a connection that broke or expired is replaced
        try:
            return self.get_response(request)
        finally:
            close_old_connections()


STREAM_BATCH = 256 * 1024  # bytes of a streamed response read per hop to the pool


async def _pulled(parts: Iterator[bytes], pool: ThreadPoolExecutor) -> AsyncIterator[bytes]:
    """The parts of a synchronous stream read on ``pool``, STREAM_BATCH bytes at a time.
    Each hop may land on another thread: a stream must not keep a cursor open between
    parts (executions/log_stream.py reads each chunk whole)."""
    pull = sync_to_async(_batch, thread_sensitive=False, executor=pool)
    while batch := await pull(parts):
        yield batch


def _batch(parts: Iterator[bytes]) -> bytes:
    batch = bytearray()
    for part in parts:
        batch += part
        if len(batch) >= STREAM_BATCH:
            break
    return bytes(batch)


def _body_refusal(scope: dict[str, Any]) -> HttpResponseBase | None:
    headers = {name.lower(): value for name, value in scope.get("headers", [])}
    try:
        length = int(headers.get(b"content-length", b"0"))
    except ValueError:
        return None  # the middleware answers with what is wrong
    limit = body_limit(headers.get(b"content-type", b"").decode("latin-1"))
    if length <= limit:
        return None
    return refusal(scope.get("path", ""), 413, too_large_message(length, limit))


application = ProtocolTypeRouter(
    {
        "http": SyncChainHandler(),
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)
