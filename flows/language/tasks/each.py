"""Loops over values: the older EachSequential and EachParallel, and what ForEach shares
with them: reading the values as Kestra does, and running the tasks once per value."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field

from flowsite.bounded import load_json

from ..states import State
from .base import BaseTask, FlowableTask, Layout, Planner, RunView

if TYPE_CHECKING:
    from .base import BaseTask as Task  # the union, resolved in flowable.py


def each_values(values: Any, *, owner: str) -> list[str]:
    """The rendered ``values`` of a loop as the texts its iterations see: a list, or a
    JSON list as text; non-text items as JSON. As in Kestra, a value met twice runs
    once, and a null among them fails the loop (Kestra names how many)."""
    if isinstance(values, str):
        try:
            values = load_json(values)
        except ValueError as exc:
            shown = values if len(values) <= 200 else values[:200] + "…"
            raise ValueError(
                f"{owner} values must be a list or a JSON list, got '{shown}'"
            ) from exc
    if not isinstance(values, list):
        raise ValueError(f"{owner} values must be a list, got {type(values).__name__}")
    nulls = sum(1 for value in values if value is None)
    if nulls:
        raise ValueError(
            f"Found {nulls} null value{'s' if nulls > 1 else ''} in {owner} values "
            f"{json.dumps(values, default=str)[:200]}: a loop cannot iterate over null"
        )
    texts = [v if isinstance(v, str) else json.dumps(v, separators=(",", ":")) for v in values]
    return list(dict.fromkeys(texts))


def each_progress(
    planner: Planner,
    run: RunView,
    tasks: Sequence[BaseTask],
    *,
    values_at_once: int,
    tasks_at_once: int,
) -> State | None:
    """One run of ``tasks`` per value of ``run.outputs['values']``, ``values_at_once``
    values at a time (0: all), each running ``tasks_at_once`` of its tasks at a time (1:
    in order, 0: all). All at once, every value starts together, as Kestra creates them;
    a limited number at a time, no new value starts once one failed. None starts once one
    was killed."""
    active = 0
    states: list[State] = []
    for index, value in enumerate(run.outputs.get("values", [])):
        prefix = f"{run.path}[{index}]/"
        if not planner.started(prefix) and (
            (values_at_once and (active >= values_at_once or State.FAILED in states))
            or State.KILLED in states
        ):
            break
        state = planner.sequence(tasks, parent=run, value=value, prefix=prefix, limit=tasks_at_once)
        if state is None:
            active += 1
        else:
            states.append(state)
    if active:
        return None
    for worst in (State.KILLED, State.FAILED, State.WARNING):
        if worst in states:
            return worst
    return State.SUCCESS


class _Each(FlowableTask):
    value: str | list[Any] = Field(
        description="The values: a list, or an expression rendering a JSON list"
    )
    tasks: list[Task] = Field(min_length=1, description="The tasks run for each value")
    child_properties: ClassVar[tuple[str, ...]] = ("tasks",)
    layout: ClassVar[Layout] = "loop"
    decided_by: ClassVar[str] = "value"
    iterates_values: ClassVar[bool] = True

    def start(self, planner: Planner, run: RunView) -> dict[str, Any]:
        name = self.type_names()[0].rsplit(".", 1)[-1]
        return {"values": each_values(planner.render_value(self.value, run), owner=name)}


class EachSequentialTask(_Each):
    """Runs its tasks once per value, one value after the other (Kestra's older loop)."""

    type: Literal[
        "io.kestra.plugin.core.flow.EachSequential", "io.kestra.core.tasks.flows.EachSequential"
    ]

    def progress(self, planner: Planner, run: RunView) -> State | None:
        return each_progress(planner, run, self.tasks, values_at_once=1, tasks_at_once=1)


class EachParallelTask(_Each):
    """Runs its tasks for every value at once, each task of a value at once too."""

    type: Literal[
        "io.kestra.plugin.core.flow.EachParallel", "io.kestra.core.tasks.flows.EachParallel"
    ]
    concurrent: int = Field(0, ge=0, description="Values run at once; 0 for no limit")
    layout: ClassVar[Layout] = "loop"

    def progress(self, planner: Planner, run: RunView) -> State | None:
        return each_progress(
            planner, run, self.tasks, values_at_once=self.concurrent, tasks_at_once=0
        )
