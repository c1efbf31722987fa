"""One attempt of a leaf task on a worker: its expressions rendered, then its model's
``run`` on the Runtime this module gives it (logs, waiting, scripts, subflows)."""

from __future__ import annotations

import functools
import logging
import time
from typing import Any

from django.conf import settings
from django.db import transaction

from accounts.reach import CrossingRefused, file_require, subflow_require
from environments.use import environment_prepare
from flows.expressions import ExpressionError, has_expression, render_bounds, render_value
from flows.inputs import InputsInvalid
from flows.language import FlowDefinition
from flows.language.tasks import BaseTask, Outcome, ScriptRun
from flows.models import Flow
from flowsite.rows import row_or_none
from namespaces.lookup import namespace_secrets
from namespaces.models import SecretUnreadable
from namespaces.process_runner import process_runner_allowed, process_runner_refusal

from .command_files import command_files_localize
from .context import SecretMissing, render_context
from .extras_services import ExtraServices
from .lifecycle import execution_start
from .live import LogWriter
from .metrics import task_run_metrics_store
from .models import Execution, LogLine, State, TaskRun
from .namespace_store import (
    TaskNamespaceStore,
    namespace_files_for_script,
    namespace_reach_require,
)
from .runners.base import RunResult, RunSpec, TaskError, drive
from .runners.docker import DockerRunner
from .runners.globs import glob_matcher
from .runners.process import ProcessRunner
from .storage import (
    SCHEME,
    input_files_materialize,
    storage_save,
    storage_uri,
    uri_execution,
)
from .task_services import TaskServices
from .workdir import workdir_files, workdir_holder, workdir_keep, workdir_task

logger = logging.getLogger(__name__)

# Errors whose message is the whole story for the user: shown as they are.
TOLD_ERRORS = (CrossingRefused, ExpressionError, SecretMissing, SecretUnreadable, TaskError)


def stop_requested(execution_id: str) -> bool:
    return Execution.objects.filter(
        pk=execution_id, state__in=(State.KILLING, State.KILLED)
    ).exists()


class StopWatch:
    """Asked often while a task runs: should it stop (the execution is being killed)?"""

    def __init__(self, task_run: TaskRun):
        self.task_run = task_run

    def __call__(self) -> bool:
        return stop_requested(self.task_run.execution_id)

    def wait(self, seconds: float) -> bool:
        """Wait ``seconds``; True as soon as the execution is to stop."""
        deadline = time.monotonic() + seconds
        while True:
            if self():
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(left, 0.2))


class WorkerRuntime(TaskServices, ExtraServices):
    """The Runtime a task model runs on, for one attempt of one task run."""

    def __init__(self, task_run: TaskRun, execution: Execution, writer: LogWriter):
        self.task_run, self.execution, self.writer = task_run, execution, writer
        self.stop_watch = StopWatch(task_run)

    def log(self, message: str, level: str = "INFO") -> None:
        self.writer.line(LogLine.Stream.SYSTEM, message, level)

    def wait(self, seconds: float) -> bool:
        return self.stop_watch.wait(seconds)

    def run_script(self, script: ScriptRun) -> RunResult:
        execution, task_run = self.execution, self.task_run
        # Checked at save too; this catches flows saved before the switch went off.
        if script.process and not process_runner_allowed(execution.namespace):
            raise TaskError(process_runner_refusal(execution.namespace))
        input_files = input_files_materialize(script.input_files or {}, reader=execution)
        definition = execution.flow_revision.definition
        holder = workdir_holder(task_run, definition)
        if holder is not None:  # inside a WorkingDirectory: its files first
            shared = workdir_files(
                execution=execution, definition=definition, holder=holder, task_run=task_run
            )
            input_files = {**shared, **input_files}
        if script.namespace_files is not None:  # Kestra's order: inputFiles win over them
            warn = functools.partial(self.log, level="WARN")
            namespace_files = namespace_files_for_script(execution, script.namespace_files, warn)
            input_files = {**namespace_files, **input_files}
        commands, stored = command_files_localize(script.commands, reader=execution)
        spec = RunSpec(
            execution_id=task_run.execution_id,
            task_run_id=task_run.pk,
            task_id=task_run.task_id,
            commands=commands,
            files={**stored, **input_files, **script.files},
            output_files=script.output_files,
            interpreter=script.interpreter,
            env=script.env,
            image=script.image or getattr(settings, script.default_image_setting),
            pull_policy=script.pull_policy,
            memory_bytes=script.memory_bytes,
            cpus=script.cpus,
            timeout=script.timeout,
            python=script.python,
        )
        # Its dependencies and pip-only beforeCommands: an environment built once.
        spec = environment_prepare(
            spec, process=script.process, sink=self.writer, should_stop=self.stop_watch
        )
        runner = ProcessRunner() if script.process else DockerRunner()
        result = drive(
            runner,
            spec,
            self.writer,
            should_stop=self.stop_watch,
            keep_file=lambda name, content: storage_save(
                storage_uri(execution, task_run, name), content
            ),
            keep_workdir=None
            if holder is None
            else lambda files: workdir_keep(execution=execution, holder=holder, files=files),
        )
        task_run_metrics_store(task_run=task_run, metrics=result.metrics, mask=self.writer.mask)
        return result

    def start_subflow(
        self,
        *,
        namespace: str,
        flow_id: str,
        inputs: dict[str, Any],
        labels: dict[str, str],
        inherit_labels: bool,
    ) -> Execution:
        # Asked before looking the flow up: a refusal tells nothing of what exists there.
        subflow_require(caller=self.execution.namespace, namespace=namespace, flow_id=flow_id)
        subflow_depth_require(self.execution, namespace=namespace, flow_id=flow_id)
        flow = row_or_none(Flow.objects.live(), namespace=namespace, flow_id=flow_id)
        if flow is None:
            raise TaskError(f"Subflow {namespace}.{flow_id} does not exist")
        for name, value in inputs.items():  # a file handed down must be one it may read
            if isinstance(value, str) and value.strip().startswith(SCHEME):
                uri = value.strip()
                file_require(
                    self.execution, uri_execution(uri), uri, what=f"Subflow input '{name}'"
                )
        labels = {**(self.execution.labels if inherit_labels else {}), **labels}
        try:
            return execution_start(
                flow=flow, inputs=inputs, labels=labels, parent_task_run=self.task_run
            )
        except InputsInvalid as exc:
            detail = "; ".join(f"{k}: {v}" if k else v for k, v in exc.errors.items())
            raise TaskError(f"Subflow {namespace}.{flow_id} refused its inputs: {detail}") from exc

    def start_subflows(
        self,
        *,
        namespace: str,
        flow_id: str,
        inputs: list[dict[str, Any]],
        labels: dict[str, str],
        inherit_labels: bool,
        outputs: dict[str, Any],
    ) -> list[Execution]:
        # One transaction: their jobs are enqueued on its commit, so no child can end
        # before this task run knows how many there are (see planner._batch_ended).
        with transaction.atomic():
            children = [
                self.start_subflow(
                    namespace=namespace,
                    flow_id=flow_id,
                    inputs=one,
                    labels=labels,
                    inherit_labels=inherit_labels,
                )
                for one in inputs
            ]
            TaskRun.objects.filter(pk=self.task_run.pk).update(outputs=outputs)
        return children

    def render_with(self, value: Any, *, taskrun: dict[str, Any]) -> Any:
        execution = self.execution
        context = render_context(
            execution,
            execution.flow_revision.definition,
            list(execution.task_runs.all()),
            self.task_run,
            on_secret=lambda secret: self.writer.add_secrets([secret]),
        )
        context["taskrun"] = {**context["taskrun"], **taskrun}
        return render_value(value, context)

    def shared_files(self) -> dict[str, bytes]:
        definition = self.execution.flow_revision.definition
        holder = workdir_holder(self.task_run, definition)
        if holder is None:
            return {}
        return workdir_files(
            execution=self.execution, definition=definition, holder=holder, task_run=self.task_run
        )

    def shared_files_keep(self, files: dict[str, bytes]) -> None:
        holder = workdir_holder(self.task_run, self.execution.flow_revision.definition)
        if holder is not None:
            workdir_keep(execution=self.execution, holder=holder, files=files)

    def files_materialize(self, files: dict[str, str] | str) -> dict[str, bytes]:
        return input_files_materialize(files, reader=self.execution)

    def glob_match(self, patterns: list[str], name: str) -> bool:
        return glob_matcher(patterns)(name)

    def namespace_store(self, namespace: str | None) -> TaskNamespaceStore:
        what = f"Task '{self.task_run.task_id}'"
        target = namespace_reach_require(self.execution, namespace, what=what)
        return TaskNamespaceStore(target, self.execution, self.task_run)


def subflow_depth_require(caller: Execution, *, namespace: str, flow_id: str) -> None:
    """Refuse a child execution deeper than FLOWSITE_SUBFLOW_MAX_DEPTH, counted through
    the callers' parent task runs: flows that call each other round and round stop here."""
    limit = settings.FLOWSITE_SUBFLOW_MAX_DEPTH
    chain = [f"{caller.namespace}.{caller.flow_id}"]
    parent_run_id = caller.parent_task_run_id
    while parent_run_id is not None and len(chain) <= limit:
        parent = (
            TaskRun.objects.filter(pk=parent_run_id)
            .values_list("execution__namespace", "execution__flow_id", "execution__parent_task_run")
            .first()
        )
        if parent is None:
            break
        chain.append(f"{parent[0]}.{parent[1]}")
        parent_run_id = parent[2]
    if len(chain) <= limit:  # the child would be ``len(chain)`` executions below its root
        return
    more = ["…"] if parent_run_id is not None else []
    shown = " → ".join([*more, *reversed(chain), f"{namespace}.{flow_id}"])
    raise TaskError(
        f"Subflow {namespace}.{flow_id} refused: it would nest executions more than "
        f"{limit} deep (FLOWSITE_SUBFLOW_MAX_DEPTH): {shown}. Flows that call each other "
        "need a condition that stops them."
    )


def attempt_prepare(
    task: BaseTask,
    task_run: TaskRun,
    execution: Execution,
    definition: FlowDefinition,
    writer: LogWriter,
) -> BaseTask | Outcome:
    """The task as this attempt runs it, its expressions rendered, or the Outcome that
    ends the attempt before it runs (a render error, a kill). Reads only: call it inside
    the transaction that claimed the attempt."""
    try:
        writer.add_secrets(namespace_secrets(execution.namespace).values())
        if execution.state in (State.KILLING, State.KILLED):
            return Outcome(State.KILLED)
        rendered = _rendered(task, task_run, execution, definition, writer)
        holder = workdir_holder(task_run, definition) if task_run.parent_id else None
        return rendered if holder is None else workdir_task(rendered, holder[1])
    except TOLD_ERRORS as exc:
        if isinstance(exc, ExpressionError) and stop_requested(execution.pk):
            return Outcome(State.KILLED)  # the kill stopped the render
        writer.system(str(exc), "ERROR")
        return Outcome(State.FAILED, error=writer.mask(str(exc)))
    except Exception as exc:  # recorded on the task run rather than lost in a worker log
        logger.exception("Task run %s crashed", task_run.pk)
        writer.system(f"Flowsite failed to run this task: {exc!r}", "ERROR")
        return Outcome(State.FAILED, error=writer.mask(repr(exc)))


def attempt_perform(task: BaseTask, runtime: WorkerRuntime) -> Outcome:
    """Run the prepared task; any error ends the attempt FAILED, named in its logs."""
    writer = runtime.writer
    try:
        outcome = task.run(runtime)
        # What a task publishes is shown and stored like its logs: secrets hidden.
        outcome.outputs, outcome.error = writer.mask(outcome.outputs), writer.mask(outcome.error)
        return outcome
    except TOLD_ERRORS as exc:
        writer.system(str(exc), "ERROR")
        return Outcome(State.FAILED, error=writer.mask(str(exc)))
    except Exception as exc:  # recorded on the task run rather than lost in a worker log
        logger.exception("Task run %s crashed", runtime.task_run.pk)
        writer.system(f"Flowsite failed to run this task: {exc!r}", "ERROR")
        return Outcome(State.FAILED, error=writer.mask(repr(exc)))


def _rendered(
    task: BaseTask,
    task_run: TaskRun,
    execution: Execution,
    definition: FlowDefinition,
    writer: LogWriter,
) -> BaseTask:
    """The task with every expression in its properties rendered (children excluded:
    each renders when it runs). The context is only built for a task that needs it."""
    raw = task.model_dump(mode="json", by_alias=True, exclude_unset=True)
    for name in (*task.child_properties, *task.rendered_later):
        alias = type(task).model_fields[name].alias or name
        raw.pop(alias, None)
        raw.pop(name, None)
    if not _has_expression(raw):
        return task
    context = render_context(
        execution,
        definition,
        list(execution.task_runs.all()),
        task_run,
        on_secret=lambda value: writer.add_secrets([value]),
    )
    # A render stops at the task's timeout and when the execution is killed.
    timeout = task.timeout.total_seconds() if task.timeout is not None else None
    with render_bounds(timeout, should_stop=lambda: stop_requested(execution.pk)):
        rendered = render_value(raw, context)
    for name in (*task.child_properties, *task.rendered_later):  # back, unrendered
        raw_alias = type(task).model_fields[name].alias or name
        rendered[raw_alias] = getattr(task, name)
    try:
        return type(task).model_validate(rendered)
    except Exception as exc:
        raise TaskError(
            f"After rendering its expressions, task '{task.id}' is invalid: {exc}"
        ) from exc


def _has_expression(value: Any) -> bool:
    if isinstance(value, str):
        return has_expression(value)
    if isinstance(value, dict):
        return any(_has_expression(k) or _has_expression(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_expression(v) for v in value)
    return False
