"""Core tasks that need no runner: logging, publishing values, waiting, failing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import AliasChoices, Field

from flows.expressions import is_truthy
from flowsite.values import format_iso_duration

from ..states import State
from ..values import Duration
from .base import BaseTask, LogLevel, Outcome, Runtime


class LogTask(BaseTask):
    """Writes a message to the execution's logs."""

    type: Literal["io.kestra.plugin.core.log.Log", "io.kestra.core.tasks.log.Log", "Log"]
    message: str | list[str] = Field(description="The message, or several")
    level: LogLevel = Field("INFO", description="Level of the log line")

    @property
    def messages(self) -> list[str]:
        return [self.message] if isinstance(self.message, str) else list(self.message)

    def run(self, runtime: Runtime) -> Outcome:
        for message in self.messages:
            runtime.log(message, self.level)
        return Outcome(State.SUCCESS)


class ReturnTask(BaseTask):
    """Renders a value into its output ``value``."""

    type: Literal["io.kestra.plugin.core.debug.Return", "io.kestra.core.tasks.debugs.Return"]
    format: str | None = Field(None, description="The text to render, e.g. {{ inputs.name }}")

    def run(self, runtime: Runtime) -> Outcome:
        return Outcome(State.SUCCESS, outputs={"value": self.format})


class OutputValues(BaseTask):
    """Publishes values as outputs: ``{{ outputs.<id>.values.<key> }}``."""

    type: Literal["io.kestra.plugin.core.output.OutputValues"]
    values: dict[str, Any] = Field(default_factory=dict, description="Values to publish")

    def run(self, runtime: Runtime) -> Outcome:
        return Outcome(State.SUCCESS, outputs={"values": self.values})


class SleepTask(BaseTask):
    """Waits for a while."""

    type: Literal["io.kestra.plugin.core.flow.Sleep"]
    duration: Duration = Field(description="How long to wait (ISO-8601)")

    def run(self, runtime: Runtime) -> Outcome:
        runtime.log(f"Waiting for {format_iso_duration(self.duration)}")  # as Kestra logs it
        stop = runtime.wait(self.duration.total_seconds())
        return Outcome(State.KILLED if stop else State.SUCCESS)


class FailTask(BaseTask):
    """Fails the execution, always or when a condition renders true."""

    type: Literal["io.kestra.plugin.core.execution.Fail", "io.kestra.core.tasks.executions.Fail"]
    condition: str | None = Field(None, description="Fail only when this renders true")
    error_message: str = Field("Task failure", description="Why the execution fails")

    def run(self, runtime: Runtime) -> Outcome:
        if self.condition is None or is_truthy(self.condition):
            runtime.log(self.error_message, "ERROR")
            return Outcome(State.FAILED, error=self.error_message)
        return Outcome(State.SUCCESS)


class PauseTask(BaseTask):
    """Pauses the execution until it is resumed, or for a set duration."""

    type: Literal["io.kestra.plugin.core.flow.Pause", "io.kestra.core.tasks.flows.Pause"]
    pause_duration: Duration | None = Field(
        None,
        validation_alias=AliasChoices("pauseDuration", "delay", "pause_duration"),
        description="Resume by itself after this long; without it, wait for Resume",
    )

    def run(self, runtime: Runtime) -> Outcome:
        wake_at = datetime.now(UTC) + self.pause_duration if self.pause_duration else None
        runtime.log(
            f"Paused until {wake_at:%Y-%m-%d %H:%M:%S} UTC" if wake_at else "Paused until resumed"
        )
        return Outcome(State.PAUSED, wake_at=wake_at)
