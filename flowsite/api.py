"""What every REST endpoint shares: HTTP Basic authentication and JSON error answers."""

from __future__ import annotations

import base64
import functools
from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.views.decorators.csrf import csrf_exempt

from accounts.login import LoginRefused, authenticate_basic
from accounts.tokens import token_user
from flows.language import FlowInvalid

View = Callable[..., HttpResponseBase]
READ_METHODS = ("GET", "HEAD", "OPTIONS")


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


def _basic_user(request: HttpRequest) -> User | None:
    header = request.headers.get("Authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        username, _, password = base64.b64decode(encoded).decode().partition(":")
    except ValueError:  # binascii.Error, UnicodeDecodeError, or a header that is not ASCII
        return None
    # Raises LoginRefused after too many failures, as the login page does.
    return authenticate_basic(request, header=header, username=username, password=password)


def _bearer_token(request: HttpRequest) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def _token_refused() -> HttpResponse:
    # The same answer for unknown, expired and revoked tokens: it tells a guesser nothing.
    response = api_error(401, "Invalid or expired token")
    response["WWW-Authenticate"] = 'Bearer realm="Flowsite", error="invalid_token"'
    return response


def api_user(request: HttpRequest) -> User | HttpResponse:
    """Who calls, by HTTP Basic or a Bearer token; the JSON refusal when nobody valid."""
    token = _bearer_token(request)
    try:
        user = _basic_user(request) if token is None else token_user(token)
    except LoginRefused as exc:
        response = api_error(429, str(exc))
        response["Retry-After"] = str(exc.seconds)
        return response
    if token is not None and user is None:
        return _token_refused()
    if user is None or not user.is_active:
        response = api_error(401, "Authentication required: use HTTP Basic auth or a Bearer token")
        response["WWW-Authenticate"] = 'Basic realm="Flowsite"'
        return response
    return user


def api_view(methods: tuple[str, ...]) -> Callable[[View], View]:
    """Authenticate with HTTP Basic or a Bearer token, allow ``methods``, answer JSON errors."""

    def decorate(view: View) -> View:
        @csrf_exempt
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if request.method in READ_METHODS:
                return answer(request, *args, **kwargs)
            # A call that writes is one transaction, from its authentication to its change:
            # it commits whole or not at all, and costs the database one commit.
            with transaction.atomic():
                return answer(request, *args, **kwargs)

        def answer(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            user = api_user(request)
            if isinstance(user, HttpResponse):
                return user
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

        wrapped.api_methods = methods  # type: ignore[attr-defined]  # read by flowsite/openapi.py
        return wrapped

    return decorate


def request_text(request: HttpRequest) -> str | None:
    try:
        return request.body.decode("utf-8")
    except UnicodeDecodeError:
        return None
