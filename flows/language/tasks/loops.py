"""LoopUntil (WaitFor before Kestra 0.23): runs its tasks again and again, a while
apart, until its condition renders true."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field

from flows.expressions import is_truthy

from ..states import State
from ..values import Duration
from .base import FlowableTask, LanguageModel, Layout, Planner, RunView, Undecided

if TYPE_CHECKING:
    from .base import BaseTask as Task  # the union, resolved in flowable.py


class CheckFrequency(LanguageModel):
    """How often the loop turns, and when it gives up (Kestra 1.x: no limit by default)."""

    interval: Duration = Field(timedelta(minutes=1), description="Wait between two turns")
    max_iterations: int | None = Field(None, ge=1, description="Turns at most")
    max_duration: Duration | None = Field(None, description="Longest the loop may last")


class LoopUntilTask(FlowableTask):
    """Runs its tasks in turns until the condition, rendered after each turn, is true.
    ``{{ outputs.<id>.iterationCount }}`` counts the turns, from 1."""

    type: Literal["io.kestra.plugin.core.flow.LoopUntil", "io.kestra.plugin.core.flow.WaitFor"]
    condition: str = Field(description="Stop once this renders true, e.g. {{ outputs.x.value }}")
    tasks: list[Task] = Field(min_length=1, description="The tasks of each turn, in order")
    check_frequency: CheckFrequency = Field(
        default_factory=CheckFrequency, description="interval, maxIterations, maxDuration"
    )
    fail_on_max_reached: bool = Field(
        False, description="End FAILED, not SUCCESS, when a maximum stops the loop"
    )
    child_properties: ClassVar[tuple[str, ...]] = ("tasks",)
    layout: ClassVar[Layout] = "stacked"

    @property
    def frequency(self) -> CheckFrequency:
        """Its checkFrequency. Written as WaitFor, what it leaves out takes the defaults
        of Kestra before 0.23, when the task had that name: every second, at most 100
        turns and an hour; as LoopUntil, Kestra 1.x's: every minute, no limit."""
        given = self.check_frequency
        if self.type != "io.kestra.plugin.core.flow.WaitFor":
            return given
        older = {
            "interval": timedelta(seconds=1),
            "max_iterations": 100,
            "max_duration": timedelta(hours=1),
        }
        return given.model_copy(
            update={k: v for k, v in older.items() if k not in given.model_fields_set}
        )

    def start(self, planner: Planner, run: RunView) -> dict[str, Any]:
        return {"iterationCount": 1}

    def progress(self, planner: Planner, run: RunView) -> State | None:
        turn = int(run.outputs.get("iterationCount", 1))
        prefix = f"{run.path}[{turn}]/"
        if run.wake_at is not None and not planner.started(prefix):
            return None  # waiting for its next turn: the clock wakes it
        state = planner.sequence(self.tasks, parent=run, value=run.value, prefix=prefix, limit=1)
        if state is None or state in (State.FAILED, State.KILLED):
            return state
        try:
            done = is_truthy(planner.render(self.condition, run))
        except Exception as exc:
            raise Undecided(self.undecided("condition", self.condition, exc)) from exc
        if done:
            return state
        frequency = self.frequency
        began = run.started_at or planner.now()
        lasted = planner.now() + frequency.interval - began
        if (frequency.max_iterations is not None and turn >= frequency.max_iterations) or (
            frequency.max_duration is not None and lasted > frequency.max_duration
        ):
            return State.FAILED if self.fail_on_max_reached else state
        planner.later(run, after=frequency.interval, outputs={"iterationCount": turn + 1})
        return None
