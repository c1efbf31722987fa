"""django-q2 jobs. Each takes an id, claims its work with a conditional update and does
nothing when someone else already has it: django-q2 delivers at least once."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from flows.language.tasks import BaseTask, LogTask, ScriptTask

from .engine import (
    execution_advance,
    execution_mark_running,
    revision_definition,
    task_runs_sweep,
)
from .live import LogWriter, execution_wake
from .models import Execution, LogLine, State, TaskRun
from .runners.base import RunSpec, TaskError, drive
from .runners.docker import DockerRunner, containers_reap_orphans
from .runners.process import ProcessRunner

logger = logging.getLogger(__name__)


def sweep_stalled_task_runs() -> int:
    """Scheduled every minute (see the executions migrations): re-enqueue task runs
    nobody claimed, and remove containers left behind by task runs that ended."""
    containers_reap_orphans(
        is_running=lambda pk: TaskRun.objects.filter(pk=pk, state=State.RUNNING).exists()
    )
    return task_runs_sweep()


def run_task_run(task_run_id: str) -> None:
    """Run a task run, then keep going with the next one while this worker may."""
    next_id: str | None = task_run_id
    while next_id is not None:
        next_id = task_run_execute(task_run_id=next_id)


@dataclass
class Outcome:
    state: State
    exit_code: int | None = None
    outputs: dict[str, Any] = field(default_factory=dict)
    error: str = ""


def task_run_execute(*, task_run_id: str) -> str | None:
    """Claim and run one task run; return the id of the task run that follows, if any."""
    task_run = TaskRun.objects.filter(pk=task_run_id).first()
    if task_run is None or not task_run.claim():
        return None
    execution_id = task_run.execution_id
    execution_mark_running(execution_id=execution_id)
    execution_wake(execution_id)
    execution = Execution.objects.only("state", "flow_revision_id").get(pk=execution_id)
    writer = LogWriter(task_run)
    if execution.state in (State.KILLING, State.KILLED):
        outcome = Outcome(State.KILLED)
    else:
        task = revision_definition(execution.flow_revision_id).task(task_run.task_id)
        try:
            outcome = _perform(task, task_run, writer)
        except TaskError as exc:
            writer.system(str(exc), "ERROR")
            outcome = Outcome(State.FAILED, error=str(exc))
        except Exception as exc:  # recorded on the task run rather than lost in a worker log
            logger.exception("Task run %s crashed", task_run_id)
            writer.system(f"Flowsite failed to run this task: {exc!r}", "ERROR")
            outcome = Outcome(State.FAILED, error=repr(exc))
    writer.flush()
    task_run.finish(
        outcome.state, exit_code=outcome.exit_code, outputs=outcome.outputs, error=outcome.error
    )
    return execution_advance(execution_id=execution_id)


def _perform(task: BaseTask, task_run: TaskRun, writer: LogWriter) -> Outcome:
    if isinstance(task, LogTask):
        for message in task.messages:
            writer.line(LogLine.Stream.SYSTEM, message, task.level)
        return Outcome(State.SUCCESS)
    if isinstance(task, ScriptTask):
        return _run_script(task, task_run, writer)
    raise TaskError(f"Flowsite cannot run tasks of type {task.type} yet")


def _run_script(task: ScriptTask, task_run: TaskRun, writer: LogWriter) -> Outcome:
    spec = RunSpec(
        execution_id=task_run.execution_id,
        task_run_id=task_run.pk,
        task_id=task_run.task_id,
        commands=[*task.before_commands, *task.command_lines()],
        files=task.files(),
        interpreter=list(task.interpreter),
        env=dict(task.env),
        image=task.image(getattr(settings, task.default_image_setting)),
        pull_policy=task.pull_policy,
        memory_bytes=task.memory_bytes,
        cpus=task.cpus,
        timeout=task.timeout_seconds,
    )
    runner = ProcessRunner() if task.uses_process_runner else DockerRunner()

    def stop_requested() -> bool:
        return Execution.objects.filter(
            pk=task_run.execution_id, state__in=(State.KILLING, State.KILLED)
        ).exists()

    result = drive(runner, spec, writer, should_stop=stop_requested)
    if result.killed:
        writer.system("Killed", "WARN")
        return Outcome(State.KILLED, result.exit_code, result.outputs)
    if result.timed_out:
        return Outcome(State.FAILED, result.exit_code, result.outputs, "Timed out")
    if result.exit_code != 0:
        message = f"Command failed with exit code {result.exit_code}"
        writer.system(message, "ERROR")
        return Outcome(State.FAILED, result.exit_code, result.outputs, message)
    if result.stderr_lines and task.warning_on_std_err:
        return Outcome(State.WARNING, result.exit_code, result.outputs)
    return Outcome(State.SUCCESS, result.exit_code, result.outputs)
