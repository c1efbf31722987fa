"""One pass over a flow's task tree against the execution's task runs: the Planner that
flowable task models decide through (see executions/planner.py, which starts a walk
after every change, and flows/language/tasks/base.py for the contract)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from flows.expressions import is_truthy, render, render_value
from flows.language import FlowDefinition
from flows.language.tasks import WORKERLESS_TYPES, BaseTask, FlowableTask, Undecided

from .context import render_context
from .flow_rules import after_end_done
from .live import LogWriter
from .models import TERMINAL_STATES, Execution, State, TaskRun

logger = logging.getLogger(__name__)


@dataclass
class Walk:
    """One pass over the tree: the runs as they are, and what the pass created. It is the
    Planner that flowable task models decide through."""

    execution: Execution
    definition: FlowDefinition
    runs: dict[str, TaskRun]
    created: list[TaskRun] = field(default_factory=list)

    def render(self, expression: str, run: Any) -> Any:
        return render(expression, self._context(run))

    def render_value(self, value: Any, run: Any) -> Any:
        return render_value(value, self._context(run))

    def _context(self, run: TaskRun) -> dict[str, Any]:
        return render_context(self.execution, self.definition, list(self.runs.values()), run)

    def later(self, run: Any, *, after: timedelta, outputs: dict[str, Any]) -> None:
        run.outputs, run.wake_at = outputs, timezone.now() + after
        run.save(update_fields=["outputs", "wake_at"])

    def now(self) -> datetime:
        return timezone.now()

    def pause(self, run: Any, *, until: datetime | None, message: str) -> None:
        run.state, run.wake_at = State.PAUSED, until
        run.save(update_fields=["state", "wake_at"])
        writer = LogWriter(run)
        writer.system(message)
        writer.flush()

    def state_of(self, path: str) -> State | None:
        return State(self.runs[path].state) if path in self.runs else None

    def started(self, prefix: str) -> bool:
        return any(path.startswith(prefix) for path in self.runs)

    def sequence(
        self,
        tasks: Sequence[BaseTask],
        *,
        parent: Any,
        value: str | None,
        prefix: str,
        limit: int,
    ) -> State | None:
        active = 0
        failed = killed = warning = False
        for position, task in enumerate(tasks):
            if task.disabled:
                continue
            run = self.runs.get(prefix + task.id)
            if run is None:
                if failed or killed or (limit and active >= limit):
                    break
                if self.execution.state == State.KILLING:
                    break
                run = self._create(task, parent, value, prefix + task.id, position)
            if run.state not in TERMINAL_STATES and isinstance(task, FlowableTask):
                state = self._progress(task, run)
                if state is not None:
                    run.state, run.ended_at = state, timezone.now()
                    run.save(update_fields=["state", "ended_at", "error"])
            if run.state not in TERMINAL_STATES:
                active += 1
                if limit == 1:
                    break
                continue
            if run.state == State.KILLED:
                killed = True
            elif run.state == State.FAILED and not task.allow_failure:
                failed = True
                if limit == 1:
                    break
            elif run.state in (State.WARNING, State.FAILED):
                warning = warning or not task.allow_warning
        if active:
            return None
        if killed:
            return State.KILLED
        if failed:
            return State.FAILED
        return State.WARNING if warning else State.SUCCESS

    def _progress(self, task: FlowableTask, run: TaskRun) -> State | None:
        try:
            state = task.progress(self, run)
            if state is None:
                return None
            prefix = run.path + "/"
            state = self.handled(
                state, task.errors, task.finally_, parent=run, value=run.value, prefix=prefix
            )
            return None if state is None else task.settle(state)
        except Undecided as exc:
            run.error = str(exc)
            log_error(run)
            return State.FAILED
        except Exception as exc:  # a bug of ours: this task fails, the run goes on
            logger.exception("Task run %s: deciding what follows failed", run.pk)
            run.error = f"Flowsite failed to decide what task '{task.id}' runs next: {exc!r}"
            log_error(run)
            return State.FAILED

    def _create(
        self, task: BaseTask, parent: TaskRun | None, value: str | None, path: str, position: int
    ) -> TaskRun:
        run = TaskRun(
            execution=self.execution,
            parent=parent,
            task_id=task.id,
            path=path,
            value=value,
            position=position,
            task_type=task.type,  # type: ignore[attr-defined]  # every model has its own
        )
        self.runs[path] = run
        now = timezone.now()
        # Whatever fails while deciding fails this task, named, and the run goes on.
        deciding = ("runIf", task.run_if)
        try:
            if task.run_if is not None and not is_truthy(self.render(task.run_if, run)):
                run.state, run.started_at, run.ended_at = State.SKIPPED, now, now
            elif isinstance(task, FlowableTask):
                run.state, run.started_at = State.RUNNING, now
                if task.decided_by:
                    deciding = (task.decided_by, getattr(task, task.decided_by))
                run.outputs = task.start(self, run)
        except Exception as exc:
            run.started_at = run.started_at or now
            run.state, run.ended_at, run.error = State.FAILED, now, task.undecided(*deciding, exc)
        run.save(force_insert=True)
        if run.state == State.FAILED and run.error:
            log_error(run)
        self.created.append(run)
        return run

    def busy(self) -> bool:
        """Whether a worker is running a leaf task of this execution."""
        return any(
            run.state in (State.CREATED, State.RUNNING, State.RETRYING)
            and not is_flowable(run, self.definition)
            and not is_waiting(run)
            for run in self.runs.values()
        )

    def root_state(self) -> State | None:
        """The execution's state from its tasks, then errors, then finally; None while
        running."""
        definition = self.definition
        main = self.sequence(definition.tasks, parent=None, value=None, prefix="", limit=1)
        if main is None:
            return None
        if self.execution.state == State.KILLING or main == State.KILLED:
            return State.KILLED if not self.busy() else None
        state = self.handled(
            main, definition.errors, definition.finally_, parent=None, value=None, prefix=""
        )
        return state if state is None or after_end_done(self, state) else None

    def handled(
        self,
        main: State,
        errors: Sequence[BaseTask],
        finally_: Sequence[BaseTask],
        *,
        parent: TaskRun | None,
        value: str | None,
        prefix: str,
    ) -> State | None:
        """The state of tasks that ended ``main``, once their ``errors`` (when they
        failed) and ``finally`` ran: the flow's own, or a flowable task's. Errors that
        ran leave it FAILED, as in Kestra; a finally that failed fails it."""
        if main == State.KILLED or self.execution.state == State.KILLING:
            return main
        state = main
        if main == State.FAILED and errors:
            handled = self.sequence(errors, parent=parent, value=value, prefix=prefix, limit=1)
            if handled is None:
                return None
        if finally_:
            last = self.sequence(finally_, parent=parent, value=value, prefix=prefix, limit=1)
            if last is None:
                return None
            if last == State.FAILED:
                state = State.FAILED
            elif last == State.WARNING and state == State.SUCCESS:
                state = State.WARNING
        return state


def is_flowable(run: TaskRun, definition: FlowDefinition) -> bool:
    try:
        return bool(definition.task(run.task_id).flowable)
    except KeyError:
        return False


def log_error(run: TaskRun) -> None:
    writer = LogWriter(run)
    writer.system(run.error, "ERROR")
    writer.flush()


def is_waiting(run: TaskRun) -> bool:
    # A Subflow waiting for its child, or a Pause: no worker holds it.
    return run.state == State.PAUSED or (
        run.state == State.RUNNING and run.task_type in WORKERLESS_TYPES
    )
