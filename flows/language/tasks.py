"""The task types of Kestra's flow language that Flowsite runs, one typed model each.

These models are the single source of truth: they validate flows, describe them to the
runners, and generate the JSON Schema the editor uses. Each ``type`` Literal lists the
Kestra name first, then older Kestra names and Flowsite's short aliases.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from flowsite.values import relative_path_check

from .values import TASK_ID_PATTERN, Duration, MemorySize, values_as_text

PullPolicy = Literal["IF_NOT_PRESENT", "ALWAYS", "NEVER"]
LogLevel = Literal["TRACE", "DEBUG", "INFO", "WARN", "ERROR"]

DOCKER_RUNNER_TYPES = (
    "io.kestra.plugin.scripts.runner.docker.Docker",
    "io.kestra.plugin.scripts.runners.docker.Docker",
    "docker",
)
PROCESS_RUNNER_TYPES = ("io.kestra.plugin.core.runner.Process", "process")


def _not_supported_yet(value: Any) -> Any:
    if value is not None:
        raise ValueError("is not supported yet by Flowsite")
    return value


# Excluded from dumps and left out of the JSON Schema (see flows/schema.py): editors
# should not offer what the server refuses.
NotSupportedYet = Annotated[
    Any,
    AfterValidator(_not_supported_yet),
    Field(exclude=True, json_schema_extra={"x-not-supported-yet": True}),
]
ScalarText = {"type": ["string", "number", "boolean"]}


class LanguageModel(BaseModel):
    model_config = ConfigDict(
        extra="forbid", alias_generator=to_camel, populate_by_name=True, frozen=True
    )


class CpuLimit(LanguageModel):
    cpus: float = Field(gt=0, description="CPUs the container may use, e.g. 1.5")


class MemoryLimit(LanguageModel):
    memory: MemorySize = Field(description="Memory the container may use, e.g. 512MB")


def _cpus(value: Any) -> Any:
    return (
        {"cpus": value} if isinstance(value, int | float) and not isinstance(value, bool) else value
    )


def _memory(value: Any) -> Any:
    return (
        {"memory": value} if isinstance(value, int | str) and not isinstance(value, bool) else value
    )


def _also(alternative: dict[str, Any]) -> Any:
    def extend(schema: dict[str, Any]) -> None:
        schema.setdefault("anyOf", []).append(alternative)

    return extend


class _Limits(LanguageModel):
    pull_policy: PullPolicy | None = Field(
        None, description="When to pull the image: IF_NOT_PRESENT (default), ALWAYS or NEVER"
    )
    # Also written as a plain number or size, which the validators below accept.
    cpu: CpuLimit | None = Field(None, json_schema_extra=_also({"type": "number"}))
    memory: MemoryLimit | None = Field(
        None, json_schema_extra=_also({"type": ["string", "integer"]})
    )

    _cpu = field_validator("cpu", mode="before")(_cpus)
    _mem = field_validator("memory", mode="before")(_memory)


class DockerOptions(_Limits):
    """The older ``docker:`` block of script tasks."""

    image: str | None = Field(None, description="Container image, e.g. python:3.11-slim")


class TaskRunner(_Limits):
    """Kestra's ``taskRunner:`` block: where and how a script task runs."""

    type: Literal[DOCKER_RUNNER_TYPES + PROCESS_RUNNER_TYPES]  # type: ignore[valid-type]

    @property
    def is_process(self) -> bool:
        return self.type in PROCESS_RUNNER_TYPES


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
    behavior: Literal["RETRY_FAILED_TASK"] | None = None

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
        if self.type == "random":
            low, high = self.min_interval.total_seconds(), self.max_interval.total_seconds()  # type: ignore[union-attr]
            return timedelta(seconds=random.uniform(low, high))
        interval = self.interval or timedelta(0)
        if self.type == "exponential":
            interval = interval * (self.delay_factor or 2) ** (attempt - 1)
            if self.max_interval is not None:
                interval = min(interval, self.max_interval)
        return interval


class BaseTask(LanguageModel):
    id: str = Field(pattern=TASK_ID_PATTERN, max_length=100, description="Unique id of the task")
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
    worker_group: NotSupportedYet = None
    log_level: NotSupportedYet = None

    # Flowable tasks hold other tasks and run on no worker: the engine decides their state
    # from their children's.
    flowable: ClassVar[bool] = False
    # Properties holding child tasks: not rendered with the task, each child renders its own.
    child_properties: ClassVar[tuple[str, ...]] = ()

    @property
    def canonical_type(self) -> str:
        return type(self).model_fields["type"].annotation.__args__[0]  # type: ignore[union-attr]

    @classmethod
    def type_names(cls) -> tuple[str, ...]:
        return cls.model_fields["type"].annotation.__args__  # type: ignore[union-attr]

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


class LogTask(BaseTask):
    """Writes a message to the execution's logs."""

    type: Literal["io.kestra.plugin.core.log.Log", "io.kestra.core.tasks.log.Log", "Log"]
    message: str | list[str] = Field(description="The message, or several")
    level: LogLevel = Field("INFO", description="Level of the log line")

    @property
    def messages(self) -> list[str]:
        return [self.message] if isinstance(self.message, str) else list(self.message)


class ScriptTask(BaseTask):
    """Properties shared by every script task (python and shell, Script and Commands)."""

    before_commands: list[str] = Field(
        default_factory=list, description="Shell commands run before the script, e.g. pip install"
    )
    env: Annotated[
        dict[str, str], WithJsonSchema({"type": "object", "additionalProperties": ScalarText})
    ] = Field(default_factory=dict, description="Environment variables")
    container_image: str | None = Field(None, description="Container image for the Docker runner")
    docker: DockerOptions | None = Field(None, description="Older form of the Docker options")
    runner: Literal["DOCKER", "PROCESS"] | None = Field(
        None, description="Older form of taskRunner"
    )
    task_runner: TaskRunner | None = Field(None, description="Docker (default) or Process")
    default_image_setting: ClassVar[str]

    warning_on_std_err: bool = Field(True, description="Any stderr output ends the task WARNING")
    interpreter: list[str] = Field(
        default_factory=lambda: ["/bin/sh", "-c"], description="Runs the commands"
    )
    input_files: dict[str, str] | str | None = Field(
        None,
        description="Files written into the working directory: a map of file name to "
        "content (a kestra:/// URI stands for that stored file), or a JSON map as text",
    )
    output_files: list[str] | None = Field(
        None,
        description="Glob patterns (e.g. *.csv, out/**) of files to keep after the task, "
        "as outputs.<task>.outputFiles['name']",
    )
    namespace_files: NotSupportedYet = None

    _env_as_text = field_validator("env", mode="before")(values_as_text)
    _input_files_as_text = field_validator("input_files", mode="before")(values_as_text)

    @field_validator("input_files")
    @classmethod
    def _input_file_names_stay_inside(cls, value: Any) -> Any:
        for name in value if isinstance(value, dict) else ():
            relative_path_check(name, what="inputFiles name")
        return value

    @field_validator("output_files")
    @classmethod
    def _output_patterns_stay_inside(cls, value: Any) -> Any:
        for pattern in value or ():
            relative_path_check(pattern.removeprefix("./"), what="outputFiles pattern")
        return value

    # What the runners need, with the older and newer spellings resolved.
    @property
    def uses_process_runner(self) -> bool:
        if self.task_runner is not None:
            return self.task_runner.is_process
        return self.runner == "PROCESS"

    def image(self, default: str) -> str:
        return self.container_image or (self.docker and self.docker.image) or default

    def _limit(self, name: str) -> Any:
        for block in (self.task_runner, self.docker):
            if block is not None and getattr(block, name) is not None:
                return getattr(block, name)
        return None

    @property
    def pull_policy(self) -> PullPolicy:
        return self._limit("pull_policy") or "IF_NOT_PRESENT"

    @property
    def memory_bytes(self) -> int | None:
        limit = self._limit("memory")
        return limit.memory if limit else None

    @property
    def cpus(self) -> float | None:
        limit = self._limit("cpu")
        return limit.cpus if limit else None

    @property
    def timeout_seconds(self) -> float | None:
        return self.timeout.total_seconds() if isinstance(self.timeout, timedelta) else None

    def files(self) -> dict[str, str]:
        """Files written into the working directory before the commands run."""
        return {}

    def command_lines(self) -> list[str]:
        raise NotImplementedError


class PythonScript(ScriptTask):
    """Runs an inline Python script."""

    default_image_setting: ClassVar[str] = "FLOWSITE_DEFAULT_PYTHON_IMAGE"

    type: Literal["io.kestra.plugin.scripts.python.Script", "python.Script"]
    script: str = Field(description="The Python source to run")

    def files(self) -> dict[str, str]:
        return {"main.py": self.script}

    def command_lines(self) -> list[str]:
        return ["python main.py"]


class PythonCommands(ScriptTask):
    """Runs shell commands, typically calling python, in a Python environment."""

    default_image_setting: ClassVar[str] = "FLOWSITE_DEFAULT_PYTHON_IMAGE"

    type: Literal["io.kestra.plugin.scripts.python.Commands", "python.Commands"]
    commands: list[str] = Field(min_length=1, description="Commands to run, in order")

    def command_lines(self) -> list[str]:
        return list(self.commands)


class ShellScript(ScriptTask):
    """Runs an inline shell script."""

    default_image_setting: ClassVar[str] = "FLOWSITE_DEFAULT_SHELL_IMAGE"

    type: Literal["io.kestra.plugin.scripts.shell.Script", "shell.Script"]
    script: str = Field(description="The shell script to run")

    def files(self) -> dict[str, str]:
        return {"main.sh": self.script}

    def command_lines(self) -> list[str]:
        return ["sh main.sh"]


class ShellCommands(ScriptTask):
    """Runs shell commands."""

    default_image_setting: ClassVar[str] = "FLOWSITE_DEFAULT_SHELL_IMAGE"

    type: Literal["io.kestra.plugin.scripts.shell.Commands", "shell.Commands"]
    commands: list[str] = Field(min_length=1, description="Commands to run, in order")

    def command_lines(self) -> list[str]:
        return list(self.commands)


class ReturnTask(BaseTask):
    """Renders a value into its output ``value``."""

    type: Literal["io.kestra.plugin.core.debug.Return", "io.kestra.core.tasks.debugs.Return"]
    format: str | None = Field(None, description="The text to render, e.g. {{ inputs.name }}")


class OutputValues(BaseTask):
    """Publishes values as outputs: ``{{ outputs.<id>.values.<key> }}``."""

    type: Literal["io.kestra.plugin.core.output.OutputValues"]
    values: dict[str, Any] = Field(default_factory=dict, description="Values to publish")


class SleepTask(BaseTask):
    """Waits for a while."""

    type: Literal["io.kestra.plugin.core.flow.Sleep"]
    duration: Duration = Field(description="How long to wait (ISO-8601)")


class FailTask(BaseTask):
    """Fails the execution, always or when a condition renders true."""

    type: Literal["io.kestra.plugin.core.execution.Fail", "io.kestra.core.tasks.executions.Fail"]
    condition: str | None = Field(None, description="Fail only when this renders true")
    error_message: str = Field("Task failure", description="Why the execution fails")


class PauseTask(BaseTask):
    """Pauses the execution until it is resumed, or for a set duration."""

    type: Literal["io.kestra.plugin.core.flow.Pause", "io.kestra.core.tasks.flows.Pause"]
    pause_duration: Duration | None = Field(
        None,
        validation_alias=AliasChoices("pauseDuration", "delay", "pause_duration"),
        description="Resume by itself after this long; without it, wait for Resume",
    )


class SubflowTask(BaseTask):
    """Runs another flow as a child execution."""

    type: Literal["io.kestra.plugin.core.flow.Subflow", "io.kestra.core.tasks.flows.Subflow"]
    namespace: str = Field(description="Namespace of the flow to run")
    flow_id: str = Field(description="Id of the flow to run")
    inputs: dict[str, Any] = Field(default_factory=dict, description="Inputs of the child")
    labels: dict[str, str] = Field(default_factory=dict, description="Labels of the child")
    wait: bool = Field(True, description="Wait for the child execution to end")
    transmit_failed: bool = Field(True, description="Fail when the child execution fails")
    inherit_labels: bool = Field(False, description="Give the child this execution's labels")

    _labels_as_text = field_validator("labels", mode="before")(values_as_text)


class FlowableTask(BaseTask):
    flowable: ClassVar[bool] = True


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


class IfTask(FlowableTask):
    """Runs ``then`` when the condition renders true, ``else`` otherwise."""

    type: Literal["io.kestra.plugin.core.flow.If", "io.kestra.core.tasks.flows.If"]
    condition: str = Field(description="An expression, e.g. {{ inputs.run_it }}")
    then: list[Task] = Field(min_length=1, description="Tasks run when it is true")
    else_: list[Task] = Field(
        default_factory=list, alias="else", description="Tasks run when it is false"
    )
    child_properties: ClassVar[tuple[str, ...]] = ("then", "else_")


class SwitchTask(FlowableTask):
    """Runs the tasks of the case matching the rendered value."""

    type: Literal["io.kestra.plugin.core.flow.Switch", "io.kestra.core.tasks.flows.Switch"]
    value: str = Field(description="An expression whose text picks the case")
    cases: dict[str, list[Task]] = Field(default_factory=dict, description="Tasks per value")
    defaults: list[Task] = Field(default_factory=list, description="Tasks when no case matches")
    child_properties: ClassVar[tuple[str, ...]] = ("cases", "defaults")

    @field_validator("cases", mode="before")
    @classmethod
    def _case_keys_as_text(cls, value: Any) -> Any:
        # YAML reads `1:` or `true:` as a number or a boolean; the value renders as text.
        if not isinstance(value, dict):
            return value
        return {_key_text(key): tasks for key, tasks in value.items()}


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

Task = Annotated[
    PythonScript
    | PythonCommands
    | ShellScript
    | ShellCommands
    | LogTask
    | ReturnTask
    | OutputValues
    | SleepTask
    | FailTask
    | PauseTask
    | SubflowTask
    | SequentialTask
    | ParallelTask
    | IfTask
    | SwitchTask
    | ForEachTask,
    Field(discriminator="type"),
]

for _model in TASK_MODELS:
    if _model.flowable:
        _model.model_rebuild()

TASK_TYPES: dict[str, type[BaseTask]] = {
    name: model
    for model in TASK_MODELS
    for name in model.model_fields["type"].annotation.__args__  # type: ignore[union-attr]
}
