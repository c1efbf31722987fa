"""The worker's job: run a task run, then what it made ready. It takes an id, claims its
work with a conditional update and does nothing when someone else already has it:
django-q2 delivers at least once.

A one-task run costs the worker two transactions: one claims the run and prepares its
first attempt (reads included), one stores its last log lines, ends it and plans what
follows. What a task does is its model's ``run`` (see flows/language/tasks).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from flows.language import FlowDefinition
from flows.language.tasks import BaseTask, Outcome
from flowsite.rows import row_or_none

from .live import execution_wake
from .liveness import heartbeat, worker_name
from .models import Execution, State, TaskRun, TaskRunAttempt
from .planner import execution_advance
from .queue import enqueue_task_run
from .running import StopWatch, WorkerRuntime, attempt_perform, attempt_prepare
from .signals import execution_changed
from .task_logs import TaskLogWriter, task_log_writer
from .upkeep import retry_allowed, task_run_fail

logger = logging.getLogger(__name__)

# A retry due sooner than this waits on the worker; a later one waits for the clock.
INLINE_RETRY_WAIT = timedelta(seconds=5)


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
            run = TaskRun.objects.get(pk=here)
            message = f"Flowsite failed to run this task: {exc!r}"
            ready = task_run_fail(run, message, unless_changed={}, inline=True) or []


class _Attempt:
    """One attempt in progress: its row, its log writer, and the task as it runs."""

    def __init__(self, task_run: TaskRun, execution: Execution, definition: FlowDefinition):
        task = definition.task_as_run(task_run.task_id)
        self.row = TaskRunAttempt.objects.create(
            task_run=task_run, number=task_run.attempt, worker=worker_name()
        )
        self.writer = task_log_writer(task_run, task)
        self.closed = False
        self.prepared = attempt_prepare(task, task_run, execution, definition, self.writer)

    def perform(self, task_run: TaskRun, execution: Execution) -> Outcome:
        if isinstance(self.prepared, Outcome):
            return self.prepared
        return attempt_perform(self.prepared, WorkerRuntime(task_run, execution, self.writer))

    def close(self, outcome: Outcome) -> None:
        """Store its last lines and how it ended; call inside a transaction."""
        self.writer.flush()
        if self.closed:  # killed while waiting for a retry: it ended as it failed
            return
        self.closed = True
        row = self.row
        if isinstance(self.writer, TaskLogWriter):
            row.log_file = self.writer.log_file_save()
            TaskRunAttempt.objects.filter(pk=row.pk).update(log_file=row.log_file)
        if outcome.state == State.RUNNING:
            # A Subflow: the attempt stays open as long as its child runs, and the child's
            # end closes it, maybe already: saving it here would open it again for good.
            return
        row.state, row.ended_at = outcome.state, timezone.now()
        row.exit_code, row.error = outcome.exit_code, outcome.error
        row.save(update_fields=["state", "ended_at", "exit_code", "error"])


def task_run_execute(*, task_run_id: str) -> list[str]:
    """Claim and run one task run, with its retries; return the task runs it made ready."""
    with transaction.atomic():
        task_run = row_or_none(
            TaskRun.objects.select_related("execution__flow_revision"), pk=task_run_id
        )
        if task_run is None:
            return []
        execution = task_run.execution
        # The execution's row before the task run's, in the order a kill and the planner
        # take them: the other way round, a kill arriving during the claim deadlocked
        # with it on PostgreSQL.
        first = Execution.objects.filter(pk=execution.pk, state=State.CREATED).update(
            state=State.RUNNING, started_at=timezone.now()
        )
        if not task_run.claim(worker_name()):
            transaction.set_rollback(first > 0)  # the execution is not ours to start
            return []
        if first:
            execution.state = State.RUNNING
            execution_changed.send(sender=Execution, execution=execution)
        definition = execution.flow_revision.definition
        attempt = _Attempt(task_run, execution, definition)
    execution_wake(execution.pk)
    task = definition.task_as_run(task_run.task_id)
    with heartbeat.hold(task_run.pk):
        tried = _attempts(task, task_run, execution, definition, attempt)
    if tried is None:  # its next attempt waits for the clock
        return []
    outcome, attempt = tried
    warns_on_retry = task.retry is not None and task.retry.warning_on_retry
    if outcome.state == State.SUCCESS and task_run.attempt > 1 and warns_on_retry:
        outcome.state = State.WARNING
    with transaction.atomic():
        attempt.close(outcome)
        if outcome.state == State.RUNNING:  # a Subflow waits for its child execution to end
            TaskRun.objects.filter(pk=task_run.pk, state=State.RUNNING).update(
                outputs=outcome.outputs
            )
            return []
        task_run.finish(
            outcome.state, exit_code=outcome.exit_code, outputs=outcome.outputs, error=outcome.error
        )
        if outcome.state == State.PAUSED:
            TaskRun.objects.filter(pk=task_run.pk).update(wake_at=outcome.wake_at, ended_at=None)
        return execution_advance(execution_id=execution.pk, inline=True, definition=definition)


def _attempts(
    task: BaseTask,
    task_run: TaskRun,
    execution: Execution,
    definition: FlowDefinition,
    attempt: _Attempt,
) -> tuple[Outcome, _Attempt] | None:
    """Attempt after attempt while the task's retry allows; None when the next attempt
    is far enough away to leave it to the clock (RETRYING)."""
    while True:
        outcome = attempt.perform(task_run, execution)
        if outcome.state != State.FAILED or task.retry is None or not retry_allowed(task, task_run):
            return outcome, attempt
        if task.retry.behavior == "CREATE_NEW_EXECUTION":  # a new execution retries it
            return outcome, attempt
        with transaction.atomic():
            attempt.close(outcome)
        delay = task.retry.delay_before(task_run.attempt)
        if delay > INLINE_RETRY_WAIT:
            TaskRun.objects.filter(pk=task_run.pk, state=State.RUNNING).update(
                state=State.RETRYING, wake_at=timezone.now() + delay
            )
            execution_wake(execution.pk)
            return None
        if StopWatch(task_run).wait(delay.total_seconds()):
            return Outcome(State.KILLED), attempt
        with transaction.atomic():
            TaskRun.objects.filter(pk=task_run.pk).update(attempt=task_run.attempt + 1)
            task_run.attempt += 1
            execution.state = Execution.objects.values_list("state", flat=True).get(pk=execution.pk)
            attempt = _Attempt(task_run, execution, definition)
        execution_wake(execution.pk)
