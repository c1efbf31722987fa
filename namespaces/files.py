"""A namespace's files, as Kestra's namespace files: a tree of folders and files that
script tasks take into their working directory (``namespaceFiles``), ``read('path')``
reads, and people edit beside the flow editor.

Paths are relative POSIX paths (a leading ``/``, as Kestra writes them, is dropped):
never ``..``, ``.``, an empty segment, a backslash or NUL, so a path can only name
something of its own namespace. Folders are rows of their own, as Kestra keeps empty
ones; writing ``a/b/c.txt`` creates ``a`` and ``a/b``. Sizes are bounded.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterable

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils.timezone import now

from accounts.audit import audit_record
from executions.runners.globs import glob_matcher
from flowsite.http import RequestUser
from flowsite.values import relative_path_check

from .models import NamespaceFile, _user

FILE_MAX_BYTES = 10 * 1024 * 1024
PATH_MAX_LENGTH = 255
NAMESPACE_MAX_ENTRIES = 5000
CONFLICTS = ("OVERWRITE", "ERROR", "SKIP")


class FilesError(ValueError):
    """A namespace file operation that cannot be done; the message says why."""


class FileMissing(FilesError, FileNotFoundError):
    pass


def _audit(user: RequestUser | None, action: str, namespace: str, path: str, summary: str) -> None:
    """A change a person made is audited; a running flow's are in its logs."""
    if user is not None:
        audit_record(
            actor=user,
            action=action,
            namespace=namespace,
            object_type="file",
            object_id="/" + path,
            summary=summary,
        )


def file_path_check(path: object, *, root: bool = False) -> str:
    """``path`` cleaned (no leading ``/``), or FilesError saying why it is refused.
    With ``root``, an empty path (or ``/``) names the namespace's root folder."""
    if not isinstance(path, str):
        raise FilesError("A file path is required")
    cleaned = path.strip().lstrip("/").rstrip("/") if path.strip() not in ("", "/") else ""
    if not cleaned:
        if root:
            return ""
        raise FilesError("A file path is required")
    if len(cleaned) > PATH_MAX_LENGTH:
        raise FilesError(f"The path '{cleaned[:40]}…' is longer than {PATH_MAX_LENGTH} characters")
    try:
        return relative_path_check(cleaned, what="path")
    except ValueError as exc:
        raise FilesError(str(exc)[0].upper() + str(exc)[1:]) from None


def entry_get(namespace: str, path: str) -> NamespaceFile | None:
    return NamespaceFile.objects.filter(namespace=namespace, path=path).first()


def _room_for(namespace: str, more: int) -> None:
    if NamespaceFile.objects.filter(namespace=namespace).count() + more > NAMESPACE_MAX_ENTRIES:
        raise FilesError(
            f"Namespace {namespace} would hold more than {NAMESPACE_MAX_ENTRIES} files and folders"
        )


def _parents_create(namespace: str, path: str, user: RequestUser | None) -> None:
    parts = path.split("/")[:-1]
    for depth in range(1, len(parts) + 1):
        folder = "/".join(parts[:depth])
        existing = entry_get(namespace, folder)
        if existing is None:
            _room_for(namespace, 1)
            NamespaceFile.objects.create(
                namespace=namespace, path=folder, is_directory=True, updated_by=_user(user)
            )
        elif not existing.is_directory:
            raise FilesError(f"Cannot create /{path}: /{folder} is a file, not a folder")


def directory_create(*, namespace: str, path: str, user: RequestUser | None = None) -> None:
    path = file_path_check(path)
    with transaction.atomic():
        _parents_create(namespace, path, user)
        existing = entry_get(namespace, path)
        if existing is not None and not existing.is_directory:
            raise FilesError(f"Cannot create the folder /{path}: a file has that path")
        if existing is None:
            _room_for(namespace, 1)
            NamespaceFile.objects.create(
                namespace=namespace, path=path, is_directory=True, updated_by=_user(user)
            )
            _audit(user, "created", namespace, path, "folder")


def file_write(
    *,
    namespace: str,
    path: str,
    content: bytes,
    user: RequestUser | None = None,
    conflict: str = "OVERWRITE",
) -> NamespaceFile | None:
    """Create or replace the file ``path``; with ``conflict`` SKIP an existing file is
    left as it is (None), with ERROR it is refused."""
    path = file_path_check(path)
    if len(content) > FILE_MAX_BYTES:
        raise FilesError(f"The file /{path} is larger than {FILE_MAX_BYTES // (1024 * 1024)} MB")
    try:
        with transaction.atomic():
            _parents_create(namespace, path, user)
            existing = (
                NamespaceFile.objects.select_for_update()
                .filter(namespace=namespace, path=path)
                .first()
            )
            if existing is not None and existing.is_directory:
                raise FilesError(f"Cannot write /{path}: it is a folder")
            if existing is not None and conflict == "SKIP":
                return None
            if existing is not None and conflict == "ERROR":
                raise FilesError(f"The file /{path} of namespace {namespace} already exists")
            fields = {"content": content, "size": len(content), "updated_by": _user(user)}
            action = "created" if existing is None else "changed"
            _audit(user, action, namespace, path, f"{len(content)} bytes")
            if existing is None:
                _room_for(namespace, 1)
                return NamespaceFile.objects.create(namespace=namespace, path=path, **fields)
            NamespaceFile.objects.filter(pk=existing.pk).update(
                revision=F("revision") + 1, updated_at=now(), **fields
            )
            existing.refresh_from_db()
            return existing
    except IntegrityError:  # written at the same moment by another request
        raise FilesError(f"The file /{path} was changed meanwhile: try again") from None


def file_read(namespace: str, path: str) -> bytes:
    path = file_path_check(path)
    entry = entry_get(namespace, path)
    if entry is None or entry.is_directory:
        raise FileMissing(f"No file /{path} in namespace {namespace}")
    return bytes(entry.content)


def directory_list(namespace: str, path: str = "") -> list[NamespaceFile]:
    """The folders and files directly inside ``path`` (the root when empty)."""
    path = file_path_check(path, root=True)
    if path:
        entry = entry_get(namespace, path)
        if entry is None or not entry.is_directory:
            raise FileMissing(f"No folder /{path} in namespace {namespace}")
    prefix = path + "/" if path else ""
    rows = NamespaceFile.objects.filter(namespace=namespace, path__startswith=prefix).defer(
        "content"
    )
    return [row for row in rows if "/" not in row.path[len(prefix) :]]


def tree(namespace: str) -> list[NamespaceFile]:
    """Every folder and file, each folder followed by what it holds, folders first."""
    rows = list(NamespaceFile.objects.filter(namespace=namespace).defer("content"))
    return sorted(rows, key=lambda r: _tree_key(r.path, r.is_directory))


def _tree_key(path: str, is_directory: bool) -> tuple[tuple[int, str], ...]:
    parts = path.split("/")
    return tuple((0 if (i < len(parts) - 1 or is_directory) else 1, p) for i, p in enumerate(parts))


def _beneath(namespace: str, path: str) -> Q:
    return Q(namespace=namespace) & (Q(path=path) | Q(path__startswith=path + "/"))


def entry_delete(*, namespace: str, path: str, user: RequestUser | None = None) -> int:
    """Delete a file, or a folder with all it holds; FileMissing when there is none."""
    path = file_path_check(path)
    deleted, _ = NamespaceFile.objects.filter(_beneath(namespace, path)).delete()
    if not deleted:
        raise FileMissing(f"No file or folder /{path} in namespace {namespace}")
    _audit(user, "deleted", namespace, path, f"{deleted} file(s) and folder(s)")
    return deleted


def entry_move(
    *, namespace: str, source: str, target: str, user: RequestUser | None = None
) -> None:
    """Rename or move a file or a folder (with all it holds) to ``target``."""
    source, target = file_path_check(source), file_path_check(target)
    if target == source:
        return
    if target.startswith(source + "/"):
        raise FilesError(f"Cannot move /{source} into itself (/{target})")
    with transaction.atomic():
        moving = list(NamespaceFile.objects.filter(_beneath(namespace, source)).defer("content"))
        if not moving:
            raise FileMissing(f"No file or folder /{source} in namespace {namespace}")
        if entry_get(namespace, target) is not None:
            raise FilesError(f"Cannot move /{source} to /{target}: /{target} already exists")
        _parents_create(namespace, target, user)
        for row in moving:
            new_path = target + row.path[len(source) :]
            file_path_check(new_path)
            NamespaceFile.objects.filter(pk=row.pk).update(path=new_path, updated_at=now())
        _audit(user, "moved", namespace, source, f"to /{target}")


def files_matching(
    namespace: str, include: Iterable[str] | None = None, exclude: Iterable[str] | None = None
) -> list[NamespaceFile]:
    """The files (not folders) that an ``include`` pattern matches (every file when
    there is none) and no ``exclude`` pattern does: Kestra's globs, over paths with or
    without their leading ``/``."""
    included = _matcher(include) if include else (lambda path: True)
    excluded = _matcher(exclude) if exclude else (lambda path: False)
    rows = NamespaceFile.objects.filter(namespace=namespace, is_directory=False)
    return [row for row in rows if included(row.path) and not excluded(row.path)]


def _matcher(patterns: Iterable[str]) -> Callable[[str], bool]:
    return glob_matcher([p.removeprefix("glob:").lstrip("/") for p in patterns])


def files_search(namespace: str, text: str) -> list[str]:
    rows = NamespaceFile.objects.filter(
        namespace=namespace, is_directory=False, path__contains=text
    ).values_list("path", flat=True)
    return ["/" + path for path in rows]


def files_export(namespace: str) -> bytes:
    """Every file of the namespace in a ZIP archive, by path."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for row in NamespaceFile.objects.filter(namespace=namespace).order_by("path"):
            if row.is_directory:
                archive.writestr(row.path + "/", b"")
            else:
                archive.writestr(row.path, bytes(row.content))
    return buffer.getvalue()


def files_import(*, namespace: str, archive: bytes, user: RequestUser | None = None) -> int:
    """The files of a ZIP archive written by path (Kestra's upload of a ``.zip``)."""
    try:
        with zipfile.ZipFile(io.BytesIO(archive)) as zipped:
            members = [m for m in zipped.infolist() if not m.is_dir()]
            if len(members) > NAMESPACE_MAX_ENTRIES:
                raise FilesError(f"The archive holds more than {NAMESPACE_MAX_ENTRIES} files")
            with transaction.atomic():
                for member in members:
                    with zipped.open(member) as unpacked:  # sizes in a ZIP can lie
                        content = unpacked.read(FILE_MAX_BYTES + 1)
                    if member.file_size > FILE_MAX_BYTES or len(content) > FILE_MAX_BYTES:
                        raise FilesError(f"/{member.filename} in the archive is too large")
                    file_write(
                        namespace=namespace, path=member.filename, content=content, user=user
                    )
    except zipfile.BadZipFile as exc:
        raise FilesError(f"The upload ends in .zip but is not a ZIP archive: {exc}") from None
    return len(members)


def file_attributes(entry: NamespaceFile | None, name: str = "") -> dict[str, object]:
    """Kestra's FileAttributes of a file or folder (None: the root folder)."""
    if entry is None:
        return {
            "fileName": name,
            "lastModifiedTime": 0,
            "creationTime": 0,
            "type": "Directory",
            "size": 0,
            "metadata": {},
        }
    return {
        "fileName": entry.name,
        "lastModifiedTime": int(entry.updated_at.timestamp() * 1000),
        "creationTime": int(entry.created_at.timestamp() * 1000),
        "type": "Directory" if entry.is_directory else "File",
        "size": entry.size,
        "metadata": {},
    }
