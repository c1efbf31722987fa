"""Kestra's deprecated AllowFailure: a block of tasks whose failure does not fail the flow."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field

from ..states import State
from .base import FlowableTask, Planner, RunView

if TYPE_CHECKING:
    from .flowable import Task


class AllowFailureTask(FlowableTask):
    """Runs its tasks one after the other; when one fails the block stops, runs its
    ``errors``, and ends WARNING, and the flow goes on after it."""

    type: Literal[
        "io.kestra.plugin.core.flow.AllowFailure", "io.kestra.core.tasks.flows.AllowFailure"
    ]
    tasks: list[Task] = Field(min_length=1, description="The tasks, run in order")
    errors: list[Task] = Field(
        default_factory=list, description="Tasks run when one of the tasks fails"
    )
    child_properties: ClassVar[tuple[str, ...]] = ("tasks", "errors")

    def progress(self, planner: Planner, run: RunView) -> State | None:
        prefix = run.path + "/"
        main = planner.sequence(self.tasks, parent=run, value=run.value, prefix=prefix, limit=1)
        if main != State.FAILED:
            return main
        if self.errors:
            handled = planner.sequence(
                self.errors, parent=run, value=run.value, prefix=prefix, limit=1
            )
            if handled is None:
                return None
        return State.WARNING

    def drawn_branches(self) -> list[tuple[str, list[Any]]]:
        return [("", list(self.tasks))] + ([("errors", list(self.errors))] if self.errors else [])
