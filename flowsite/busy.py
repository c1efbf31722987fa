"""A saturated server says so: 503 with Retry-After, never 500.

Two ways a request meets a full server: it waits too long for a thread of the web
server's pool (flowsite/asgi.py), or the database refuses it for a moment: PostgreSQL out
of connection slots, a deadlock or serialization failure it resolved by cancelling us,
SQLite still locked after its busy timeout. The client may send the same request again;
nothing of it was stored (an API call that writes is one transaction)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase

logger = logging.getLogger(__name__)

RETRY_AFTER = 1  # seconds
# PostgreSQL error classes that pass: connection exceptions, transaction rollbacks
# (deadlock, serialization), insufficient resources (too many connections), operator
# intervention (shutting down, starting up).
TRANSIENT_SQLSTATES = ("08", "40", "53", "57P")
SQLITE_TRANSIENT = ("database is locked", "database table is locked", "database is busy")


def busy_response(request: HttpRequest, message: str) -> HttpResponse:
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse({"message": message}, status=503)
    else:
        response = HttpResponse(message, status=503, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(RETRY_AFTER)
    return response


def is_transient(exc: BaseException) -> bool:
    """Whether this database error says "not now" rather than "never"."""
    if not isinstance(exc, OperationalError):
        return False
    cause = exc.__cause__
    sqlstate = getattr(cause, "sqlstate", None)
    if sqlstate is not None:
        return str(sqlstate).startswith(TRANSIENT_SQLSTATES)
    if type(cause).__module__.startswith("psycopg"):
        return True  # no SQLSTATE: the connection itself failed or was refused
    return any(text in str(exc) for text in SQLITE_TRANSIENT)


class DatabaseBusyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_transient(exception):
            return None
        # The details stay in the log: they name the database's internals.
        logger.warning("%s %s answered 503: %s", request.method, request.path, exception)
        return busy_response(request, "The database is busy: try again in a moment")
