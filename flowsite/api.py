"""What every REST endpoint shares: HTTP Basic authentication and JSON error answers."""

from __future__ import annotations

import base64
import functools
from collections.abc import Callable
from typing import Any

from django.contrib.auth import authenticate
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from flows.language import FlowInvalid

View = Callable[..., HttpResponse]


def api_error(status: int, message: str, **extra: Any) -> JsonResponse:
    return JsonResponse({"message": message, **extra}, status=status)


def flow_invalid_response(exc: FlowInvalid) -> JsonResponse:
    first = exc.errors[0]
    return api_error(
        422,
        f"Invalid flow: {first}"
        + (f" (and {len(exc.errors) - 1} more)" if len(exc.errors) > 1 else ""),
        errors=[e.as_dict() for e in exc.errors],
    )


def _basic_user(request: HttpRequest) -> Any:
    header = request.headers.get("Authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        username, _, password = base64.b64decode(encoded).decode().partition(":")
    except ValueError:  # binascii.Error, UnicodeDecodeError, or a header that is not ASCII
        return None
    return authenticate(request, username=username, password=password)


def api_view(methods: tuple[str, ...]) -> Callable[[View], View]:
    """Authenticate with HTTP Basic, allow ``methods``, answer JSON errors."""

    def decorate(view: View) -> View:
        @csrf_exempt
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = _basic_user(request)
            if user is None or not user.is_active:
                response = api_error(401, "Authentication required: use HTTP Basic auth")
                response["WWW-Authenticate"] = 'Basic realm="Flowsite"'
                return response
            request.user = user
            if request.method not in methods:
                response = api_error(405, f"Method {request.method} is not allowed here")
                response["Allow"] = ", ".join(methods)
                return response
            try:
                return view(request, *args, **kwargs)
            except Http404 as exc:
                return api_error(404, str(exc) or "Not found")
            except PermissionDenied as exc:
                return api_error(403, str(exc) or "Permission denied")

        return wrapped

    return decorate


def request_text(request: HttpRequest) -> str | None:
    try:
        return request.body.decode("utf-8")
    except UnicodeDecodeError:
        return None
