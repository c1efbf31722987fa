"""Flowable tasks: they hold other tasks and run on no worker. Each decides, through the
engine's Planner, which of its children may start, and settles its state from theirs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, Union

from pydantic import AliasChoices, Field, field_validator, model_validator

from flows.expressions import is_truthy

from ..states import State
from .allow_failure import AllowFailureTask
from .base import BaseTask, FlowableTask, Layout, Planner, RunView
from .core import FailTask, LogTask, OutputValues, PauseTask, ReturnTask, SleepTask
from .dag import DagNode, DagTask
from .each import EachParallelTask, EachSequentialTask, each_progress, each_values
from .execution import LabelsTask, PurgeExecutionsTask
from .for_each_item import ForEachItemTask
from .http import DownloadTask, RequestTask
from .kv import KVDelete, KVGet, KVGetKeys, KVSet
from .local_files import LocalFilesTask
from .logs import EchoTask, FetchLogsTask, PurgeLogsTask
from .loops import LoopUntilTask
from .namespace_files import DeleteFiles, DownloadFiles, UploadFiles
from .scripts import PythonCommands, PythonScript, ShellCommands, ShellScript
from .state_store import StateDeleteTask, StateGetTask, StateSetTask
from .steering import ResumeTask, ToggleTask
from .subflow import SubflowTask
from .template import TemplateTask
from .working_directory import WorkingDirectoryTask


class SequentialTask(FlowableTask):
    """Runs its tasks one after the other."""

    type: Literal["io.kestra.plugin.core.flow.Sequential", "io.kestra.core.tasks.flows.Sequential"]
    tasks: list[Task] = Field(min_length=1, description="The tasks, run in order")
    child_properties: ClassVar[tuple[str, ...]] = ("tasks",)


class ParallelTask(FlowableTask):
    """Runs its tasks at the same time, on as many workers as are free."""

    type: Literal["io.kestra.plugin.core.flow.Parallel", "io.kestra.core.tasks.flows.Parallel"]
    tasks: list[Task] = Field(min_length=1, description="The tasks, run at once")
    concurrent: int = Field(
        0,
        ge=0,
        validation_alias=AliasChoices("concurrent", "concurrencyLimit", "concurrency_limit"),
        description="At most this many at once; 0 for no limit",
    )
    child_properties: ClassVar[tuple[str, ...]] = ("tasks",)
    layout: ClassVar[Layout] = "tasks-side-by-side"

    def progress(self, planner: Planner, run: RunView) -> State | None:
        prefix = run.path + "/"
        return planner.sequence(
            self.tasks, parent=run, value=run.value, prefix=prefix, limit=self.concurrent
        )


class IfTask(FlowableTask):
    """Runs ``then`` when the condition renders true, ``else`` otherwise."""

    type: Literal["io.kestra.plugin.core.flow.If", "io.kestra.core.tasks.flows.If"]
    condition: str = Field(description="An expression, e.g. {{ inputs.run_it }}")
    then: list[Task] = Field(min_length=1, description="Tasks run when it is true")
    else_: list[Task] = Field(
        default_factory=list, alias="else", description="Tasks run when it is false"
    )
    child_properties: ClassVar[tuple[str, ...]] = ("then", "else_")
    layout: ClassVar[Layout] = "branches-side-by-side"
    decided_by: ClassVar[str] = "condition"

    def start(self, planner: Planner, run: RunView) -> dict[str, Any]:
        return {"evaluationResult": is_truthy(planner.render(self.condition, run))}

    def progress(self, planner: Planner, run: RunView) -> State | None:
        branch = self.then if run.outputs.get("evaluationResult") else self.else_
        return planner.sequence(branch, parent=run, value=run.value, prefix=run.path + "/", limit=1)

    def drawn_branches(self) -> list[tuple[str, list[Any]]]:
        return [
            (label, tasks) for label, tasks in (("then", self.then), ("else", self.else_)) if tasks
        ]


class SwitchTask(FlowableTask):
    """Runs the tasks of the case matching the rendered value."""

    type: Literal["io.kestra.plugin.core.flow.Switch", "io.kestra.core.tasks.flows.Switch"]
    value: str = Field(description="An expression whose text picks the case")
    cases: dict[str, list[Task]] = Field(default_factory=dict, description="Tasks per value")
    defaults: list[Task] = Field(
        default_factory=list,
        description="Tasks when no case matches",
        json_schema_extra={"type": ["array", "null"]},  # Kestra's `defaults: null`
    )
    child_properties: ClassVar[tuple[str, ...]] = ("cases", "defaults")
    layout: ClassVar[Layout] = "branches-side-by-side"
    decided_by: ClassVar[str] = "value"

    @field_validator("cases", mode="before")
    @classmethod
    def _case_keys_as_text(cls, value: Any) -> Any:
        # YAML reads `1:` or `true:` as a number or a boolean; the value renders as text.
        if not isinstance(value, dict):
            return value
        return {_key_text(key): tasks for key, tasks in value.items()}

    @field_validator("defaults", mode="before")
    @classmethod
    def _null_is_none(cls, value: Any) -> Any:
        return [] if value is None else value  # Kestra's `defaults: null`

    @model_validator(mode="after")
    def _something_to_run(self) -> SwitchTask:
        if not self.defaults and not any(self.cases.values()):
            raise ValueError("No task defined, neither cases or default have any tasks")
        return self

    def start(self, planner: Planner, run: RunView) -> dict[str, Any]:
        value = planner.render(self.value, run)
        if value not in self.cases and not self.defaults:  # as Kestra: nothing to run fails
            raise ValueError(f"no case matches '{value}' and the Switch has no defaults")
        return {"value": value, "defaults": value not in self.cases}

    def progress(self, planner: Planner, run: RunView) -> State | None:
        value = run.outputs.get("value")
        branch = self.cases.get(value, self.defaults) if isinstance(value, str) else self.defaults
        return planner.sequence(branch, parent=run, value=run.value, prefix=run.path + "/", limit=1)

    def drawn_branches(self) -> list[tuple[str, list[Any]]]:
        branches: list[tuple[str, list[Any]]] = [(key, tasks) for key, tasks in self.cases.items()]
        return branches + ([("defaults", self.defaults)] if self.defaults else [])


def _key_text(key: Any) -> str:
    if isinstance(key, bool):
        return "true" if key else "false"
    return str(key)


class ForEachTask(FlowableTask):
    """Runs its tasks once per value; ``{{ taskrun.value }}`` is the current one."""

    type: Literal["io.kestra.plugin.core.flow.ForEach"]
    values: str | list[Any] = Field(description="A list, or an expression rendering a JSON list")
    concurrency_limit: int = Field(1, ge=0, description="Values run at once; 0 for all")
    tasks: list[Task] = Field(min_length=1, description="The tasks run for each value")
    child_properties: ClassVar[tuple[str, ...]] = ("tasks",)
    layout: ClassVar[Layout] = "loop"
    decided_by: ClassVar[str] = "values"

    iterates_values: ClassVar[bool] = True

    def start(self, planner: Planner, run: RunView) -> dict[str, Any]:
        return {"values": each_values(planner.render_value(self.values, run), owner="ForEach")}

    def progress(self, planner: Planner, run: RunView) -> State | None:
        """One sequence of its tasks per value, at most ``concurrencyLimit`` at once; no new
        value starts once one failed or was killed."""
        return each_progress(
            planner, run, self.tasks, values_at_once=self.concurrency_limit, tasks_at_once=1
        )


# --- the registry: every task type, and the union flowable tasks hold -----------------

TASK_MODELS: tuple[type[BaseTask], ...] = (
    PythonScript,
    PythonCommands,
    ShellScript,
    ShellCommands,
    LogTask,
    ReturnTask,
    OutputValues,
    SleepTask,
    FailTask,
    PauseTask,
    SubflowTask,
    SequentialTask,
    ParallelTask,
    IfTask,
    SwitchTask,
    ForEachTask,
    EachSequentialTask,
    EachParallelTask,
    LoopUntilTask,
    WorkingDirectoryTask,
    ForEachItemTask,
    AllowFailureTask,
    LocalFilesTask,
    EchoTask,
    RequestTask,
    DownloadTask,
    FetchLogsTask,
    LabelsTask,
    PurgeLogsTask,
    PurgeExecutionsTask,
    KVSet,
    KVGet,
    KVGetKeys,
    KVDelete,
    UploadFiles,
    DownloadFiles,
    DeleteFiles,
    DagTask,
    TemplateTask,
    ResumeTask,
    ToggleTask,
    StateSetTask,
    StateGetTask,
    StateDeleteTask,
)

if TYPE_CHECKING:
    Task = BaseTask
else:
    # One member per model, told apart by ``type``: built from TASK_MODELS, so adding a
    # model adds it to every flowable's children and to the schema. The models above
    # name it before it exists; they are completed below, once it does.
    Task = Annotated[Union[TASK_MODELS], Field(discriminator="type")]  # noqa: UP007

for _model in TASK_MODELS:
    if _model.flowable:
        _model.model_rebuild(_types_namespace={"Task": Task})
DagNode.model_rebuild(_types_namespace={"Task": Task})  # a Dag's tasks sit in DagNodes

TASK_TYPES: dict[str, type[BaseTask]] = {
    name: model for model in TASK_MODELS for name in model.type_names()
}
# Task types that, while RUNNING, wait on something else than a worker.
WORKERLESS_TYPES: tuple[str, ...] = tuple(
    name for name, model in TASK_TYPES.items() if not model.holds_worker
)
