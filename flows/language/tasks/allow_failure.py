"""AllowFailure (an older Kestra flowable): runs its tasks in order, and their failure
only warns: it ends WARNING and the flow goes on."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import Field

from ..states import State
from .base import FlowableTask

if TYPE_CHECKING:
    from .base import BaseTask as Task  # the union, resolved in flowable.py


class AllowFailureTask(FlowableTask):
    """Runs its tasks in order; a failure among them ends it WARNING."""

    type: Literal[
        "io.kestra.plugin.core.flow.AllowFailure", "io.kestra.core.tasks.flows.AllowFailure"
    ]
    tasks: list[Task] = Field(min_length=1, description="The tasks, run in order")
    child_properties: ClassVar[tuple[str, ...]] = ("tasks",)

    def settle(self, state: State) -> State:
        return State.WARNING if state == State.FAILED else state
