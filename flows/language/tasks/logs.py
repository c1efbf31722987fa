"""Log tasks beyond log.Log: the deprecated debug.Echo, log.Fetch (an execution's logs
into a stored file) and log.PurgeLogs."""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, datetime
from typing import Literal

from pydantic import Field

from ..states import State
from .base import BaseTask, LogLevel, Outcome, Runtime


class EchoTask(BaseTask):
    """Deprecated in Kestra for log.Log: writes ``format`` to the logs at ``level``."""

    type: Literal["io.kestra.plugin.core.debug.Echo", "io.kestra.core.tasks.debugs.Echo"]
    format: str = Field(min_length=1, description="The message, e.g. {{ task.id }} started")
    level: LogLevel = Field("INFO", description="Level of the log line")

    def run(self, runtime: Runtime) -> Outcome:
        runtime.log(self.format, self.level)
        return Outcome(State.SUCCESS)


class FetchLogsTask(BaseTask):
    """Stores an execution's logs as a file, one JSON object (Ion text) a line."""

    type: Literal["io.kestra.plugin.core.log.Fetch", "io.kestra.core.tasks.log.Fetch"]
    execution_id: str | None = Field(None, description="Whose logs; this execution's if unset")
    namespace: str | None = Field(None, description="Namespace of that execution's flow")
    flow_id: str | None = Field(None, description="Its flow; this flow's if unset")
    tasks_id: list[str] | None = Field(None, description="Only the logs of these tasks")
    level: LogLevel = Field("INFO", description="The lowest level fetched")

    def run(self, runtime: Runtime) -> Outcome:
        rows = runtime.logs_fetch(
            execution_id=self.execution_id,
            namespace=self.namespace,
            flow_id=self.flow_id,
            task_ids=self.tasks_id,
            level=self.level,
        )
        count = 0
        with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as file:
            for row in rows:
                file.write(json.dumps(row, ensure_ascii=False).encode() + b"\n")
                count += 1
            file.seek(0)
            uri = runtime.file_store("logs.ion", file)
        runtime.log(f"Fetched {count} log lines")
        return Outcome(State.SUCCESS, outputs={"uri": uri, "size": count})


def instant(text: str, what: str) -> datetime:
    """A rendered date (ISO-8601, with or without its zone: UTC then) or ValueError."""
    try:
        moment = datetime.fromisoformat(str(text).strip())
    except ValueError:
        raise ValueError(f"{what} '{str(text)[:100]}' is not an ISO-8601 date") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def purge_window(
    runtime: Runtime, start_date: str | None, end_date: str
) -> tuple[datetime | None, datetime] | Outcome:
    """A purge's startDate and endDate as instants, or the FAILED outcome naming the bad one."""
    try:
        start = instant(start_date, "startDate") if start_date else None
        return start, instant(end_date, "endDate")
    except ValueError as exc:
        runtime.log(str(exc), "ERROR")
        return Outcome(State.FAILED, error=str(exc))


class PurgeLogsTask(BaseTask):
    """Deletes log lines of ended executions of this namespace (or one inside it)."""

    type: Literal["io.kestra.plugin.core.log.PurgeLogs"]
    namespace: str | None = Field(
        None, description="This namespace or one inside it; the flow's own if unset"
    )
    flow_id: str | None = Field(None, description="Only this flow's (needs namespace)")
    log_levels: list[LogLevel] | None = Field(None, description="Only lines at these levels")
    start_date: str | None = Field(None, description="Lines written from this date on")
    end_date: str = Field(description="Lines written up to this date, e.g. {{ now() }}")

    def run(self, runtime: Runtime) -> Outcome:
        window = purge_window(runtime, self.start_date, self.end_date)
        if isinstance(window, Outcome):
            return window
        start, end = window
        count = runtime.logs_purge(
            namespace=self.namespace,
            flow_id=self.flow_id,
            levels=list(self.log_levels) if self.log_levels else None,
            start=start,
            end=end,
        )
        runtime.log(f"Purged {count} log lines")
        return Outcome(State.SUCCESS, outputs={"count": count})
