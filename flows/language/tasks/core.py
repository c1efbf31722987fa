"""Core tasks that need no runner: logging, publishing values, waiting, failing."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import AliasChoices, Field

from flows.expressions import is_truthy
from flowsite.values import format_iso_duration, parse_duration

from ..inputs import Input
from ..states import State
from ..values import Duration, DurationOrExpression
from .base import BaseTask, FlowableTask, LogLevel, Outcome, Planner, Runtime, RunView

if TYPE_CHECKING:
    from .base import BaseTask as Task  # the union, resolved in flowable.py


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


class PauseTask(FlowableTask):
    """Pauses the execution until it is resumed (with its ``onResume`` inputs, when it
    declares some), or for a set duration. It runs on no worker: the engine pauses it.
    Its older ``tasks`` run once it is resumed."""

    type: Literal["io.kestra.plugin.core.flow.Pause", "io.kestra.core.tasks.flows.Pause"]
    pause_duration: DurationOrExpression | None = Field(
        None,
        validation_alias=AliasChoices("pauseDuration", "delay", "pause_duration"),
        description="Resume by itself after this long; without it, wait for Resume",
    )
    behavior: Literal["RESUME", "WARN", "FAIL", "CANCEL"] | None = Field(
        None,
        description="When pauseDuration (or the older timeout) is over: RESUME (the default "
        "with pauseDuration), WARN, FAIL (the default with a timeout only) or CANCEL",
    )
    on_resume: list[Input] = Field(
        default_factory=list, description="Inputs asked for when it is resumed"
    )
    tasks: list[Task] = Field(
        default_factory=list, description="Older syntax: tasks run once it is resumed"
    )
    child_properties: ClassVar[tuple[str, ...]] = ("tasks",)

    def wait(self, planner: Planner, run: RunView) -> timedelta | None:
        """How long it stays paused unless resumed: pauseDuration (an expression is
        rendered now, then read as a duration), or the older timeout."""
        delay = self.pause_duration
        if isinstance(delay, str):
            delay = parse_duration(str(planner.render_value(delay, run)))
        return delay if delay is not None else self.timeout

    @property
    def when_over(self) -> str:
        """What happens once ``wait`` is over."""
        if self.behavior is not None:
            return self.behavior
        return "RESUME" if self.pause_duration is not None else "FAIL"

    def progress(self, planner: Planner, run: RunView) -> State | None:
        if run.state == State.PAUSED:
            return None
        if "onResume" not in run.outputs:  # it has not paused yet
            wait = self.wait(planner, run)
            wake_at = planner.now() + wait if wait is not None else None
            shown = f"{wake_at:%Y-%m-%d %H:%M:%S} UTC" if wake_at else "resumed"
            planner.pause(run, until=wake_at, message=f"Paused until {shown}")
            return None
        if not self.tasks:
            return State.SUCCESS
        return planner.sequence(
            self.tasks, parent=run, value=run.value, prefix=run.path + "/", limit=1
        )
