"""What the execution page draws, built from an execution's rows in one pass.

The flow's definition gives the shape of the tree, so tasks that have not started yet
show too; the task runs give each place its live state. Task runs the definition does
not explain (a revision that no longer parses, a construct this module does not know)
are still shown, under their parent run, so nothing that ran is ever hidden.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils import timezone

from flows.language import FlowDefinition, FlowInvalid
from flows.language.tasks import BaseTask, FlowableTask
from flowsite.values import format_duration

from .models import Execution, TaskRun, TaskRunAttempt

logger = logging.getLogger(__name__)

FLOW_SECTIONS = (
    ("tasks", ""),
    ("errors", "errors"),
    ("finally_", "finally"),
    ("listener_tasks", "listeners"),
    ("after_execution", "afterExecution"),
)
MIN_SEGMENT_PERCENT = 0.4  # a 5 ms attempt in a minute-long run must still be seen


@dataclass
class Branch:
    """One list of nodes under a flowable task: ``then``, a Switch case, a loop value."""

    label: str
    nodes: list[Node]


@dataclass
class Node:
    """One place in the run's task tree, with its task run once it has one."""

    task_id: str
    task_type: str
    run: TaskRun | None = None
    branches: list[Branch] = field(default_factory=list)
    side_by_side: bool = False  # the branches run (or may run) beside each other
    section: str = ""  # top level only: "", "errors" or "finally"

    @property
    def state(self) -> str:
        return self.run.state if self.run is not None else ""

    @property
    def short_type(self) -> str:
        return self.task_type.rsplit(".", 1)[-1]

    @property
    def value(self) -> str | None:
        return self.run.value if self.run is not None else None


def execution_tree(execution: Execution, runs: Iterable[TaskRun] | None = None) -> list[Node]:
    """The execution's task tree, top-level tasks first, then ``errors`` and ``finally``.

    ``runs`` are the execution's task runs when the caller has already loaded them.
    """
    runs = list(execution.task_runs.all() if runs is None else runs)
    return _TreeBuilder(runs).flow(_definition(execution))


def walk(nodes: Iterable[Node], depth: int = 0) -> Iterator[tuple[Node, int]]:
    """Every node under ``nodes``, depth first, with its depth."""
    for node in nodes:
        yield node, depth
        for branch in node.branches:
            yield from walk(branch.nodes, depth + 1)


def _definition(execution: Execution) -> FlowDefinition | None:
    try:
        return execution.flow_revision.definition
    except FlowInvalid:  # an old revision the language no longer accepts
        logger.info("Execution %s: its revision no longer parses", execution.pk)
        return None


TOP: str | None = None  # the parent of top-level runs
NOT_STARTED = "\0not-started"  # the parent of the children of a flowable not yet run


def _key(run: TaskRun | None) -> str | None:
    return NOT_STARTED if run is None else run.pk


def _short(task_type: str) -> str:
    return task_type.rsplit(".", 1)[-1]


class _TreeBuilder:
    """Matches the definition's tasks with the runs under each parent run."""

    def __init__(self, runs: list[TaskRun]):
        self.children: dict[str | None, list[TaskRun]] = defaultdict(list)
        for run in sorted(runs, key=lambda r: (r.position, r.created_at)):
            self.children[run.parent_id].append(run)
        self.placed: set[str] = set()

    def flow(self, definition: Any) -> list[Node]:
        nodes: list[Node] = []
        for attribute, section in FLOW_SECTIONS if definition is not None else ():
            for node in self._nodes(getattr(definition, attribute, None) or [], TOP, None):
                node.section = section
                nodes.append(node)
        return nodes + self._leftovers(None)

    def _nodes(self, tasks: list[Any], parent: str | None, value: str | None) -> list[Node]:
        """Nodes for ``tasks`` under the run ``parent`` (TOP, or NOT_STARTED: none yet)."""
        nodes = []
        for task in tasks:
            runs = [
                run
                for run in self.children.get(parent, [])
                if run.task_id == task.id and (value is None or run.value == value)
            ]
            nodes += [self._node(task, run) for run in runs] if runs else [self._node(task, None)]
        return nodes

    def _node(self, task: BaseTask, run: TaskRun | None) -> Node:
        node = Node(task_id=task.id, task_type=task.canonical_type, run=run)
        if run is not None:
            self.placed.add(run.pk)
        if isinstance(task, FlowableTask):  # its model says how its children are laid out
            if task.layout == "loop":
                node.branches = self._iterations(task, run)
            else:
                node.branches = [
                    Branch(label, self._nodes(children, _key(run), None))
                    for label, children in task.drawn_branches()
                ]
            if task.layout == "tasks-side-by-side" and len(node.branches) == 1:
                node.branches = [Branch("", [n]) for n in node.branches[0].nodes]
            node.side_by_side = task.layout in ("tasks-side-by-side", "branches-side-by-side")
        if run is not None:
            leftovers = self._leftovers(run.pk)
            if leftovers:
                node.branches.append(Branch("", leftovers))
        return node

    def _iterations(self, task: FlowableTask, run: TaskRun | None) -> list[Branch]:
        """A loop's children, grouped by the loop value they ran for."""
        children = [child for _, tasks in task.drawn_branches() for child in tasks]
        values = []
        for child in self.children[run.pk] if run is not None else []:
            assert run is not None
            if child.value is not None and child.value != run.value and child.value not in values:
                values.append(child.value)
        if not values:
            return [Branch("each value", self._nodes(children, NOT_STARTED, None))]
        return [Branch(value, self._nodes(children, _key(run), value)) for value in values]

    def _leftovers(self, parent: str | None) -> list[Node]:
        """Runs under ``parent`` that no task of the definition claimed."""
        nodes = []
        for run in self.children.get(parent, []):
            if run.pk in self.placed:
                continue
            self.placed.add(run.pk)
            node = Node(task_id=run.task_id, task_type=run.task_type, run=run)
            if children := self._leftovers(run.pk):
                node.branches = [Branch("", children)]
            nodes.append(node)
        return nodes


@dataclass
class Segment:
    """One attempt's stretch of a Gantt row, placed in percent of the whole run."""

    attempt: TaskRunAttempt
    left: float
    width: float

    @property
    def tooltip(self) -> str:
        attempt = self.attempt
        parts = [f"Attempt {attempt.number}", attempt.state]
        if attempt.duration is not None:
            parts.append(format_duration(attempt.duration.total_seconds()))
        if attempt.exit_code is not None:
            parts.append(f"exit code {attempt.exit_code}")
        if attempt.error:
            parts.append(attempt.error[:300])
        if attempt.worker:
            parts.append(f"on {attempt.worker}")
        return " · ".join(parts)


@dataclass
class GanttRow:
    run: TaskRun
    depth: int
    left: float | None  # None: not started yet, no bar
    width: float
    segments: list[Segment]

    @property
    def label(self) -> str:
        if self.run.value is not None:
            return f"{self.run.task_id} [{self.run.value}]"
        return self.run.task_id

    @property
    def short_type(self) -> str:
        return _short(self.run.task_type)


@dataclass
class Gantt:
    rows: list[GanttRow]
    seconds: float  # the whole time scale
    start: datetime | None = None  # where the scale starts; its end is start + seconds
    live: bool = False  # the run goes on: the page's script stretches the scale to now

    @property
    def ticks(self) -> list[tuple[float, str]]:
        """Marks along the scale: (percent, label)."""
        return axis_ticks(self.seconds)


# Steps between two marks of the axis, in seconds: round numbers in each unit.
AXIS_STEPS = (
    *(m * 10.0**e for e in range(-3, 1) for m in (1, 2, 5)),
    10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800,
)  # fmt: skip
AXIS_MARKS = 6  # at most, the 0 included


def axis_ticks(seconds: float) -> list[tuple[float, str]]:
    """The marks of a time axis ``seconds`` long, a round step apart, labelled in the
    unit that suits the length: ``0 ms 20 ms 40 ms``, ``0 s 2 s 4 s``, ``0 min 5 min``.
    Mirrored by axisTicks() in static/flowsite/execution.js, which redraws a live run's."""
    seconds = max(seconds, 0.001)
    step = next((s for s in AXIS_STEPS if seconds / s <= AXIS_MARKS - 1), AXIS_STEPS[-1])
    count = int(seconds / step + 1e-9)
    return [
        (round(i * step / seconds * 100, 3), axis_label(i * step, seconds))
        for i in range(count + 1)
    ]


def axis_label(value: float, seconds: float) -> str:
    if seconds < 2:
        return f"{value * 1000:.4g} ms"
    if seconds < 120:
        return f"{value:.4g} s"
    if seconds < 7200:
        return f"{value / 60:.4g} min"
    return f"{value / 3600:.4g} h"


def gantt_rows(execution: Execution, tree: list[Node] | None = None) -> Gantt:
    """One row per task run, in tree order, with a bar and its attempts' segments.

    ``tree`` is ``execution_tree(execution)`` when the caller has already built it;
    its runs must carry their attempts (prefetched) to keep this to no query at all.
    """
    tree = execution_tree(execution) if tree is None else tree
    placed = [(node.run, depth) for node, depth in walk(tree) if node.run is not None]
    now = timezone.now()
    start, end = _time_scale(execution, [run for run, _ in placed], now)
    total = max((end - start).total_seconds(), 0.001)

    def percent(moment: datetime) -> float:
        return min(max((moment - start).total_seconds() / total * 100, 0.0), 100.0)

    rows = []
    for run, depth in placed:
        segments = [
            _segment(attempt, percent, attempt.ended_at or _open_end(execution, now))
            for attempt in run.attempts.all()
        ]
        if run.started_at is None:
            rows.append(GanttRow(run, depth, None, 0.0, segments))
            continue
        left = percent(run.started_at)
        right = percent(run.ended_at or _open_end(execution, now))
        rows.append(GanttRow(run, depth, left, max(right - left, MIN_SEGMENT_PERCENT), segments))
    return Gantt(rows, total, start, not execution.is_terminal)


def _segment(attempt: TaskRunAttempt, percent: Any, ended: datetime) -> Segment:
    left = percent(attempt.started_at)
    return Segment(attempt, left, max(percent(ended) - left, MIN_SEGMENT_PERCENT))


def _open_end(execution: Execution, now: datetime) -> datetime:
    """Where a bar with no end stops: now while the run goes on, else when it ended."""
    if execution.is_terminal and execution.ended_at is not None:
        return execution.ended_at
    return now


def _time_scale(
    execution: Execution, runs: list[TaskRun], now: datetime
) -> tuple[datetime, datetime]:
    starts = [run.started_at for run in runs if run.started_at is not None]
    ends = [run.ended_at for run in runs if run.ended_at is not None]
    for run in runs:
        for attempt in run.attempts.all():
            starts.append(attempt.started_at)
            ends.append(attempt.ended_at or attempt.started_at)
    start = min([execution.started_at or execution.created_at, *starts])
    if execution.is_terminal:
        end = max([execution.ended_at or start, *ends, *starts])
    else:
        end = max([now, *ends])
    return start, end
