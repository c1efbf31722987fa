"""WorkingDirectory: its tasks run one after the other in one working directory, so a
file one of them writes is there for the next, whichever runner (Docker or Process) and
whichever worker runs each. The engine keeps the directory between them (see
executions/workdir.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import Field, field_validator

from flowsite.values import relative_path_check

from ..model import LanguageModel
from ..values import Duration, input_file_names_inside, output_patterns_inside, values_as_text
from .base import FlowableTask

if TYPE_CHECKING:
    from .base import BaseTask as Task  # the union, resolved in flowable.py


class NamespaceFilesOptions(LanguageModel):
    """Kestra's ``namespaceFiles``: the namespace's files put in the working directory."""

    enabled: bool = Field(True, description="Put the namespace's files in the directory")
    include: list[str] = Field(default_factory=list, description="Glob patterns to take")
    exclude: list[str] = Field(default_factory=list, description="Glob patterns to leave")


class WorkdirCache(LanguageModel):
    """Kestra's ``cache``: files kept from one execution of the flow to the next."""

    patterns: list[str] = Field(min_length=1, description="Glob patterns of the files kept")
    ttl: Duration | None = Field(None, description="How long a kept cache is used (ISO-8601)")

    @field_validator("patterns")
    @classmethod
    def _patterns_stay_inside(cls, value: list[str]) -> list[str]:
        for pattern in value:
            relative_path_check(pattern.removeprefix("./"), what="cache pattern")
        return value


class WorkingDirectoryTask(FlowableTask):
    """Runs its tasks in order, sharing one working directory."""

    type: Literal[
        "io.kestra.plugin.core.flow.WorkingDirectory", "io.kestra.core.tasks.flows.WorkingDirectory"
    ]
    tasks: list[Task] = Field(min_length=1, description="The tasks, run in order, in one directory")
    input_files: dict[str, str] | str | None = Field(
        None,
        description="Files written into the directory before its first task: a map of file "
        "name to content (a kestra:/// URI stands for that stored file), or a JSON map",
    )
    output_files: list[str] | None = Field(
        None,
        description="Glob patterns of files kept once its tasks ran, as "
        "outputs.<id>.outputFiles['name']",
    )
    namespace_files: NamespaceFilesOptions | None = Field(
        None, description="The namespace's files, for the script tasks inside"
    )
    cache: WorkdirCache | None = Field(
        None, description="Files kept for the next executions: patterns, ttl"
    )
    child_properties: ClassVar[tuple[str, ...]] = ("tasks",)

    @field_validator("tasks")
    @classmethod
    def _runnable_only(cls, tasks: list[Task]) -> list[Task]:
        # As Kestra: its tasks share a directory on one worker at a time, which a flowable
        # (a Pause, a Parallel...) holding tasks of its own could not keep.
        if any(task.flowable for task in tasks):
            raise ValueError(
                "Only runnable tasks are allowed as children of a WorkingDirectory task"
            )
        return tasks

    _input_files_as_text = field_validator("input_files", mode="before")(values_as_text)

    _input_file_names_stay_inside = field_validator("input_files")(input_file_names_inside)
    _output_patterns_stay_inside = field_validator("output_files")(output_patterns_inside)
