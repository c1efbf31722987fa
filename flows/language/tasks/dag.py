"""Kestra's Dag: tasks that each start once the tasks they depend on have ended, as many
at once as their dependencies and ``concurrent`` allow."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field, model_validator

from ..states import State
from .base import FlowableTask, LanguageModel, Layout, Planner, RunView

if TYPE_CHECKING:
    from .base import BaseTask as Task  # the union, resolved in flowable.py


class DagNode(LanguageModel):
    """One task of a Dag and the ids of the Dag's tasks it waits for."""

    task: Task = Field(description="The task")
    depends_on: list[str] = Field(
        default_factory=list, description="Ids of tasks of the same Dag to end first"
    )


class DagTask(FlowableTask):
    """Runs each task once those it depends on have ended well, in parallel where the
    dependencies allow; no new task starts once one failed."""

    type: Literal["io.kestra.plugin.core.flow.Dag", "io.kestra.core.tasks.flows.Dag"]
    tasks: list[DagNode] = Field(min_length=1, description="The tasks with their dependencies")
    concurrent: int = Field(0, ge=0, description="At most this many at once; 0 for no limit")
    layout: ClassVar[Layout] = "tasks-side-by-side"

    @model_validator(mode="after")
    def _dependencies_are_known_and_acyclic(self) -> DagTask:
        ids = [node.task.id for node in self.tasks]
        for node in self.tasks:
            unknown = [d for d in node.depends_on if d not in ids]
            if unknown:
                raise ValueError(
                    f"Dag '{self.id}': task '{node.task.id}' depends on "
                    f"{', '.join(repr(u) for u in unknown)}, not a task of this Dag"
                )
        cycle = _cycle({node.task.id: node.depends_on for node in self.tasks})
        if cycle:
            raise ValueError(
                f"Dag '{self.id}': its tasks depend on each other in a cycle, "
                f"so none of them could start: {' → '.join(cycle)}"
            )
        return self

    def child_task_lists(self) -> list[list[Any]]:
        # Not a plain list of tasks (each sits under ``task:``): no child_properties.
        return [[node.task for node in self.tasks]]

    def drawn_branches(self) -> list[tuple[str, list[Any]]]:
        return [("", [node.task for node in self.tasks])]

    def progress(self, planner: Planner, run: RunView) -> State | None:
        prefix = run.path + "/"
        results: dict[str, State | None] = {}
        active, stop = 0, False

        def step(node: DagNode) -> None:
            nonlocal active, stop
            state = planner.sequence(
                [node.task], parent=run, value=run.value, prefix=prefix, limit=1
            )
            results[node.task.id] = state
            active += state is None
            stop = stop or state in (State.FAILED, State.KILLED)

        waiting = []
        for node in self.tasks:  # those started first: they decide what may start
            if planner.state_of(prefix + node.task.id) is None:
                waiting.append(node)
            else:
                step(node)
        for node in _in_dependency_order(waiting, self.tasks):
            ready = all(results.get(d) in (State.SUCCESS, State.WARNING) for d in node.depends_on)
            if ready and not stop and not (self.concurrent and active >= self.concurrent):
                step(node)
        if active or (not stop and len(results) < len(self.tasks)):
            return None
        for worst in (State.KILLED, State.FAILED, State.WARNING):
            if worst in results.values():
                return worst
        return State.SUCCESS


def _in_dependency_order(nodes: list[DagNode], every: list[DagNode]) -> list[DagNode]:
    """``nodes`` in declared order, each after those of them it depends on, however
    indirectly (through nodes of ``every``)."""
    depends = {node.task.id: node.depends_on for node in every}
    ordered: list[str] = []

    def visit(task_id: str) -> None:
        if task_id in ordered:
            return
        for dependency in depends.get(task_id, []):
            visit(dependency)
        ordered.append(task_id)

    for node in every:
        visit(node.task.id)
    rank = {task_id: index for index, task_id in enumerate(ordered)}
    return sorted(nodes, key=lambda node: rank[node.task.id])


def _cycle(depends: dict[str, list[str]]) -> list[str]:
    """A cycle among the dependencies, as the ids along it (first repeated last), or []."""
    done: set[str] = set()
    path: list[str] = []

    def walk(task_id: str) -> list[str]:
        if task_id in path:
            return [*path[path.index(task_id) :], task_id]
        if task_id in done:
            return []
        path.append(task_id)
        for dependency in depends.get(task_id, []):
            found = walk(dependency)
            if found:
                return found
        path.pop()
        done.add(task_id)
        return []

    for start in depends:
        found = walk(start)
        if found:
            return found
    return []
