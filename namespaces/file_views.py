"""The namespace files editor: a file tree with a text editor, as a page of its own and
as a panel beside the flow editor (the same htmx partial, ``namespaces/_files.html``).

Viewers browse and read; Editors create, save, rename and delete files and folders.
Every action answers the partial again, with the file it acted on open, or with the
error that refused it (422) naming the path and why.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from accounts.access import namespace_for_user
from accounts.permissions import may

from .files import (
    FilesError,
    directory_create,
    entry_delete,
    entry_get,
    entry_move,
    file_path_check,
    file_write,
    tree,
)
from .files_api import READ_ROLE, WRITE_ROLE
from .models import NamespaceFile


def _text(entry: NamespaceFile) -> str | None:
    """The file as text to edit, or None for a binary file."""
    data = bytes(entry.content)
    if b"\x00" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _render(
    request: HttpRequest, namespace: str, path: str = "", error: str = "", status: int = 200
) -> HttpResponse:
    try:
        selected = entry_get(namespace, file_path_check(path)) if path else None
    except FilesError:
        selected = None
    context = {
        "namespace": namespace,
        "tree": tree(namespace),
        "selected": selected,
        "text": _text(selected) if selected and not selected.is_directory else None,
        "may_edit": may(request.user, WRITE_ROLE, namespace),
        "error": error,
    }
    partial = request.headers.get("HX-Request")
    template = "namespaces/_files.html" if partial else "namespaces/files.html"
    return render(request, template, context, status=status)


def _done(request: HttpRequest, namespace: str, path: str) -> HttpResponse:
    if request.headers.get("HX-Request"):
        return _render(request, namespace, path)
    url = reverse("namespace_files", args=[namespace])
    return redirect(f"{url}?path={path}" if path else url)


@login_required
@require_GET
def namespace_files(request: HttpRequest, namespace: str) -> HttpResponse:
    """The tree, with ``?path=`` open; ``&download=1`` answers that file's bytes."""
    namespace_for_user(request.user, namespace, need=READ_ROLE)
    path = request.GET.get("path", "")
    if request.GET.get("download") and path:
        try:
            entry = entry_get(namespace, file_path_check(path))
        except FilesError as exc:
            return _render(request, namespace, error=str(exc), status=404)
        if entry is None or entry.is_directory:
            return _render(request, namespace, error=f"No file /{path}", status=404)
        response = HttpResponse(bytes(entry.content), content_type="application/octet-stream")
        response["Content-Disposition"] = f'attachment; filename="{entry.name}"'
        return response
    return _render(request, namespace, path)


def _act(request: HttpRequest, namespace: str) -> tuple[str, str]:
    namespace_for_user(request.user, namespace, need=WRITE_ROLE)
    return request.POST.get("path", ""), request.POST.get("to", "")


@login_required
@require_POST
def files_new(request: HttpRequest, namespace: str) -> HttpResponse:
    """A new empty file (``kind=file``) or folder (``kind=folder``) at ``path``."""
    path, _ = _act(request, namespace)
    try:
        path = file_path_check(path)
        if entry_get(namespace, path) is not None:
            raise FilesError(f"/{path} already exists")
        if request.POST.get("kind") == "folder":
            directory_create(namespace=namespace, path=path, user=request.user)
        else:
            file_write(namespace=namespace, path=path, content=b"", user=request.user)
    except FilesError as exc:
        return _render(request, namespace, error=str(exc), status=422)
    return _done(request, namespace, path)


@login_required
@require_POST
def file_save(request: HttpRequest, namespace: str) -> HttpResponse:
    path, _ = _act(request, namespace)
    content = request.POST.get("content", "").replace("\r\n", "\n")
    try:
        path = file_path_check(path)
        file_write(namespace=namespace, path=path, content=content.encode(), user=request.user)
    except FilesError as exc:
        return _render(request, namespace, path, error=str(exc), status=422)
    return _done(request, namespace, path)


@login_required
@require_POST
def file_rename(request: HttpRequest, namespace: str) -> HttpResponse:
    """Rename or move a file or folder: ``to`` is its new path."""
    path, target = _act(request, namespace)
    try:
        entry_move(namespace=namespace, source=path, target=target, user=request.user)
        target = file_path_check(target)
    except FilesError as exc:
        return _render(request, namespace, path, error=str(exc), status=422)
    return _done(request, namespace, target)


@login_required
@require_POST
def file_delete(request: HttpRequest, namespace: str) -> HttpResponse:
    path, _ = _act(request, namespace)
    try:
        entry_delete(namespace=namespace, path=path, user=request.user)
    except FilesError as exc:
        return _render(request, namespace, path, error=str(exc), status=422)
    return _done(request, namespace, "")
