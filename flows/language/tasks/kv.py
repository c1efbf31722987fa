"""Kestra's KV store tasks: Set, Get, GetKeys and Delete.

Each works on the flow's namespace, or on ``namespace`` when it names another one the
flow may reach (its own children, or a namespace that allowed it: ``accounts.reach``).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from ..states import State
from ..values import Duration
from .base import BaseTask, Outcome, Runtime
from .store import StoreError

KVTypeName = Literal["STRING", "NUMBER", "BOOLEAN", "DATETIME", "DATE", "DURATION", "JSON"]
_NAMESPACE = Field(None, description="The namespace of the KV store; the flow's by default")


def _failed(runtime: Runtime, message: str) -> Outcome:
    runtime.log(message, "ERROR")
    return Outcome(State.FAILED, error=message)


class KVSet(BaseTask):
    """Sets a key of a namespace's KV store."""

    type: Literal["io.kestra.plugin.core.kv.Set"]
    key: str = Field(description="The key to set")
    value: Any = Field(description="The value; kvType says how to read text")
    kv_type: KVTypeName | None = Field(
        None,
        description="STRING (default for text), NUMBER, BOOLEAN, DATETIME, DATE, DURATION or JSON",
    )
    namespace: str | None = _NAMESPACE
    overwrite: bool = Field(True, description="Replace an existing value; false fails instead")
    ttl: Duration | None = Field(None, description="The entry expires after this (ISO-8601)")
    description: str | None = None

    def run(self, runtime: Runtime) -> Outcome:
        store = runtime.namespace_store(self.namespace)
        try:
            store.kv_set(
                self.key,
                self.value,
                kv_type=self.kv_type,
                overwrite=self.overwrite,
                ttl=self.ttl,
                description=self.description,
            )
        except StoreError as exc:
            return _failed(runtime, str(exc))
        return Outcome(State.SUCCESS)


class KVGet(BaseTask):
    """Reads a key of a namespace's KV store into its output ``value``."""

    type: Literal["io.kestra.plugin.core.kv.Get"]
    key: str = Field(description="The key to read")
    namespace: str | None = _NAMESPACE
    error_on_missing: bool = Field(False, description="Fail when there is no such key")

    def run(self, runtime: Runtime) -> Outcome:
        store = runtime.namespace_store(self.namespace)
        try:
            found, value = store.kv_get(self.key)
        except StoreError as exc:
            return _failed(runtime, str(exc))
        if not found and self.error_on_missing:
            return _failed(
                runtime,
                f"No value for key '{self.key}' in namespace {store.namespace} "
                "and errorOnMissing is true",
            )
        return Outcome(State.SUCCESS, outputs={"value": value})


class KVGetKeys(BaseTask):
    """Lists the keys of a namespace's KV store, those starting with ``prefix``."""

    type: Literal["io.kestra.plugin.core.kv.GetKeys"]
    prefix: str | None = Field(None, description="Only keys starting with this")
    namespace: str | None = _NAMESPACE

    def run(self, runtime: Runtime) -> Outcome:
        store = runtime.namespace_store(self.namespace)
        try:
            keys = store.kv_keys(self.prefix)
        except StoreError as exc:
            return _failed(runtime, str(exc))
        return Outcome(State.SUCCESS, outputs={"keys": keys})


class KVDelete(BaseTask):
    """Deletes a key of a namespace's KV store; output ``deleted`` says whether it was there."""

    type: Literal["io.kestra.plugin.core.kv.Delete"]
    key: str = Field(description="The key to delete")
    namespace: str | None = _NAMESPACE
    error_on_missing: bool = Field(False, description="Fail when there is no such key")

    def run(self, runtime: Runtime) -> Outcome:
        store = runtime.namespace_store(self.namespace)
        try:
            deleted = store.kv_delete(self.key)
        except StoreError as exc:
            return _failed(runtime, str(exc))
        if not deleted and self.error_on_missing:
            return _failed(
                runtime,
                f"No value for key '{self.key}' in namespace {store.namespace} "
                "and errorOnMissing is true",
            )
        return Outcome(State.SUCCESS, outputs={"deleted": deleted})
