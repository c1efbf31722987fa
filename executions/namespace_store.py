"""A namespace's KV store and files as a running flow reaches them: the KV and namespace
file tasks, ``namespaceFiles`` of script tasks, and the ``kv()`` and ``read()`` functions.

A flow reaches its own namespace and those inside it; another one only where an Admin of
that namespace allowed the flow's (``accounts.reach``), as for Subflows. The check comes
first, so a refusal tells nothing of what the other namespace holds.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from accounts.reach import CrossingRefused, reaches, refusal
from flows.language.tasks.store import StoreError
from flows.language.values import NAMESPACE_PATTERN
from namespaces.files import (
    FilesError,
    entry_delete,
    file_path_check,
    file_read,
    file_write,
    files_matching,
)
from namespaces.kv import KVError, KVMissing, kv_delete, kv_keys, kv_set, kv_typed, kv_value

from .models import Execution, TaskRun
from .runners.base import TaskError
from .storage import storage_read_for, storage_save, storage_uri

DOING = "reach the KV store and files of"


def namespace_reach_require(execution: Execution, namespace: str | None, *, what: str) -> str:
    """The namespace ``execution`` works on (its own when None), or CrossingRefused."""
    target = execution.namespace if namespace is None or namespace == "" else str(namespace)
    if not re.fullmatch(NAMESPACE_PATTERN, target):
        raise CrossingRefused(f"{what}: '{target[:150]}' is not a namespace name")
    if not reaches(execution.namespace, target):
        raise CrossingRefused(f"{what} refused: {refusal(execution.namespace, target, DOING)}")
    return target


class TaskNamespaceStore:
    """The NamespaceStore a KV or namespace file task gets (flows.language.tasks.store)."""

    def __init__(self, namespace: str, execution: Execution, task_run: TaskRun):
        self.namespace, self.execution, self.task_run = namespace, execution, task_run

    def kv_get(self, key: str) -> tuple[bool, Any]:
        try:
            return True, kv_value(self.namespace, key).value
        except KVMissing:
            return False, None
        except KVError as exc:
            raise StoreError(str(exc)) from None

    def kv_set(
        self,
        key: str,
        value: Any,
        *,
        kv_type: str | None,
        overwrite: bool,
        ttl: timedelta | None,
        description: str | None,
    ) -> None:
        try:
            kv_set(
                namespace=self.namespace,
                key=key,
                typed=kv_typed(value, kv_type),
                ttl=ttl,
                description=description,
                overwrite=overwrite,
            )
        except KVError as exc:
            raise StoreError(str(exc)) from None

    def kv_keys(self, prefix: str | None) -> list[str]:
        return [entry.key for entry in kv_keys(self.namespace, prefix)]

    def kv_delete(self, key: str) -> bool:
        try:
            return kv_delete(self.namespace, key)
        except KVError as exc:
            raise StoreError(str(exc)) from None

    def files_upload(self, files: dict[str, str], *, conflict: str) -> dict[str, str]:
        written = {}
        for path, uri in files.items():
            what = f"UploadFiles '{path}'"
            try:
                content = storage_read_for(self.execution, str(uri).strip(), what=what)
                if file_write(
                    namespace=self.namespace, path=path, content=content, conflict=conflict
                ):
                    written[path] = uri
            except CrossingRefused as exc:
                raise StoreError(str(exc)) from None
            except (FilesError, FileNotFoundError, ValueError) as exc:
                raise StoreError(f"{what}: {exc}") from None
        return written

    def files_download(self, patterns: list[str], *, destination: str) -> dict[str, str]:
        folder = destination.strip("/")
        downloaded = {}
        for entry in files_matching(self.namespace, patterns):
            name = f"{folder}/{entry.path}" if folder else entry.path
            uri = storage_uri(self.execution, self.task_run, name)
            downloaded["/" + entry.path] = storage_save(uri, bytes(entry.content))
        return downloaded

    def files_delete(self, patterns: list[str]) -> list[str]:
        deleted = []
        for entry in files_matching(self.namespace, patterns):
            entry_delete(namespace=self.namespace, path=entry.path)
            deleted.append("/" + entry.path)
        return deleted


def namespace_files_for_script(
    execution: Execution, block: Any, warn: Callable[[str], None]
) -> dict[str, bytes]:
    """The files a script task's ``namespaceFiles`` block writes into its working
    directory: those of each of its ``namespaces`` (the flow's own by default) that the
    flow may reach, by path (under a folder per namespace with ``folderPerNamespace``);
    a path two namespaces give is settled by ``ifExists``."""
    files: dict[str, bytes] = {}
    origin: dict[str, str] = {}
    for name in block.namespaces or [execution.namespace]:
        namespace = namespace_reach_require(execution, name, what="namespaceFiles")
        for entry in files_matching(namespace, block.include, block.exclude):
            path = f"{namespace}/{entry.path}" if block.folder_per_namespace else entry.path
            if path in files and block.if_exists != "OVERWRITE":
                clash = f"namespaceFiles: {path} of {namespace} is also in {origin[path]}"
                if block.if_exists == "FAIL":
                    raise TaskError(f"{clash} (ifExists: FAIL)")
                if block.if_exists == "WARN":
                    warn(f"{clash}: the first is kept (ifExists: WARN)")
                continue
            files[path], origin[path] = bytes(entry.content), namespace
    return files


def kv_for_expression(
    execution: Execution, key: Any, namespace: Any = None, error_on_missing: bool = True
) -> Any:
    """``kv('key')``: the flow's namespace, then its parents; ``kv('key', 'other')``: that
    namespace alone, when the flow may reach it. Missing: an error, or None when
    ``errorOnMissing`` is false."""
    target = namespace_reach_require(execution, namespace, what=f"kv('{key}')")
    try:
        return kv_value(target, str(key), inherit=namespace is None).value
    except KVMissing:
        if error_on_missing:
            raise
        return None


def namespace_file_for_expression(execution: Execution, path: str, namespace: Any = None) -> str:
    """``read('scripts/query.sql')``: a namespace file of the flow's namespace (or of
    ``namespace``, when the flow may reach it), as text."""
    target = namespace_reach_require(execution, namespace, what=f"read('{path}')")
    return file_read(target, file_path_check(path)).decode("utf-8", errors="replace")
