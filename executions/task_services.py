"""The part of a worker's Runtime that the core tasks beyond scripts use: HTTP, the
internal storage, and Flowsite's own records (logs, labels, purges). Each is bounded to
what the running execution's namespace may reach (see ``housekeeping`` and
``http_client``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import IO, Any

from accounts.reach import CrossingRefused
from flows.language.tasks import SubflowTask
from flows.language.tasks.base import ChildExecution, PurgeParts
from namespaces.crypto import encrypt

from . import housekeeping
from .http_client import TaskSession
from .live import LogWriter
from .models import Execution, TaskRun
from .runners.base import TaskError
from .storage import storage_read_for, storage_save, storage_uri
from .subflow_outputs import SubflowOutputsFailed, subflow_outputs


class TaskServices:
    """Mixed into the worker's Runtime, which sets these three."""

    task_run: TaskRun
    execution: Execution
    writer: LogWriter

    def http_session(self) -> TaskSession:
        return TaskSession()

    def encrypt(self, text: str) -> str:
        return encrypt(text)

    def subflow_outputs(self, task: SubflowTask, child: ChildExecution) -> dict[str, Any]:
        if not isinstance(child, Execution):  # start_subflow gave it: always a row
            raise TypeError(f"A child execution is a row, not {type(child).__name__}")
        try:
            return subflow_outputs(task, child)
        except SubflowOutputsFailed as exc:
            raise TaskError(str(exc)) from None

    def file_store(self, name: str, content: bytes | IO[bytes]) -> str:
        try:
            uri = storage_uri(self.execution, self.task_run, name)
        except ValueError as exc:
            raise TaskError(f"Cannot store a file named '{name}': {exc}") from None
        return storage_save(uri, content)

    def file_read(self, uri: str, *, what: str) -> bytes:
        try:
            return storage_read_for(self.execution, uri, what=what)
        except CrossingRefused as exc:
            raise TaskError(str(exc)) from None
        except (FileNotFoundError, ValueError) as exc:
            raise TaskError(f"{what}: {exc}") from None

    def logs_fetch(
        self,
        *,
        execution_id: str | None,
        namespace: str | None,
        flow_id: str | None,
        task_ids: list[str] | None,
        level: str,
    ) -> Iterator[dict[str, Any]]:
        self.writer.flush()  # this task's own lines so far are fetched too
        return housekeeping.logs_of_execution(
            self.execution,
            execution_id=execution_id,
            namespace=namespace,
            flow_id=flow_id,
            task_ids=task_ids,
            level=level,
        )

    def labels_set(self, labels: dict[str, str]) -> None:
        housekeeping.labels_merge(self.execution, labels)

    def logs_purge(
        self,
        *,
        namespace: str | None,
        flow_id: str | None,
        levels: list[str] | None,
        start: datetime | None,
        end: datetime,
    ) -> int:
        return housekeeping.logs_purge(
            self.execution,
            namespace=namespace,
            flow_id=flow_id,
            levels=levels,
            start=start,
            end=end,
        )

    def executions_purge(
        self,
        *,
        namespace: str | None,
        flow_id: str | None,
        states: list[str] | None,
        start: datetime | None,
        end: datetime,
        what: PurgeParts,
    ) -> dict[str, int]:
        return housekeeping.executions_purge(
            self.execution,
            namespace=namespace,
            flow_id=flow_id,
            states=states,
            start=start,
            end=end,
            what=what,
        )
