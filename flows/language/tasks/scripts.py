"""Script tasks (Python and shell, Script and Commands) and where they run: the Docker
runner (the default) or the Process runner."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, WithJsonSchema, field_validator

from environments.requirements import RequirementInvalid, requirement_check

from ..states import State
from ..values import MemorySize, input_file_names_inside, output_patterns_inside, values_as_text
from .base import (
    BaseTask,
    LanguageModel,
    Outcome,
    PythonSetup,
    Runtime,
    ScalarText,
    ScriptRun,
)

PullPolicy = Literal["IF_NOT_PRESENT", "ALWAYS", "NEVER"]

DOCKER_RUNNER_TYPES = (
    "io.kestra.plugin.scripts.runner.docker.Docker",
    "io.kestra.plugin.scripts.runners.docker.Docker",
    "docker",
)
PROCESS_RUNNER_TYPES = ("io.kestra.plugin.core.runner.Process", "process")


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


def _or_one(alternative: dict[str, Any]) -> Any:
    """A list's schema, or ``alternative`` (one item written alone)."""

    def extend(schema: dict[str, Any]) -> None:
        listed = {key: schema.pop(key) for key in ("type", "items") if key in schema}
        schema["anyOf"] = [listed, alternative]

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


class NamespaceFiles(LanguageModel):
    """Kestra's ``namespaceFiles:`` block: which of the namespace's files are written into
    the working directory, by their paths, before the commands run."""

    enabled: bool = Field(True, description="Take the namespace's files")
    include: list[str] | None = Field(None, description="Glob patterns: only these files")
    exclude: list[str] | None = Field(None, description="Glob patterns: not these files")
    namespaces: list[str] | None = Field(
        None, description="Whose files, in order (the flow's namespace by default)"
    )
    folder_per_namespace: bool = Field(
        False, description="Put each namespace's files under a folder named after it"
    )
    if_exists: Literal["OVERWRITE", "FAIL", "WARN", "IGNORE"] = Field(
        "OVERWRITE", description="When two namespaces give the same path"
    )


def _namespace_files_block(value: Any) -> Any:
    """``namespaceFiles: true`` is the older short form of ``{enabled: true}``."""
    return {"enabled": value} if isinstance(value, bool) else value


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
    namespace_files: NamespaceFiles | None = Field(
        None, description="Write the namespace's files into the working directory"
    )

    _env_as_text = field_validator("env", mode="before")(values_as_text)
    _input_files_as_text = field_validator("input_files", mode="before")(values_as_text)
    _namespace_files = field_validator("namespace_files", mode="before")(_namespace_files_block)

    _input_file_names_stay_inside = field_validator("input_files")(input_file_names_inside)
    _output_patterns_stay_inside = field_validator("output_files")(output_patterns_inside)

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

    def python_setup(self) -> PythonSetup | None:
        """What to install before the commands run (python tasks' ``dependencies``)."""
        return None

    def command_lines(self) -> list[str]:
        raise NotImplementedError

    def run(self, runtime: Runtime) -> Outcome:
        result = runtime.run_script(
            ScriptRun(
                commands=[*self.before_commands, *self.command_lines()],
                files=self.files(),
                input_files=self.input_files,
                output_files=list(self.output_files or []),
                interpreter=list(self.interpreter),
                env=dict(self.env),
                image=self.image("") or None,
                default_image_setting=self.default_image_setting,
                pull_policy=self.pull_policy,
                memory_bytes=self.memory_bytes,
                cpus=self.cpus,
                timeout=self.timeout_seconds,
                process=self.uses_process_runner,
                namespace_files=self.namespace_files
                if self.namespace_files and self.namespace_files.enabled
                else None,
                python=self.python_setup(),
            )
        )
        outputs: dict[str, Any] = {"exitCode": result.exit_code}
        if result.outputs:
            outputs["vars"] = result.outputs
        if result.output_files:
            outputs["outputFiles"] = result.output_files
        if result.setup_error:
            message = f"Could not install the Python dependencies: {result.setup_error}"
            runtime.log(message, "ERROR")
            return Outcome(State.FAILED, result.exit_code, outputs, message)
        if result.killed:
            runtime.log("Killed", "WARN")
            return Outcome(State.KILLED, result.exit_code, outputs)
        if result.timed_out:
            return Outcome(State.FAILED, result.exit_code, outputs, "Timed out")
        if result.exit_code != 0:
            message = f"Command failed with exit code {result.exit_code}"
            if result.error:
                message = f"{message}, {result.error}"
            runtime.log(message, "ERROR")
            return Outcome(State.FAILED, result.exit_code, outputs, message)
        if result.stderr_lines and self.warning_on_std_err:
            return Outcome(State.WARNING, result.exit_code, outputs)
        return Outcome(State.SUCCESS, result.exit_code, outputs)


def _one_or_many(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


def _number_as_text(value: Any) -> Any:
    # ``pythonVersion: 3.12`` is a number to YAML.
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


class PythonTask(ScriptTask):
    """What python Script and Commands share: Kestra's ``dependencies`` (0.23+)."""

    default_image_setting: ClassVar[str] = "FLOWSITE_DEFAULT_PYTHON_IMAGE"

    # Also written as one package, or a YAML number for the version: the validators
    # below accept both.
    dependencies: list[str] = Field(
        default_factory=list,
        description="Python packages (pip specifiers such as requests>=2.28) installed "
        "before the script runs, where it imports them from",
        json_schema_extra=_or_one({"type": "string"}),
    )
    dependency_cache_enabled: bool = Field(
        True,
        description="Build an environment of the dependencies once and reuse it in later "
        "runs (and serve beforeCommands that only pip-install packages from it); false "
        "installs them on every run",
    )
    package_manager: Literal["UV", "PIP"] = Field(
        "UV", description="Installs the dependencies: UV (pip where uv is missing) or PIP"
    )
    python_version: str | None = Field(
        None,
        description="The Python version the dependencies are meant for, e.g. 3.12: a "
        "warning is logged when the task's python is another one",
        json_schema_extra=_also({"type": "number"}),
    )

    _dependencies_listed = field_validator("dependencies", mode="before")(_one_or_many)
    _version_as_text = field_validator("python_version", mode="before")(_number_as_text)

    @field_validator("dependencies")
    @classmethod
    def _packages_not_options(cls, value: list[str]) -> list[str]:
        for n, item in enumerate(value):
            if not item.strip():
                raise ValueError(f"dependencies[{n}] is empty")
            if item.strip().startswith("-"):
                raise ValueError(f"dependencies[{n}] '{item}' is an option, not a package")
            if "{{" not in item:  # an expression is read once rendered, at run time
                try:
                    requirement_check(item)
                except RequirementInvalid as exc:
                    raise ValueError(f"dependencies[{n}] {exc}") from None
        return value

    @field_validator("python_version")
    @classmethod
    def _version_shape(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"\d+(\.\d+){0,2}", value.strip()):
            raise ValueError(f"'{value}' is not a Python version such as 3.12")
        return value.strip() if value else value

    def python_setup(self) -> PythonSetup | None:
        if not self.dependencies and not self.before_commands:
            return None
        return PythonSetup(
            dependencies=tuple(d.strip() for d in self.dependencies),
            package_manager=self.package_manager,
            python_version=self.python_version,
            cache_enabled=self.dependency_cache_enabled,
            before_commands=tuple(self.before_commands),
        )


class PythonScript(PythonTask):
    """Runs an inline Python script."""

    type: Literal["io.kestra.plugin.scripts.python.Script", "python.Script"]
    script: str = Field(description="The Python source to run")

    def files(self) -> dict[str, str]:
        return {"main.py": self.script}

    def command_lines(self) -> list[str]:
        return ["python main.py"]


class PythonCommands(PythonTask):
    """Runs shell commands, typically calling python, in a Python environment."""

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
