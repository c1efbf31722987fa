"""What every task type shares. A leaf task runs on a ``Runtime``; a flowable task decides
its children's order through a ``Planner``: those contracts live in contracts.py and are
re-exported here. Neither knows Django: the engine (executions/) provides both, so the
language never imports it."""

from __future__ import annotations

import json
import random
from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import (
    AliasChoices,
    Field,
    field_validator,
    model_validator,
)

from flows.expressions import ExpressionError

from ..model import LanguageModel as LanguageModel
from ..model import NotSupportedYet as NotSupportedYet
from ..model import ScalarText as ScalarText
from ..states import State
from ..values import TASK_ID_PATTERN, Duration, number_as_text
from .contracts import ChildExecution as ChildExecution
from .contracts import Outcome as Outcome
from .contracts import Planner as Planner
from .contracts import PurgeParts as PurgeParts
from .contracts import PythonSetup as PythonSetup
from .contracts import Runtime as Runtime
from .contracts import RunView as RunView
from .contracts import ScriptResult as ScriptResult
from .contracts import ScriptRun as ScriptRun

if TYPE_CHECKING:
    pass

if TYPE_CHECKING:
    pass

LogLevel = Literal["TRACE", "DEBUG", "INFO", "WARN", "ERROR"]
# How the topology and the execution page lay a flowable task's children out.
Layout = Literal["stacked", "tasks-side-by-side", "branches-side-by-side", "loop"]


class Retry(LanguageModel):
    """Kestra's ``retry:`` block: how often and how soon a failed task runs again."""

    type: Literal["constant", "exponential", "random"] = Field(
        description="constant: the same interval; exponential: growing; random: in a range"
    )
    max_attempts: int | None = Field(
        None,
        ge=1,
        validation_alias=AliasChoices("maxAttempts", "maxAttempt", "max_attempts"),
        description="Attempts in all, the first one included",
    )
    max_duration: Duration | None = Field(
        None, description="No attempt starts later than this after the first (ISO-8601)"
    )
    interval: Duration | None = Field(None, description="Wait before the next attempt")
    max_interval: Duration | None = Field(None, description="Longest wait (exponential, random)")
    min_interval: Duration | None = Field(None, description="Shortest wait (random)")
    delay_factor: float | None = Field(None, gt=0, description="Growth per attempt (exponential)")
    warning_on_retry: bool = Field(False, description="End WARNING when it needed a retry")
    behavior: Literal["RETRY_FAILED_TASK", "CREATE_NEW_EXECUTION"] | None = Field(
        None,
        description="RETRY_FAILED_TASK (the default): new attempts in this execution; "
        "CREATE_NEW_EXECUTION: the execution is replayed from the failed task. On a flowable "
        "task, it is the retry of the tasks inside it that have none of their own",
    )

    @model_validator(mode="after")
    def _bounded(self) -> Retry:
        if self.max_attempts is None and self.max_duration is None:
            raise ValueError("A retry needs maxAttempts or maxDuration")
        if self.type in ("constant", "exponential") and self.interval is None:
            raise ValueError(f"A {self.type} retry needs an interval")
        if self.type == "random" and (self.min_interval is None or self.max_interval is None):
            raise ValueError("A random retry needs minInterval and maxInterval")
        return self

    def delay_before(self, attempt: int) -> timedelta:
        """The wait after failed attempt number ``attempt`` (from 1)."""
        if self.type == "random" and self.min_interval and self.max_interval:
            low, high = self.min_interval.total_seconds(), self.max_interval.total_seconds()
            return timedelta(seconds=random.uniform(low, high))
        interval = self.interval or timedelta(0)
        if self.type == "exponential":
            interval = interval * (self.delay_factor or 2) ** (attempt - 1)
            if self.max_interval is not None:
                interval = min(interval, self.max_interval)
        return interval


class Undecided(Exception):
    """A flowable task could not decide what follows (its condition did not render...):
    it fails, and the message, from ``BaseTask.undecided``, says why."""


class BaseTask(LanguageModel):
    id: str = Field(
        pattern=TASK_ID_PATTERN,
        max_length=100,
        json_schema_extra={"type": ["string", "integer"]},  # Kestra reads id: 1 too
        description="Unique id of the task",
    )
    description: str | None = None
    disabled: bool = Field(False, description="Skip this task")
    timeout: Duration | None = Field(None, description="Longest the task may run (ISO-8601)")
    retry: Retry | None = Field(None, description="Run the task again when it fails")
    allow_failure: bool = Field(
        False, description="A failure of this task ends the execution WARNING, not FAILED"
    )
    run_if: str | None = Field(
        None, description="An expression; the task is SKIPPED when it renders false"
    )
    allow_warning: bool = Field(
        False,
        description="A WARNING of this task does not make its parent WARNING: it counts as SUCCESS",
    )
    log_level: LogLevel | None = Field(
        None, description="The lowest level of this task's log lines that is kept"
    )
    log_to_file: bool = Field(
        False, description="Also keep each attempt's log lines as a file in internal storage"
    )
    worker_group: NotSupportedYet = None  # Kestra Enterprise

    @field_validator("id", mode="before")
    @classmethod
    def _number_as_id(cls, value: Any) -> Any:
        return number_as_text(value)

    # Flowable tasks hold other tasks and run on no worker: the engine decides their state
    # from their children's.
    flowable: ClassVar[bool] = False
    # False for a task that, while RUNNING, waits on something else than a worker (a
    # Subflow waits for its child execution): no heartbeat is expected of it.
    holds_worker: ClassVar[bool] = True
    # Properties holding child tasks: not rendered with the task, each child renders its own.
    child_properties: ClassVar[tuple[str, ...]] = ()
    # Properties the task renders itself while it runs, with variables only it knows.

    # Properties rendered later than the task, in another context (a Subflow's outputs).
    rendered_later: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def type_names(cls) -> tuple[str, ...]:
        """The Kestra name first, then older Kestra names and Flowsite's aliases."""
        annotation = cls.model_fields["type"].annotation
        return tuple(getattr(annotation, "__args__", ()))

    @property
    def canonical_type(self) -> str:
        return self.type_names()[0]

    def child_task_lists(self) -> list[list[Any]]:
        """Every list of child tasks, for validation and the topology."""
        lists: list[list[Any]] = []
        for name in self.child_properties:
            value = getattr(self, name)
            if isinstance(value, dict):
                lists.extend(value.values())
            elif value:
                lists.append(value)
        return lists

    def undecided(self, what: str, expression: Any, exc: Exception) -> str:
        """Why this task failed before it could run: the property and expression that
        could not be decided (its runIf, an If's condition...), and the reason."""
        if isinstance(exc, ExpressionError):
            expression, reason = exc.expression, exc.reason
        else:
            reason = str(exc) if isinstance(exc, ValueError | TypeError) else repr(exc)
        shown = expression if isinstance(expression, str) else json.dumps(expression, default=str)
        shown = shown if len(shown) <= 200 else shown[:200] + "…"
        return f"Task '{self.id}' failed: its {what} '{shown}' could not be decided: {reason}"

    def run(self, runtime: Runtime) -> Outcome:
        """One attempt of this task on a worker, its expressions already rendered."""
        message = f"Flowsite cannot run tasks of type {self.canonical_type} yet"
        runtime.log(message, "ERROR")
        return Outcome(State.FAILED, error=message)


class FlowableTask(BaseTask):
    # Kestra's ``errors`` and ``finally`` on every flowable task: run under it when its
    # children failed, and last whatever happened. Their ``Task`` is completed where the
    # union of all task types is built (flowable.py).
    errors: list[Task] = Field(
        default_factory=list, description="Tasks run when one of its tasks failed"
    )
    finally_: list[Task] = Field(
        default_factory=list, alias="finally", description="Tasks run last, whatever happened"
    )

    flowable: ClassVar[bool] = True
    layout: ClassVar[Layout] = "stacked"
    # The property whose expression ``start`` renders to decide (If's condition...): an
    # error there fails the task, named with it.
    decided_by: ClassVar[str] = ""
    # A loop over values (ForEach...): its children's ``taskrun.value`` is their own, and
    # their outputs are found under it (``outputs.<task>[<value>]``).
    iterates_values: ClassVar[bool] = False

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        # Its own child lists first, then the handlers every flowable has.
        own = tuple(p for p in cls.child_properties if p not in ("errors", "finally_"))
        cls.child_properties = (*own, "errors", "finally_")

    def start(self, planner: Planner, run: RunView) -> dict[str, Any]:
        """What it decides once, when it starts; kept as its run's outputs."""
        return {}

    def progress(self, planner: Planner, run: RunView) -> State | None:
        """Create what may start under ``run``; its state once all ended, else None."""
        tasks: list[BaseTask] = getattr(self, "tasks", [])
        return planner.sequence(tasks, parent=run, value=run.value, prefix=run.path + "/", limit=1)

    def settle(self, state: State) -> State:
        """Its own state once its tasks, errors and finally ended in ``state``."""
        return state

    def drawn_branches(self) -> list[tuple[str, list[Any]]]:
        """Its child lists in the order drawn, each with its label."""
        return [("", list(getattr(self, "tasks", [])))]


if TYPE_CHECKING:
    # The union of every task type is built in flowable.py, which imports this module;
    # each model's ``Task`` fields are resolved there (model_rebuild). Type checkers
    # see the base every member shares.
    Task = BaseTask
