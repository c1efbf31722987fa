"""Executions, task runs and log lines in Kestra's JSON shapes, as its clients read them.

kestrapy deserialises these into strict pydantic models: durations are ISO-8601
(``PT1.5S``), instants end in ``Z``, a state carries its history, labels are a list of
``{key, value}``, and a task run lists every attempt it made. Flowsite keeps the moments
of each step (created, started, ended, and each attempt's), so a state's history is
read from them rather than stored twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from django.db.models import prefetch_related_objects
from django.utils import timezone

from flowsite.values import format_instant, format_iso_duration

from .models import TERMINAL_STATES, Execution, State, TaskRun, TaskRunAttempt

KESTRA_LOG_LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR")


def _instant(moment: datetime | None) -> str | None:
    return format_instant(moment) if moment is not None else None


def state_json(current: str, history: list[tuple[str, datetime | None]]) -> dict[str, Any]:
    """Kestra's State: the current one, the moments each was entered, and the duration
    from the first to the end (or to now, while it goes on)."""
    histories: list[dict[str, str]] = []
    for state, moment in history:
        if moment is None or (histories and histories[-1]["state"] == state):
            continue
        histories.append({"state": state, "date": format_instant(moment)})
    if not histories or histories[-1]["state"] != current:
        last = next((m for _, m in reversed(history) if m is not None), None)
        histories.append({"state": current, "date": format_instant(last or timezone.now())})
    start = next(m for _, m in history if m is not None) if any(m for _, m in history) else None
    terminal = current in TERMINAL_STATES
    end = next((m for _, m in reversed(history) if m is not None), None) if terminal else None
    now = timezone.now()
    duration = format_iso_duration((end or now) - start) if start else "PT0S"
    return {
        "current": current,
        "histories": histories,
        "startDate": _instant(start),
        "endDate": _instant(end),
        "duration": duration,
        # Kestra's computed getters, which its OpenAPI document declares required: the
        # span the duration covers, up to now while the run goes on (endDate stays null).
        "getStartDate": _instant(start or now),
        "getEndDate": _instant(end or now),
        "getDuration": duration,
    }


def _attempt_json(attempt: TaskRunAttempt) -> dict[str, Any]:
    history = [(State.RUNNING, attempt.started_at), (attempt.state, attempt.ended_at)]
    return {
        "state": state_json(attempt.state, history),
        "workerId": attempt.worker or None,
        "exitCode": attempt.exit_code,
        "error": attempt.error or None,
    }


def task_run_json(run: TaskRun, execution: Execution) -> dict[str, Any]:
    # .all() so that a prefetch of the attempts serves every task run from one query.
    attempts = list(run.attempts.all())
    history: list[tuple[str, datetime | None]] = [(State.CREATED, run.created_at)]
    for attempt in attempts:
        history.append((State.RUNNING, attempt.started_at))
        if attempt.ended_at is not None and attempt.number < len(attempts):
            history.append(
                (
                    State.RETRYING if attempt.state == State.FAILED else attempt.state,
                    attempt.ended_at,
                )
            )
    if not attempts:
        history.append((State.RUNNING, run.started_at))
    history.append((run.state, run.ended_at))
    return {
        "id": run.pk,
        "executionId": execution.pk,
        "namespace": execution.namespace,
        "flowId": execution.flow_id,
        "taskId": run.task_id,
        "parentTaskRunId": run.parent_id,
        "value": run.value,
        "state": state_json(run.state, history),
        "attempts": [_attempt_json(attempt) for attempt in attempts],
        "exitCode": run.exit_code,
        "outputs": run.outputs,
        "error": run.error or None,
    }


def labels_json(labels: dict[str, Any]) -> list[dict[str, str]]:
    return [{"key": str(key), "value": str(value)} for key, value in labels.items()]


def execution_json(execution: Execution) -> dict[str, Any]:
    # Two queries for all the task runs and their attempts; none when the caller
    # prefetched them for a whole page of executions.
    prefetch_related_objects([execution], "task_runs__attempts")
    runs = execution.task_runs.all()
    history = [
        (State.CREATED, execution.created_at),
        (State.RUNNING, execution.started_at),
        (execution.state, execution.ended_at),
    ]
    trigger = execution.trigger if isinstance(execution.trigger, dict) else None
    parent = execution.parent_task_run
    return {
        "id": execution.pk,
        "namespace": execution.namespace,
        "flowId": execution.flow_id,
        "flowRevision": execution.flow_revision.revision,
        "labels": labels_json(execution.labels),
        "state": state_json(execution.state, history),
        "inputs": execution.inputs,
        "outputs": execution.outputs,
        "taskRunList": [task_run_json(run, execution) for run in runs],
        "parentId": parent.execution_id if parent is not None else None,
        "originalId": execution.original_id or execution.pk,
        "trigger": trigger if trigger and {"id", "type"} <= trigger.keys() else None,
        "deleted": False,
        "metadata": {
            "attemptNumber": 1,
            "originalCreatedDate": format_instant(execution.created_at),
        },
        "error": execution.error or None,
    }


class LogRow(Protocol):
    """A log line as the APIs read it: a LogLine, or a row of its columns."""

    @property
    def task_id(self) -> str: ...
    @property
    def task_run_id(self) -> str | None: ...
    @property
    def attempt(self) -> int: ...
    @property
    def timestamp(self) -> datetime: ...
    @property
    def level(self) -> str: ...
    @property
    def stream(self) -> str: ...
    @property
    def message(self) -> str: ...


def log_entry_json(line: LogRow, execution: Execution) -> dict[str, Any]:
    return {
        "namespace": execution.namespace,
        "flowId": execution.flow_id,
        "executionId": execution.pk,
        "taskId": line.task_id or None,
        "taskRunId": line.task_run_id,
        "attemptNumber": line.attempt - 1,  # Kestra counts attempts from 0
        "timestamp": format_instant(line.timestamp),
        "level": line.level if line.level in KESTRA_LOG_LEVELS else "INFO",
        "stream": line.stream,
        "message": line.message,
    }


def log_line_text(line: LogRow) -> str:
    """One line of a downloaded log, as Kestra writes them: moment, level, message."""
    return f"{format_instant(line.timestamp)} {line.level} {line.message}"
