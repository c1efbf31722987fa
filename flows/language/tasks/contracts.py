"""The contracts between a task model and the engine that runs it: what one attempt of a
leaf task returns (``Outcome``), what a script asks of a runner (``ScriptRun``), and the
two protocols through which the engine serves a task while it runs (``Runtime``) or
decides (``Planner``). The engine (executions/) implements them; nothing here knows Django."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import IO, TYPE_CHECKING, Any, Protocol

import requests

from ..states import State

if TYPE_CHECKING:
    from .base import BaseTask
    from .store import NamespaceStore
    from .subflow import SubflowTask


@dataclass
class Outcome:
    """How one attempt of a leaf task ended."""

    state: State
    exit_code: int | None = None
    outputs: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    wake_at: datetime | None = None  # PAUSED: when it resumes by itself


@dataclass(frozen=True)
class PythonSetup:
    """A python task's ``dependencies``, installed before its script runs, and its
    beforeCommands, which may only install packages."""

    dependencies: tuple[str, ...]
    package_manager: str  # UV (pip where uv is missing) or PIP
    python_version: str | None
    # Kestra keeps built environments for reuse when true (its default), as Flowsite does
    # (environments/); false installs them on every run.
    cache_enabled: bool = True
    # The task's beforeCommands: when they only pip-install packages, the environment
    # stands in for them too (a Flowsite extension).
    before_commands: tuple[str, ...] = ()


@dataclass(frozen=True)
class ScriptRun:
    """What a script task asks a runner to do, its spellings resolved."""

    commands: list[str]
    files: dict[str, str]  # written into the working directory
    input_files: dict[str, str] | str | None  # Kestra's inputFiles, kestra:/// URIs allowed
    output_files: list[str]
    interpreter: list[str]
    env: dict[str, str]
    image: str | None  # None: the default image, named by ``default_image_setting``
    default_image_setting: str
    pull_policy: str
    memory_bytes: int | None
    cpus: float | None
    timeout: float | None
    process: bool  # the Process runner rather than Docker
    # Kestra's namespaceFiles when enabled (its ``include`` and ``exclude``), else None.
    namespace_files: Any = None
    python: PythonSetup | None = None


class ScriptResult(Protocol):
    exit_code: int | None
    outputs: dict[str, Any]
    output_files: dict[str, str]
    stderr_lines: int
    killed: bool
    timed_out: bool
    error: str  # why it failed, when the runner knows better than the exit code
    setup_error: str  # why the dependencies could not be installed; the script never ran


@dataclass(frozen=True)
class PurgeParts:
    """What a PurgeExecutions removes of each execution it selects."""

    executions: bool = True
    logs: bool = True
    storage: bool = True


class ChildExecution(Protocol):
    """A Subflow's child execution, as the Subflow task sees it."""

    pk: str
    state: str
    outputs: dict[str, Any]

    @property
    def is_terminal(self) -> bool: ...


class Runtime(Protocol):
    """What a leaf task may do while a worker runs it."""

    def log(self, message: str, level: str = "INFO") -> None: ...

    def wait(self, seconds: float) -> bool:
        """Wait; True as soon as the execution is to stop."""

    def run_script(self, script: ScriptRun) -> ScriptResult: ...

    def start_subflow(
        self,
        *,
        namespace: str,
        flow_id: str,
        inputs: dict[str, Any],
        labels: dict[str, str],
        inherit_labels: bool,
    ) -> ChildExecution: ...

    def start_subflows(
        self,
        *,
        namespace: str,
        flow_id: str,
        inputs: list[dict[str, Any]],
        labels: dict[str, str],
        inherit_labels: bool,
        outputs: dict[str, Any],
    ) -> Sequence[ChildExecution]:
        """One child execution per item of ``inputs``, all or none, and ``outputs`` kept
        on this task run with them: none of them starts before all are there."""

    def render_with(self, value: Any, *, taskrun: dict[str, Any]) -> Any:
        """``value`` rendered for this task run, ``taskrun`` adding to its variables."""

    def shared_files(self) -> dict[str, bytes]:
        """The files of the WorkingDirectory this task runs in (none outside one)."""

    def shared_files_keep(self, files: dict[str, bytes]) -> None:
        """Make ``files`` the WorkingDirectory's files (nothing outside one)."""

    def files_materialize(self, files: dict[str, str] | str) -> dict[str, bytes]:
        """Kestra's inputFiles forms, as the files they write."""

    def glob_match(self, patterns: list[str], name: str) -> bool: ...

    # For the core tasks that reach the network, the internal storage, or Flowsite's own
    # records (http, log.Fetch, execution.Labels, the purges): each bounded to what the
    # execution's namespace may reach.
    def http_session(self) -> requests.Session:
        """A session that trusts the worker's CA bundle and proxies and refuses the
        server's own services."""

    def file_store(self, name: str, content: bytes | IO[bytes]) -> str:
        """Store ``content`` as this task run's file ``name``; its kestra:/// URI."""

    def file_read(self, uri: str, *, what: str) -> bytes:
        """A stored file this execution may read; ``what`` names it in a refusal."""

    def encrypt(self, text: str) -> str: ...

    def subflow_outputs(self, task: SubflowTask, child: ChildExecution) -> dict[str, Any]:
        """What a Subflow task publishes once its child ended (its ``outputs:`` map
        rendered in the child's context)."""

    def logs_fetch(
        self,
        *,
        execution_id: str | None,
        namespace: str | None,
        flow_id: str | None,
        task_ids: list[str] | None,
        level: str,
    ) -> Iterator[dict[str, Any]]: ...

    def labels_set(self, labels: dict[str, str]) -> None: ...

    def logs_purge(
        self,
        *,
        namespace: str | None,
        flow_id: str | None,
        levels: list[str] | None,
        start: datetime | None,
        end: datetime,
    ) -> int: ...

    def executions_purge(
        self,
        *,
        namespace: str | None,
        flow_id: str | None,
        states: list[str] | None,
        start: datetime | None,
        end: datetime,
        what: PurgeParts,
    ) -> dict[str, int]: ...

    def namespace_store(self, namespace: str | None) -> NamespaceStore:
        """The KV store and files of ``namespace`` (None: the flow's own)."""

    # The deprecated state store, resuming an execution and toggling a trigger: each
    # within what the execution's namespace may reach (executions/extras_services.py).
    def state_get(self, *, name: str, flow_scoped: bool, per_value: bool) -> dict[str, Any] | None:
        """The stored state, or None when there is none."""

    def state_merge(
        self, *, name: str, flow_scoped: bool, per_value: bool, data: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        """Merge ``data`` into the stored state; its key and the state as merged."""

    def state_delete(self, *, name: str, flow_scoped: bool, per_value: bool) -> bool: ...

    def execution_resume(
        self,
        *,
        execution_id: str | None,
        namespace: str | None,
        flow_id: str | None,
        inputs: dict[str, Any],
    ) -> str:
        """Resume a paused execution (by default this one); returns its id."""

    def trigger_toggle(
        self, *, namespace: str | None, flow_id: str | None, trigger_id: str, enabled: bool
    ) -> str:
        """Enable or disable the trigger; returns its flow as ``namespace.flow_id``."""


class RunView(Protocol):
    """A flowable task's own run, as its decisions need it."""

    path: str
    state: str
    value: str | None
    outputs: dict[str, Any]
    started_at: datetime | None
    wake_at: datetime | None  # set by ``Planner.later``: it waits until then


class Planner(Protocol):
    """What a flowable task may ask of the engine while it decides."""

    def sequence(
        self,
        tasks: Sequence[BaseTask],
        *,
        parent: RunView,
        value: str | None,
        prefix: str,
        limit: int,
    ) -> State | None:
        """Run ``tasks`` one at a time (limit 1), ``limit`` at once, or all at once (0).
        The terminal state of the whole, or None while some still run."""

    def started(self, prefix: str) -> bool:
        """Whether any task run's path starts with ``prefix``."""

    def render(self, expression: str, run: RunView) -> Any: ...

    def later(self, run: RunView, *, after: timedelta, outputs: dict[str, Any]) -> None:
        """Keep ``outputs`` on ``run`` and decide again once ``after`` has passed: the
        clock wakes it then (``run.wake_at`` says when)."""

    def now(self) -> datetime: ...

    def pause(self, run: RunView, *, until: datetime | None, message: str) -> None:
        """Put ``run`` PAUSED, until resumed or until ``until`` (the clock resumes it),
        saying ``message`` in its logs; the execution pauses once nothing else runs."""

    def state_of(self, path: str) -> State | None:
        """The state of the task run at exactly ``path``, or None when there is none."""

    def render_value(self, value: Any, run: RunView) -> Any: ...
