"""django-q2 jobs. Each takes an id, claims its work with a conditional update and does
nothing when someone else already has it: django-q2 delivers at least once."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from flows.expressions import ExpressionError, has_expression, is_truthy, render_value
from flows.language.tasks import (
    BaseTask,
    FailTask,
    LogTask,
    OutputValues,
    PauseTask,
    ReturnTask,
    ScriptTask,
    SleepTask,
    SubflowTask,
)

from .context import SecretMissing, render_context
from .engine import (
    enqueue_task_run,
    execution_advance,
    execution_mark_running,
    execution_start,
    parsed_flow,
    subflow_outputs,
    subflow_state,
    task_run_fail,
    task_runs_sweep,
)
from .live import LogWriter, execution_wake
from .models import Execution, LogLine, State, TaskRun, TaskRunAttempt
from .runners.base import RunSpec, TaskError, drive
from .runners.docker import DockerRunner, containers_reap_orphans
from .runners.process import ProcessRunner
from .storage import input_files_materialize, storage_save, storage_uri

logger = logging.getLogger(__name__)

WORKER = f"{socket.gethostname()}:{os.getpid()}"
# A retry due sooner than this waits on the worker; a later one waits for the clock.
INLINE_RETRY_WAIT = timedelta(seconds=5)


def sweep_stalled_task_runs() -> int:
    """Scheduled every minute (see the executions migrations): re-enqueue task runs
    nobody claimed, and remove containers left behind by task runs that ended."""
    containers_reap_orphans(
        is_running=lambda pk: TaskRun.objects.filter(pk=pk, state=State.RUNNING).exists()
    )
    return task_runs_sweep()


def run_task_run(task_run_id: str) -> None:
    """Run a task run, then keep going with what it made ready while this worker may:
    the first ready task runs here, the others go to the broker for other workers."""
    ready = [task_run_id]
    while ready:
        here, *others = ready
        for pk in others:
            enqueue_task_run(pk)
        try:
            ready = task_run_execute(task_run_id=here)
        except Exception as exc:  # a bug of ours must not leave the task RUNNING forever
            logger.exception("Task run %s crashed the worker's job", here)
            ready = _fail_crashed(here, exc)


def _fail_crashed(task_run_id: str, exc: Exception) -> list[str]:
    message = f"Flowsite failed to run this task: {exc!r}"
    run = TaskRun.objects.get(pk=task_run_id)
    return task_run_fail(run, message, unless_changed={}, inline=True) or []


@dataclass
class Outcome:
    state: State
    exit_code: int | None = None
    outputs: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    wake_at: Any = None  # PAUSED: when it resumes by itself


def task_run_execute(*, task_run_id: str) -> list[str]:
    """Claim and run one task run, with its retries; return the task runs it made ready."""
    task_run = (
        TaskRun.objects.select_related("execution__flow_revision").filter(pk=task_run_id).first()
    )
    if task_run is None or not task_run.claim(WORKER):
        return []
    execution = task_run.execution
    execution_mark_running(execution_id=execution.pk)
    execution_wake(execution.pk)
    definition = parsed_flow(execution.flow_revision.source)  # selected with the task run
    task = definition.task(task_run.task_id)
    with Heartbeat(task_run):
        tried = _attempts(task, task_run, execution, definition)
    if tried is None:  # its next attempt waits for the clock
        return []
    outcome, attempt = tried
    retried = task_run.attempt > 1 and task.retry is not None
    if outcome.state == State.SUCCESS and retried and task.retry.warning_on_retry:
        outcome.state = State.WARNING
    if outcome.state == State.RUNNING:  # a Subflow waits for its child execution to end
        TaskRun.objects.filter(pk=task_run.pk, state=State.RUNNING).update(outputs=outcome.outputs)
        TaskRunAttempt.objects.filter(pk=attempt.pk, state=State.RUNNING).update(ended_at=None)
        return []
    task_run.finish(
        outcome.state, exit_code=outcome.exit_code, outputs=outcome.outputs, error=outcome.error
    )
    if outcome.state == State.PAUSED:
        TaskRun.objects.filter(pk=task_run.pk).update(wake_at=outcome.wake_at, ended_at=None)
    return execution_advance(execution_id=execution.pk, inline=True)


def _attempts(
    task: BaseTask, task_run: TaskRun, execution: Execution, definition: Any
) -> tuple[Outcome, TaskRunAttempt] | None:
    """Attempt after attempt while the task's retry allows; None when the next attempt
    is far enough away to leave it to the clock (RETRYING)."""
    while True:
        attempt = TaskRunAttempt.objects.create(
            task_run=task_run, number=task_run.attempt, worker=WORKER
        )
        outcome = _attempt(task, task_run, execution, definition)
        attempt.state, attempt.ended_at = outcome.state, timezone.now()
        attempt.exit_code, attempt.error = outcome.exit_code, outcome.error
        attempt.save()
        if outcome.state != State.FAILED or not _retry(task, task_run, attempt):
            return outcome, attempt
        delay = task.retry.delay_before(task_run.attempt)  # type: ignore[union-attr]
        if delay > INLINE_RETRY_WAIT:
            TaskRun.objects.filter(pk=task_run.pk, state=State.RUNNING).update(
                state=State.RETRYING, wake_at=timezone.now() + delay
            )
            execution_wake(execution.pk)
            return None
        if StopWatch(task_run).wait(delay.total_seconds()):
            return Outcome(State.KILLED), attempt
        TaskRun.objects.filter(pk=task_run.pk).update(attempt=task_run.attempt + 1)
        task_run.attempt += 1
        execution_wake(execution.pk)


def _retry(task: BaseTask, task_run: TaskRun, attempt: TaskRunAttempt) -> bool:
    retry = task.retry
    if retry is None:
        return False
    if retry.max_attempts is not None and task_run.attempt >= retry.max_attempts:
        return False
    if retry.max_duration is not None:
        first = task_run.attempts.order_by("number").values_list("started_at", flat=True).first()
        next_start = timezone.now() + retry.delay_before(task_run.attempt)
        if first is not None and next_start - first > retry.max_duration:
            return False
    return True


HEARTBEAT_EVERY = 10.0  # seconds; the sweep fails a run silent for LOST_AFTER (engine.py)


class Heartbeat:
    """While a worker holds a task run, a thread tells the database every few seconds
    that it is alive, whatever the task is doing (pulling an image, waiting for a
    retry, running). A run whose heartbeat stops is failed by the sweep."""

    def __init__(self, task_run: TaskRun, every: float = HEARTBEAT_EVERY):
        self.task_run, self.every = task_run, every
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-{task_run.pk}")

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stopped.set()
        self._thread.join()

    def _beat(self) -> None:
        try:
            while not self._stopped.wait(self.every):
                TaskRun.objects.filter(pk=self.task_run.pk, state=State.RUNNING).update(
                    heartbeat_at=timezone.now()
                )
        except Exception:  # a missed beat is retried; a lasting failure shows as lost
            logger.exception("Heartbeat of task run %s failed", self.task_run.pk)
        finally:
            connection.close()  # this thread's own connection


class StopWatch:
    """Asked often while a task runs: should it stop (the execution is being killed)?"""

    def __init__(self, task_run: TaskRun):
        self.task_run = task_run

    def __call__(self) -> bool:
        return _stop_requested(self.task_run.execution_id)

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


def _stop_requested(execution_id: str) -> bool:
    return Execution.objects.filter(
        pk=execution_id, state__in=(State.KILLING, State.KILLED)
    ).exists()


def _attempt(task: BaseTask, task_run: TaskRun, execution: Execution, definition: Any) -> Outcome:
    from namespaces.lookup import namespace_secrets
    from namespaces.models import SecretUnreadable

    writer = LogWriter(task_run)
    try:
        writer.add_secrets(namespace_secrets(execution.namespace).values())
        if _stop_requested(execution.pk):
            return Outcome(State.KILLED)
        rendered = _rendered(
            task,
            lambda: render_context(
                execution,
                definition,
                list(execution.task_runs.all()),
                task_run,
                on_secret=lambda v: writer.add_secrets([v]),
            ),
        )
        outcome = _perform(rendered, task_run, execution, writer)
        # What a task publishes is shown and stored like its logs: secrets hidden.
        outcome.outputs, outcome.error = writer.mask(outcome.outputs), writer.mask(outcome.error)
        return outcome
    except (ExpressionError, SecretMissing, SecretUnreadable) as exc:
        writer.system(str(exc), "ERROR")
        return Outcome(State.FAILED, error=str(exc))
    except TaskError as exc:
        writer.system(str(exc), "ERROR")
        return Outcome(State.FAILED, error=str(exc))
    except Exception as exc:  # recorded on the task run rather than lost in a worker log
        logger.exception("Task run %s crashed", task_run.pk)
        writer.system(f"Flowsite failed to run this task: {exc!r}", "ERROR")
        return Outcome(State.FAILED, error=repr(exc))
    finally:
        writer.flush()


def _rendered(task: BaseTask, context_of: Callable[[], dict[str, Any]]) -> BaseTask:
    """The task with every expression in its properties rendered (children excluded:
    each renders when it runs). The context is only built for a task that needs it."""
    raw = task.model_dump(mode="json", by_alias=True, exclude_unset=True)
    for name in task.child_properties:
        alias = type(task).model_fields[name].alias or name
        raw.pop(alias, None)
        raw.pop(name, None)
    if not _has_expression(raw):
        return task
    rendered = render_value(raw, context_of())
    for name in task.child_properties:  # put the children back, unrendered
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


def _perform(
    task: BaseTask,
    task_run: TaskRun,
    execution: Execution,
    writer: LogWriter,
) -> Outcome:
    if isinstance(task, LogTask):
        for message in task.messages:
            writer.line(LogLine.Stream.SYSTEM, message, task.level)
        return Outcome(State.SUCCESS)
    if isinstance(task, ReturnTask):
        return Outcome(State.SUCCESS, outputs={"value": task.format})
    if isinstance(task, OutputValues):
        return Outcome(State.SUCCESS, outputs={"values": task.values})
    if isinstance(task, SleepTask):
        stop = StopWatch(task_run).wait(task.duration.total_seconds())
        return Outcome(State.KILLED if stop else State.SUCCESS)
    if isinstance(task, FailTask):
        if task.condition is None or is_truthy(task.condition):
            writer.system(task.error_message, "ERROR")
            return Outcome(State.FAILED, error=task.error_message)
        return Outcome(State.SUCCESS)
    if isinstance(task, PauseTask):
        wake_at = timezone.now() + task.pause_duration if task.pause_duration else None
        writer.system(
            f"Paused until {wake_at:%Y-%m-%d %H:%M:%S} UTC" if wake_at else "Paused until resumed"
        )
        return Outcome(State.PAUSED, wake_at=wake_at)
    if isinstance(task, SubflowTask):
        return _start_subflow(task, task_run, execution, writer)
    if isinstance(task, ScriptTask):
        return _run_script(task, task_run, writer, execution)
    raise TaskError(f"Flowsite cannot run tasks of type {task.type} yet")


def _start_subflow(
    task: SubflowTask, task_run: TaskRun, execution: Execution, writer: LogWriter
) -> Outcome:
    from flows.inputs import InputsInvalid
    from flows.models import Flow

    flow = Flow.objects.live().filter(namespace=task.namespace, flow_id=task.flow_id).first()
    if flow is None:
        raise TaskError(f"Subflow {task.namespace}.{task.flow_id} does not exist")
    labels = {**(execution.labels if task.inherit_labels else {}), **task.labels}
    try:
        child = execution_start(
            flow=flow, inputs=task.inputs, labels=labels, parent_task_run=task_run
        )
    except InputsInvalid as exc:
        detail = "; ".join(f"{k}: {v}" if k else v for k, v in exc.errors.items())
        raise TaskError(
            f"Subflow {task.namespace}.{task.flow_id} refused its inputs: {detail}"
        ) from exc
    writer.system(f"Started subflow {task.namespace}.{task.flow_id}: execution {child.pk}")
    outputs = {"executionId": child.pk}
    if not task.wait:
        return Outcome(State.SUCCESS, outputs=outputs)
    if child.is_terminal:  # it may end at once (concurrency limit, an empty branch)
        return Outcome(subflow_state(task, child), outputs=subflow_outputs(child))
    return Outcome(State.RUNNING, outputs=outputs)


def _run_script(
    task: ScriptTask, task_run: TaskRun, writer: LogWriter, execution: Execution
) -> Outcome:
    input_files = input_files_materialize(task.input_files or {}, namespace=execution.namespace)
    spec = RunSpec(
        execution_id=task_run.execution_id,
        task_run_id=task_run.pk,
        task_id=task_run.task_id,
        commands=[*task.before_commands, *task.command_lines()],
        files={**input_files, **task.files()},
        output_files=list(task.output_files or []),
        interpreter=list(task.interpreter),
        env=dict(task.env),
        image=task.image(getattr(settings, task.default_image_setting)),
        pull_policy=task.pull_policy,
        memory_bytes=task.memory_bytes,
        cpus=task.cpus,
        timeout=task.timeout_seconds,
    )
    runner = ProcessRunner() if task.uses_process_runner else DockerRunner()
    result = drive(
        runner,
        spec,
        writer,
        should_stop=StopWatch(task_run),
        keep_file=lambda name, content: storage_save(
            storage_uri(execution, task_run, name), content
        ),
    )
    outputs: dict[str, Any] = {"exitCode": result.exit_code}
    if result.outputs:
        outputs["vars"] = result.outputs
    if result.output_files:
        outputs["outputFiles"] = result.output_files
    if result.killed:
        writer.system("Killed", "WARN")
        return Outcome(State.KILLED, result.exit_code, outputs)
    if result.timed_out:
        return Outcome(State.FAILED, result.exit_code, outputs, "Timed out")
    if result.exit_code != 0:
        message = f"Command failed with exit code {result.exit_code}"
        writer.system(message, "ERROR")
        return Outcome(State.FAILED, result.exit_code, outputs, message)
    if result.stderr_lines and task.warning_on_std_err:
        return Outcome(State.WARNING, result.exit_code, outputs)
    return Outcome(State.SUCCESS, result.exit_code, outputs)
