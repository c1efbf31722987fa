"""Kestra's namespace file endpoints, under ``/api/v1/namespaces/{namespace}/files``.

``GET ?path=`` the content; ``POST ?path=`` with a multipart ``fileContent`` writes it
(a ``.zip`` upload is unpacked, as Kestra does); ``PUT ?from=&to=`` moves; ``DELETE
?path=`` deletes a file or a folder; ``/directory`` lists (GET) or creates (POST) a
folder; ``/stats`` gives Kestra's FileAttributes; ``/search?q=`` the paths holding ``q``;
``/export`` a ZIP of them all; ``/revisions`` the current revision. Viewers read,
Editors change; paths are checked by ``files.file_path_check`` (no ``..``, no absolute
escape), and a refusal is a JSON 400 saying why.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse

from accounts.access import namespace_for_user
from accounts.models import Role
from flowsite.api import api_error, api_view

from .files import (
    FILE_MAX_BYTES,
    FileMissing,
    FilesError,
    directory_create,
    directory_list,
    entry_delete,
    entry_get,
    entry_move,
    file_attributes,
    file_path_check,
    file_read,
    file_write,
    files_export,
    files_import,
    files_search,
)

READ_ROLE, WRITE_ROLE = Role.VIEWER, Role.EDITOR


def _refused(exc: FilesError) -> HttpResponse:
    return api_error(404 if isinstance(exc, FileMissing) else 400, str(exc))


def _required(request: HttpRequest, name: str) -> str:
    value = request.GET.get(name)
    if value is None:
        raise FilesError(f"The query parameter '{name}' is required")
    return value


@api_view(("GET", "POST", "PUT", "DELETE"))
def files(request: HttpRequest, namespace: str) -> HttpResponse:
    need = READ_ROLE if request.method == "GET" else WRITE_ROLE
    namespace_for_user(request.user, namespace, need=need)
    try:
        if request.method == "GET":
            path = file_path_check(_required(request, "path"))
            wanted = request.GET.get("revision")
            entry = entry_get(namespace, path)
            if wanted and (entry is None or str(entry.revision) != wanted):
                # Only the current content is kept (see ``revisions``).
                raise FileMissing(f"No revision {wanted} of /{path} in namespace {namespace}")
            content = file_read(namespace, path)
            return HttpResponse(content, content_type="application/octet-stream")
        if request.method == "POST":
            return _upload(request, namespace)
        if request.method == "PUT":
            entry_move(
                namespace=namespace,
                source=_required(request, "from"),
                target=_required(request, "to"),
                user=request.user,
            )
            return HttpResponse(status=200)
        entry_delete(namespace=namespace, path=_required(request, "path"), user=request.user)
        return HttpResponse(status=200)
    except FilesError as exc:
        return _refused(exc)


def _upload(request: HttpRequest, namespace: str) -> HttpResponse:
    """A ``.zip`` is unpacked at the root by its own paths (Kestra ignores ``path``)."""
    path = _required(request, "path")
    upload = request.FILES.get("fileContent")
    if upload is not None and upload.size is not None and upload.size > FILE_MAX_BYTES:
        raise FilesError(f"The file {path} is larger than {FILE_MAX_BYTES // 2**20} MB")
    content = upload.read() if upload is not None else b""
    if upload is not None and (upload.name or "").lower().endswith(".zip"):
        files_import(namespace=namespace, archive=content, user=request.user)
    else:
        file_write(namespace=namespace, path=path, content=content, user=request.user)
    return HttpResponse(status=200)


@api_view(("GET", "POST"))
def directory(request: HttpRequest, namespace: str) -> HttpResponse:
    need = READ_ROLE if request.method == "GET" else WRITE_ROLE
    namespace_for_user(request.user, namespace, need=need)
    try:
        if request.method == "POST":
            directory_create(
                namespace=namespace, path=_required(request, "path"), user=request.user
            )
            return HttpResponse(status=200)
        rows = directory_list(namespace, request.GET.get("path") or "")
        return JsonResponse([file_attributes(row) for row in rows], safe=False)
    except FilesError as exc:
        return _refused(exc)


@api_view(("GET",))
def stats(request: HttpRequest, namespace: str) -> HttpResponse:
    namespace_for_user(request.user, namespace, need=READ_ROLE)
    try:
        path = file_path_check(request.GET.get("path") or "", root=True)
        if not path:
            return JsonResponse(file_attributes(None, "/"))
        entry = entry_get(namespace, path)
        if entry is None:
            raise FileMissing(f"No file or folder /{path} in namespace {namespace}")
        return JsonResponse(file_attributes(entry))
    except FilesError as exc:
        return _refused(exc)


@api_view(("GET",))
def search(request: HttpRequest, namespace: str) -> HttpResponse:
    namespace_for_user(request.user, namespace, need=READ_ROLE)
    return JsonResponse(files_search(namespace, request.GET.get("q", "")), safe=False)


@api_view(("GET",))
def export(request: HttpRequest, namespace: str) -> HttpResponse:
    namespace_for_user(request.user, namespace, need=READ_ROLE)
    response = HttpResponse(files_export(namespace), content_type="application/octet-stream")
    response["Content-Disposition"] = f'attachment; filename="{namespace}_files.zip"'
    return response


@api_view(("GET",))
def revisions(request: HttpRequest, namespace: str) -> HttpResponse:
    """Flowsite keeps a file's current content only: its one revision is listed."""
    namespace_for_user(request.user, namespace, need=READ_ROLE)
    try:
        path = file_path_check(_required(request, "path"))
        entry = entry_get(namespace, path)
        if entry is None or entry.is_directory:
            raise FileMissing(f"No file /{path} in namespace {namespace}")
        return JsonResponse([{"revision": entry.revision}], safe=False)
    except FilesError as exc:
        return _refused(exc)
