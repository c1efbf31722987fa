from __future__ import annotations

import secrets
import string
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone

from flows.models import FlowRevision

_ALPHABET = string.ascii_letters + string.digits


def new_id() -> str:
    """A 22-character random id, the shape Kestra uses for executions and task runs."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(22))


class State(models.TextChoices):
    CREATED = "CREATED"
    RUNNING = "RUNNING"
    SUCCESS = "SUCCESS"
    WARNING = "WARNING"
    FAILED = "FAILED"
    KILLING = "KILLING"
    KILLED = "KILLED"


TERMINAL_STATES = frozenset({State.SUCCESS, State.WARNING, State.FAILED, State.KILLED})


class Execution(models.Model):
    id = models.CharField(primary_key=True, max_length=22, default=new_id, editable=False)
    flow_revision = models.ForeignKey(FlowRevision, on_delete=models.PROTECT)
    namespace = models.CharField(max_length=150, db_index=True)
    flow_id = models.CharField(max_length=100)
    state = models.CharField(max_length=10, choices=State.choices, default=State.CREATED)
    labels = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["namespace", "flow_id", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.namespace}.{self.flow_id} {self.id}"

    def get_absolute_url(self) -> str:
        return reverse("execution", args=[self.id])

    @property
    def is_terminal(self) -> bool:
        return self.state in TERMINAL_STATES

    @property
    def duration(self) -> timedelta | None:
        if self.started_at is None:
            return None
        return (self.ended_at or timezone.now()) - self.started_at

    def kill(self) -> bool:
        """Ask for this execution to stop. Returns False when it had already ended.

        Task runs not yet claimed are killed here; a running one is stopped by the worker
        running it, which watches for KILLING.
        """
        from .live import execution_wake  # live imports these models

        with transaction.atomic():
            execution = Execution.objects.select_for_update().get(pk=self.pk)
            if execution.is_terminal:
                return False
            now = timezone.now()
            self.task_runs.filter(state=State.CREATED).update(state=State.KILLED, ended_at=now)
            if self.task_runs.filter(state=State.RUNNING).exists():
                execution.state = State.KILLING
                execution.save(update_fields=["state"])
            else:
                execution.state = State.KILLED
                execution.ended_at = now
                execution.save(update_fields=["state", "ended_at"])
            self.state = execution.state
            transaction.on_commit(lambda: execution_wake(self.pk))
        return True


class TaskRun(models.Model):
    id = models.CharField(primary_key=True, max_length=22, default=new_id, editable=False)
    execution = models.ForeignKey(Execution, on_delete=models.CASCADE, related_name="task_runs")
    task_id = models.CharField(max_length=100)
    position = models.PositiveIntegerField()
    task_type = models.CharField(max_length=200)
    state = models.CharField(max_length=10, choices=State.choices, default=State.CREATED)
    attempt = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    exit_code = models.IntegerField(null=True, blank=True)
    outputs = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["position", "created_at"]
        constraints = [
            models.UniqueConstraint(fields=["execution", "position"], name="taskrun_one_per_step"),
        ]

    def __str__(self) -> str:
        return f"{self.task_id} ({self.state})"

    @property
    def duration(self) -> timedelta | None:
        if self.started_at is None:
            return None
        return (self.ended_at or timezone.now()) - self.started_at

    def claim(self) -> bool:
        """Take this task run for the calling worker. At-least-once delivery means two
        workers may try; the conditional update lets exactly one win."""
        now = timezone.now()
        won = TaskRun.objects.filter(pk=self.pk, state=State.CREATED).update(
            state=State.RUNNING, started_at=now, attempt=models.F("attempt") + 1
        )
        if won:  # what the update wrote, without reading it back
            self.state, self.started_at, self.attempt = State.RUNNING, now, self.attempt + 1
        return bool(won)

    def finish(
        self,
        state: State,
        *,
        exit_code: int | None = None,
        outputs: dict[str, Any] | None = None,
        error: str = "",
    ) -> None:
        self.state = state
        self.exit_code = exit_code
        self.outputs = outputs or {}
        self.error = error
        self.ended_at = timezone.now()
        TaskRun.objects.filter(pk=self.pk, state=State.RUNNING).update(
            state=state,
            exit_code=exit_code,
            outputs=self.outputs,
            error=error,
            ended_at=self.ended_at,
        )


class LogLine(models.Model):
    class Stream(models.TextChoices):
        STDOUT = "stdout"
        STDERR = "stderr"
        SYSTEM = "system"

    id = models.BigAutoField(primary_key=True)
    execution = models.ForeignKey(Execution, on_delete=models.CASCADE, related_name="log_lines")
    task_run = models.ForeignKey(TaskRun, null=True, on_delete=models.CASCADE)
    task_id = models.CharField(max_length=100, blank=True)
    stream = models.CharField(max_length=6, choices=Stream.choices)
    level = models.CharField(max_length=5, default="INFO")
    timestamp = models.DateTimeField()
    message = models.TextField()

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["execution", "id"])]

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "taskRunId": self.task_run_id,
            "taskId": self.task_id,
            "stream": self.stream,
            "level": self.level,
            "timestamp": self.timestamp.isoformat(),
            "message": self.message,
        }
