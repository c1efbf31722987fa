"""The task types of Kestra's flow language that Flowsite runs, one typed model each.

These models are the single source of truth: they validate flows, say how they run (a
leaf's ``run``) or decide (a flowable's ``start`` and ``progress``), how they are drawn
(``layout``, ``drawn_branches``), and generate the JSON Schema the editor uses. Each
``type`` Literal lists the Kestra name first, then older Kestra names and Flowsite's short
aliases. A new task type is one module here, listed in TASK_MODELS (flowable.py, where
the union of all of them is built, since flowable tasks hold any task).
"""

from __future__ import annotations

from .allow_failure import AllowFailureTask
from .base import (
    BaseTask,
    FlowableTask,
    LanguageModel,
    NotSupportedYet,
    Outcome,
    Planner,
    PythonSetup,
    Retry,
    Runtime,
    RunView,
    ScalarText,
    ScriptRun,
    Undecided,
)
from .core import FailTask, LogTask, OutputValues, PauseTask, ReturnTask, SleepTask
from .each import EachParallelTask, EachSequentialTask
from .execution import LabelsTask, PurgeExecutionsTask
from .flowable import (
    TASK_MODELS,
    TASK_TYPES,
    WORKERLESS_TYPES,
    ForEachTask,
    IfTask,
    ParallelTask,
    SequentialTask,
    SwitchTask,
    Task,
)
from .for_each_item import ForEachItemTask
from .http import DownloadTask, RequestTask
from .local_files import LocalFilesTask
from .logs import EchoTask, FetchLogsTask, PurgeLogsTask
from .loops import LoopUntilTask
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
from .working_directory import NamespaceFilesOptions, WorkingDirectoryTask

__all__ = [
    "TASK_MODELS",
    "TASK_TYPES",
    "WORKERLESS_TYPES",
    "BaseTask",
    "DockerOptions",
    "EachParallelTask",
    "EachSequentialTask",
    "FailTask",
    "FlowableTask",
    "ForEachTask",
    "IfTask",
    "LanguageModel",
    "LogTask",
    "LoopUntilTask",
    "NotSupportedYet",
    "Outcome",
    "OutputValues",
    "ParallelTask",
    "PauseTask",
    "Planner",
    "PythonCommands",
    "PythonScript",
    "PythonSetup",
    "Retry",
    "ReturnTask",
    "RunView",
    "Runtime",
    "ScalarText",
    "ScriptRun",
    "ScriptTask",
    "SequentialTask",
    "ShellCommands",
    "ShellScript",
    "SleepTask",
    "SubflowTask",
    "SwitchTask",
    "Task",
    "TaskRunner",
    "Undecided",
    "NamespaceFilesOptions",
    "WorkingDirectoryTask",
    "ForEachItemTask",
    "AllowFailureTask",
    "LocalFilesTask",
    "EchoTask",
    "RequestTask",
    "DownloadTask",
    "FetchLogsTask",
    "LabelsTask",
    "PurgeLogsTask",
    "PurgeExecutionsTask",
]
