"""Request bodies bounded before anything reads them, answered in the caller's language:
JSON under /api, a short page elsewhere.

Two limits: a body a view reads whole (YAML, JSON, form fields) may be
``DATA_UPLOAD_MAX_MEMORY_SIZE``; a multipart upload, whose files Django spools to disk,
may be ``FLOWSITE_MAX_UPLOAD_BYTES``. The ASGI server refuses a body over the larger one
before reading it (flowsite/asgi.py); this middleware refuses the rest, and answers
Django's own refusals (too many fields, a body longer than it said) the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from django.conf import settings
from django.core.exceptions import (
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.http import HttpRequest, HttpResponse, JsonResponse


def is_api_path(path: str) -> bool:
    return path.startswith("/api/")


def refusal(path: str, status: int, message: str) -> HttpResponse:
    if is_api_path(path):
        return JsonResponse({"message": message}, status=status)
    page = f"<!doctype html><title>{status}</title><h1>{status}</h1><p>{escape(message)}</p>"
    return HttpResponse(page, status=status, content_type="text/html; charset=utf-8")


def body_limit(content_type: str) -> int:
    if content_type.startswith("multipart/form-data"):
        return int(settings.FLOWSITE_MAX_UPLOAD_BYTES)
    return int(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)


def too_large_message(length: int, limit: int) -> str:
    return f"The request body of {length} bytes is larger than the limit of {limit} bytes"


class BodyLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return refusal(request.path, 400, "The Content-Length header is not a number")
        limit = body_limit(request.META.get("CONTENT_TYPE", ""))
        if length > limit:
            return refusal(request.path, 413, too_large_message(length, limit))
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, RequestDataTooBig):
            limit = int(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
            return refusal(
                request.path, 413, f"The request body is larger than the limit of {limit} bytes"
            )
        if isinstance(exception, TooManyFieldsSent | TooManyFilesSent):
            return refusal(request.path, 400, f"The request has too many fields: {exception}")
        if isinstance(exception, SuspiciousOperation):
            return refusal(request.path, 400, f"The request could not be read: {exception}")
        return None
