"""The task types of Kestra's flow language that Flowsite runs, one typed model each.

These models are the single source of truth: they validate flows, say how they run (a
leaf's ``run``) or decide (a flowable's ``start`` and ``progress``), how they are drawn
(``layout``, ``drawn_branches``), and generate the JSON Schema the editor uses. Each
``type`` Literal lists the Kestra name first, then older Kestra names and Flowsite's short
aliases. A new task type is one module here, listed in TASK_MODELS.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Union

from pydantic import Field

from .base import (
    BaseTask,
    FlowableTask,
    LanguageModel,
    NotSupportedYet,
    Outcome,
    Planner,
    Retry,
    Runtime,
    RunView,
    ScalarText,
)
from .core import FailTask, LogTask, OutputValues, PauseTask, ReturnTask, SleepTask
from .flowable import ForEachTask, IfTask, ParallelTask, SequentialTask, SwitchTask
from .scripts import (
    DockerOptions,
    PythonCommands,
    PythonScript,
    ScriptTask,
    ShellCommands,
    ShellScript,
    TaskRunner,
)
from .subflow import SubflowTask

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
)

if TYPE_CHECKING:
    Task = BaseTask
else:
    # One member per model, told apart by ``type``: built from TASK_MODELS, so adding a
    # model adds it to every flowable's children and to the schema.
    Task = Annotated[Union[TASK_MODELS], Field(discriminator="type")]  # noqa: UP007

for _model in TASK_MODELS:
    if _model.flowable:
        _model.model_rebuild(_types_namespace={"Task": Task})

TASK_TYPES: dict[str, type[BaseTask]] = {
    name: model for model in TASK_MODELS for name in model.type_names()
}
# Task types that, while RUNNING, wait on something else than a worker.
WORKERLESS_TYPES: tuple[str, ...] = tuple(
    name for name, model in TASK_TYPES.items() if not model.holds_worker
)

__all__ = [
    "TASK_MODELS",
    "TASK_TYPES",
    "WORKERLESS_TYPES",
    "BaseTask",
    "DockerOptions",
    "FailTask",
    "FlowableTask",
    "ForEachTask",
    "IfTask",
    "LanguageModel",
    "LogTask",
    "NotSupportedYet",
    "Outcome",
    "OutputValues",
    "ParallelTask",
    "PauseTask",
    "Planner",
    "PythonCommands",
    "PythonScript",
    "Retry",
    "ReturnTask",
    "RunView",
    "Runtime",
    "ScalarText",
    "ScriptTask",
    "SequentialTask",
    "ShellCommands",
    "ShellScript",
    "SleepTask",
    "SubflowTask",
    "SwitchTask",
    "Task",
    "TaskRunner",
]
