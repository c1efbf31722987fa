"""Downloading an execution's files: from its page, and by Kestra's REST paths
``/api/v1/executions/{id}/file?path=kestra:///...`` and ``.../file/metas?path=...``.

Whoever may view the execution may download its files, and only its own: a URI of
another execution is answered 404 here even when the user could see that one too, so a
link never reveals more than the page it came from.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    JsonResponse,
)
from django.http.response import HttpResponseBase
from django.shortcuts import render

from accounts.access import execution_for_user
from flowsite.api import api_error, api_view

from .file_preview import file_preview
from .models import Execution
from .storage import storage_open, storage_size, uri_belongs_to, uri_file_name


class BadPath(ValueError):
    """The ``path`` parameter is not a well-formed internal storage URI."""


def _execution_file_uri(execution: Execution, uri: str) -> str:
    """``uri`` when it names a file of ``execution``; BadPath or Http404 otherwise."""
    if not uri:
        raise BadPath("The path parameter is required: path=kestra:///...")
    try:
        uri_file_name(uri)  # raises ValueError for a malformed or escaping URI
    except ValueError as exc:
        raise BadPath(f"Invalid path: {exc}") from None
    if not uri_belongs_to(uri, execution):
        raise Http404(f"No such file in execution {execution.pk}")
    return uri


def _download(execution: Execution, uri: str) -> FileResponse:
    uri = _execution_file_uri(execution, uri)
    try:
        content = storage_open(uri)
    except FileNotFoundError:
        raise Http404(f"No such file in execution {execution.pk}") from None
    response = FileResponse(content, as_attachment=True, filename=uri_file_name(uri))
    # A task wrote this file: opened in a tab (an SVG, an HTML page), it must not run
    # script as Flowsite. The page shows images through <img>, which never runs any.
    response["Content-Security-Policy"] = "sandbox; default-src 'none'; style-src 'unsafe-inline'"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
def execution_file(request: HttpRequest, execution_id: str) -> HttpResponseBase:
    execution = execution_for_user(request.user, execution_id)
    try:
        return _download(execution, request.GET.get("path", ""))
    except BadPath as exc:
        return HttpResponseBadRequest(str(exc))


@login_required
def execution_file_preview(request: HttpRequest, execution_id: str) -> HttpResponse:
    """The page's preview of one file: a table, JSON, an image or the first lines."""
    execution = execution_for_user(request.user, execution_id)
    try:
        uri = _execution_file_uri(execution, request.GET.get("path", ""))
        preview = file_preview(uri)
    except BadPath as exc:
        return HttpResponseBadRequest(str(exc))
    except FileNotFoundError:
        raise Http404(f"No such file in execution {execution.pk}") from None
    context = {"execution": execution, "uri": uri, "preview": preview}
    return render(request, "executions/_file_preview.html", context)


@api_view(("GET",))
def api_execution_file(request: HttpRequest, execution_id: str) -> HttpResponseBase:
    execution = execution_for_user(request.user, execution_id)
    try:
        return _download(execution, request.GET.get("path", ""))
    except BadPath as exc:
        return api_error(400, str(exc))


@api_view(("GET",))
def api_execution_file_metas(request: HttpRequest, execution_id: str) -> HttpResponse:
    execution = execution_for_user(request.user, execution_id)
    try:
        uri = _execution_file_uri(execution, request.GET.get("path", ""))
        return JsonResponse({"size": storage_size(uri)})
    except BadPath as exc:
        return api_error(400, str(exc))
    except FileNotFoundError:
        raise Http404(f"No such file in execution {execution.pk}") from None
