"""Kestra's namespace file tasks: UploadFiles, DownloadFiles and DeleteFiles.

Patterns are Kestra's globs over a file's path in the namespace (``**``, ``scripts/*.py``,
with or without a leading ``/``). A namespace other than the flow's own is reached only
where ``accounts.reach`` allows it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ..states import State
from .base import BaseTask, Outcome, Runtime
from .store import StoreError

Conflict = Literal["OVERWRITE", "ERROR", "SKIP"]
_NAMESPACE = Field(None, description="The namespace whose files it works on; the flow's by default")


def _patterns(files: str | list[str]) -> list[str]:
    return [files] if isinstance(files, str) else list(files)


def _failed(runtime: Runtime, message: str) -> Outcome:
    runtime.log(message, "ERROR")
    return Outcome(State.FAILED, error=message)


class UploadFiles(BaseTask):
    """Writes stored files (``kestra:///`` URIs, such as a task's outputFiles) as namespace files."""

    type: Literal["io.kestra.plugin.core.namespace.UploadFiles"]
    namespace: str | None = _NAMESPACE
    files_map: dict[str, str] | str | None = Field(
        None, description="Path in the namespace → kestra:/// URI of the file to write there"
    )
    files: list[str] | None = Field(
        None, description="Glob patterns of a WorkingDirectory's files (not available here)"
    )
    destination: str = Field("/", description="The folder the files are written into")
    conflict: Conflict = Field(
        "OVERWRITE", description="When a file exists: OVERWRITE, ERROR or SKIP"
    )

    def run(self, runtime: Runtime) -> Outcome:
        if self.files is not None:
            return _failed(
                runtime,
                "UploadFiles: 'files' takes the files of a WorkingDirectory, which Flowsite "
                "does not run around this task; use 'filesMap' with kestra:/// URIs",
            )
        if self.files_map is None:
            return _failed(runtime, "UploadFiles needs filesMap (or files)")
        mapping = self.files_map
        if isinstance(mapping, str):
            return _failed(runtime, "UploadFiles: filesMap must be a map of path to kestra:/// URI")
        folder = self.destination.strip("/")
        targets = {
            (f"{folder}/{path.lstrip('/')}" if folder else path): uri
            for path, uri in mapping.items()
        }
        store = runtime.namespace_store(self.namespace)
        try:
            written = store.files_upload(targets, conflict=self.conflict)
        except StoreError as exc:
            return _failed(runtime, str(exc))
        runtime.log(f"Uploaded {len(written)} file(s) to namespace {store.namespace}")
        return Outcome(State.SUCCESS)


class DownloadFiles(BaseTask):
    """Copies namespace files into the execution's storage: output ``files``, path → URI."""

    type: Literal["io.kestra.plugin.core.namespace.DownloadFiles"]
    namespace: str | None = _NAMESPACE
    files: str | list[str] = Field(description="A glob pattern or a list of them")
    destination: str = Field("", description="A folder to put the files under")

    def run(self, runtime: Runtime) -> Outcome:
        store = runtime.namespace_store(self.namespace)
        try:
            downloaded = store.files_download(_patterns(self.files), destination=self.destination)
        except StoreError as exc:
            return _failed(runtime, str(exc))
        return Outcome(State.SUCCESS, outputs={"files": downloaded})


class DeleteFiles(BaseTask):
    """Deletes the namespace files that the patterns match."""

    type: Literal["io.kestra.plugin.core.namespace.DeleteFiles"]
    namespace: str | None = _NAMESPACE
    files: str | list[str] = Field(description="A glob pattern or a list of them")

    def run(self, runtime: Runtime) -> Outcome:
        store = runtime.namespace_store(self.namespace)
        try:
            deleted = store.files_delete(_patterns(self.files))
        except StoreError as exc:
            return _failed(runtime, str(exc))
        runtime.log(f"Deleted {len(deleted)} file(s) of namespace {store.namespace}")
        return Outcome(State.SUCCESS)
