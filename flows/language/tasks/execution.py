"""Tasks acting on executions themselves: execution.Labels (this one's labels) and
execution.PurgeExecutions (ended ones of this namespace)."""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import Field

from ..states import State
from .base import BaseTask, LanguageModel, Outcome, PurgeParts, Runtime
from .logs import purge_window

PurgedState = Literal["SUCCESS", "WARNING", "FAILED", "KILLED", "CANCELLED", "SKIPPED"]


class Label(LanguageModel):
    key: str = Field(min_length=1)
    value: Any


class LabelsTask(BaseTask):
    """Adds labels to the running execution, or changes them."""

    type: Literal[
        "io.kestra.plugin.core.execution.Labels", "io.kestra.core.tasks.executions.Labels"
    ]
    labels: dict[str, Any] | list[Label] | str = Field(
        description="A map of key to value, a list of {key, value}, or a JSON map as text"
    )

    def as_map(self) -> dict[str, str]:
        labels: Any = self.labels
        if isinstance(labels, str):
            try:
                labels = json.loads(labels)
            except ValueError:
                raise ValueError(f"labels '{labels[:100]}' is not a JSON map") from None
            if not isinstance(labels, dict):
                raise ValueError("labels given as text must be a JSON map")
        if isinstance(labels, list):
            labels = {label.key: label.value for label in labels}
        pairs = {str(key): _text(value) for key, value in labels.items()}
        if any(not key.strip() for key in pairs):
            raise ValueError("A label needs a key")
        return pairs

    def run(self, runtime: Runtime) -> Outcome:
        try:
            labels = self.as_map()
        except ValueError as exc:
            runtime.log(str(exc), "ERROR")
            return Outcome(State.FAILED, error=str(exc))
        runtime.labels_set(labels)
        runtime.log("Labels set: " + ", ".join(f"{k}={v}" for k, v in labels.items()))
        return Outcome(State.SUCCESS)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)


class PurgeExecutionsTask(BaseTask):
    """Deletes ended executions of this namespace (or one inside it): rows, logs, files."""

    type: Literal[
        "io.kestra.plugin.core.execution.PurgeExecutions",
        "io.kestra.plugin.core.storage.Purge",
        "io.kestra.core.tasks.storages.Purge",
    ]
    namespace: str | None = Field(
        None, description="This namespace or one inside it; the flow's own if unset"
    )
    flow_id: str | None = Field(None, description="Only this flow's (needs namespace)")
    start_date: str | None = Field(None, description="Executions started from this date on")
    end_date: str = Field(description="Executions started up to this date, e.g. {{ now() }}")
    states: list[PurgedState] | None = Field(None, description="Only executions that ended so")
    purge_execution: bool = Field(True, description="Delete the executions themselves")
    purge_log: bool = Field(True, description="Delete their logs")
    purge_metric: bool = Field(True, description="Delete their metrics")
    purge_storage: bool = Field(True, description="Delete their stored files")

    def run(self, runtime: Runtime) -> Outcome:
        window = purge_window(runtime, self.start_date, self.end_date)
        if isinstance(window, Outcome):
            return window
        start, end = window
        counts = runtime.executions_purge(
            namespace=self.namespace,
            flow_id=self.flow_id,
            states=list(self.states) if self.states else None,
            start=start,
            end=end,
            what=PurgeParts(
                executions=self.purge_execution, logs=self.purge_log, storage=self.purge_storage
            ),
        )
        runtime.log(
            f"Purged {counts['executionsCount']} executions, {counts['logsCount']} log lines "
            f"and {counts['storagesCount']} files"
        )
        return Outcome(State.SUCCESS, outputs=counts)
