"""What the KV and namespace file tasks may ask of a namespace's store while they run.

The engine gives one through ``Runtime.namespace_store(namespace)``, once it has checked
that the running flow may reach that namespace (``accounts.reach``); the language never
touches the database itself.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Protocol


class StoreError(Exception):
    """A KV or file operation that failed; the message says what and why."""


class NamespaceStore(Protocol):
    namespace: str

    def kv_get(self, key: str) -> tuple[bool, Any]:
        """(found, value): an expired entry is not found."""

    def kv_set(
        self,
        key: str,
        value: Any,
        *,
        kv_type: str | None,
        overwrite: bool,
        ttl: timedelta | None,
        description: str | None,
    ) -> None: ...

    def kv_keys(self, prefix: str | None) -> list[str]: ...

    def kv_delete(self, key: str) -> bool: ...

    def files_upload(self, files: dict[str, str], *, conflict: str) -> dict[str, str]:
        """Write each stored file (``kestra:///`` URI) at its path; the paths written."""

    def files_download(self, patterns: list[str], *, destination: str) -> dict[str, str]:
        """Copy the matching files into the task's outputs: path → ``kestra:///`` URI."""

    def files_delete(self, patterns: list[str]) -> list[str]:
        """Delete the matching files; their paths."""
