from __future__ import annotations

import secrets
import string
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

# Re-exported: the rows' states are read with them everywhere.
from flows.language.states import TERMINAL_STATES as TERMINAL_STATES
from flows.language.states import State as State
from flows.models import FlowRevision

_ALPHABET = string.ascii_letters + string.digits


def new_id() -> str:
    """A 22-character random id, the shape Kestra uses for executions and task runs."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(22))


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
    # The typed input values; FILE inputs hold the kestra:/// URI of the stored file.
    inputs = models.JSONField(default=dict, blank=True)
    # What started it besides a user: {"id", "type", "variables"} (schedule, webhook, flow).
    trigger = models.JSONField(null=True, blank=True)
    # The flow's declared outputs, rendered when the execution ends.
    outputs = models.JSONField(default=dict, blank=True)
    # A Subflow task's child execution points at the task run waiting for it.
    parent_task_run = models.ForeignKey(
        "TaskRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="subflows"
    )
    # A replay is a new execution; it keeps the id of the one it was replayed from.
    original_id = models.CharField(max_length=22, blank=True)
    error = models.TextField(blank=True)  # why it failed, when no task says

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["namespace", "flow_id", "-created_at"]),
            # The dashboard's failures and running-now lists, newest first.
            models.Index(fields=["state", "-created_at"], name="execution_state_created"),
        ]

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


class TaskRun(models.Model):
    """One task of the flow's tree, run once per parent and loop value.

    ``path`` names the place in the tree (``loop[a]/inner``) and is unique per
    execution, so two workers deciding at once can never create the same run twice.
    Flowable tasks (Parallel, If, ForEach...) have task runs too, with no attempts:
    their state follows their children's.
    """

    id = models.CharField(primary_key=True, max_length=22, default=new_id, editable=False)
    execution = models.ForeignKey(Execution, on_delete=models.CASCADE, related_name="task_runs")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    task_id = models.CharField(max_length=100)
    path = models.CharField(max_length=1000)
    # ForEach: the loop value this run belongs to, as text ({{ taskrun.value }}).
    value = models.TextField(null=True, blank=True)
    position = models.PositiveIntegerField()  # order among its siblings
    task_type = models.CharField(max_length=200)
    state = models.CharField(max_length=10, choices=State.choices, default=State.CREATED)
    attempt = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    exit_code = models.IntegerField(null=True, blank=True)
    outputs = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    # RETRYING (next attempt) or PAUSED (automatic resume): when the clock acts.
    wake_at = models.DateTimeField(null=True, blank=True, db_index=True)
    worker = models.CharField(max_length=200, blank=True)  # host:pid of the last attempt
    # A worker running this task run touches it every few seconds; a run whose worker
    # stopped touching it (the process or its host died) is found by the clock
    # (executions/liveness.py) and retried or failed.
    heartbeat_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["created_at", "position"]
        constraints = [
            models.UniqueConstraint(fields=["execution", "path"], name="taskrun_one_per_path"),
        ]
        indexes = [
            # The clock reads the running rows every few seconds: only those, however
            # many task runs the history holds.
            models.Index(
                fields=["heartbeat_at"],
                condition=models.Q(state="RUNNING"),
                name="taskrun_running",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task_id} ({self.state})"

    @property
    def duration(self) -> timedelta | None:
        if self.started_at is None:
            return None
        return (self.ended_at or timezone.now()) - self.started_at

    def claim(self, worker: str = "") -> bool:
        """Take this task run for the calling worker. At-least-once delivery means two
        workers may try; the conditional update lets exactly one win."""
        now = timezone.now()
        won = TaskRun.objects.filter(pk=self.pk, state=State.CREATED).update(
            state=State.RUNNING,
            started_at=now,
            heartbeat_at=now,
            attempt=models.F("attempt") + 1,
            worker=worker,
        )
        if won:  # what the update wrote, without reading it back
            self.state, self.started_at, self.attempt = State.RUNNING, now, self.attempt + 1
            self.worker = worker
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


class TaskRunAttempt(models.Model):
    """One try of a task run: retries add attempts, restarts too. Logs name theirs."""

    task_run = models.ForeignKey(TaskRun, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveIntegerField()  # from 1
    state = models.CharField(max_length=10, choices=State.choices, default=State.RUNNING)
    started_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    exit_code = models.IntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    worker = models.CharField(max_length=200, blank=True)
    log_file = models.CharField(max_length=1000, blank=True)  # logToFile: its lines' file

    class Meta:
        ordering = ["task_run", "number"]
        constraints = [
            models.UniqueConstraint(fields=["task_run", "number"], name="attempt_once"),
        ]

    @property
    def duration(self) -> timedelta | None:
        return (self.ended_at or timezone.now()) - self.started_at


class LogLine(models.Model):
    class Stream(models.TextChoices):
        STDOUT = "stdout"
        STDERR = "stderr"
        SYSTEM = "system"

    id = models.BigAutoField(primary_key=True)
    # A task's million lines are inserted at speed (executions/log_rows.py), and each
    # index and foreign-key check costs every line: PostgreSQL's check of the two keys
    # took half of COPY's time. So no constraint in the database (the writer holds the
    # task run it writes for, and deleting an execution deletes its lines through the ORM,
    # as before), and only the indexes the reads use: by execution, and by task run, in
    # the lines' order.
    execution = models.ForeignKey(
        Execution,
        on_delete=models.CASCADE,
        related_name="log_lines",
        db_index=False,
        db_constraint=False,
    )
    task_run = models.ForeignKey(
        TaskRun, null=True, on_delete=models.CASCADE, db_index=False, db_constraint=False
    )
    task_id = models.CharField(max_length=100, blank=True)
    attempt = models.PositiveIntegerField(default=1)
    stream = models.CharField(max_length=6, choices=Stream.choices)
    level = models.CharField(max_length=5, default="INFO")
    timestamp = models.DateTimeField()
    message = models.TextField()

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["execution", "id"]),
            models.Index(fields=["task_run", "id"]),
        ]

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "taskRunId": self.task_run_id,
            "taskId": self.task_id,
            "attempt": self.attempt,
            "stream": self.stream,
            "level": self.level,
            "timestamp": self.timestamp.isoformat(),
            "message": self.message,
        }


class TaskRunMetric(models.Model):
    """A metric a task reported (Kestra's MetricEntry), one per attempt, type, name and
    tags: counters and timers summed, a gauge at its last value. Timers in milliseconds."""

    id = models.BigAutoField(primary_key=True)
    execution = models.ForeignKey(Execution, on_delete=models.CASCADE, related_name="metrics")
    task_run = models.ForeignKey(TaskRun, on_delete=models.CASCADE, related_name="metrics")
    task_id = models.CharField(max_length=100)
    attempt = models.PositiveIntegerField(default=1)
    type = models.CharField(max_length=7)  # counter, timer or gauge
    name = models.CharField(max_length=200)
    value = models.FloatField()
    tags = models.JSONField(default=dict, blank=True)
    timestamp = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["execution", "id"])]

    def __str__(self) -> str:
        return f"{self.name} {self.type} {self.shown}"

    @property
    def shown(self) -> str:
        """The value as a person reads it: a timer as a duration, a count as a number."""
        if self.type != "timer":
            return f"{self.value:g}"
        if self.value < 1000:
            return f"{self.value:g} ms"
        seconds = self.value / 1000
        if seconds < 60:
            return f"{seconds:.3g} s"
        minutes, rest = divmod(round(seconds), 60)
        return (
            f"{minutes} min {rest} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60} min"
        )

    def as_kestra(self, execution: Execution) -> dict[str, Any]:
        """Kestra's MetricEntry JSON."""
        return {
            "namespace": execution.namespace,
            "flowId": execution.flow_id,
            "taskId": self.task_id,
            "executionId": execution.pk,
            "taskRunId": self.task_run_id,
            "type": self.type,
            "name": self.name,
            "value": self.value,
            "timestamp": self.timestamp.isoformat(),
            "tags": self.tags,
        }


class StoredState(models.Model):
    """Kestra's deprecated state store (state.Set, Get, Delete): a JSON document per
    namespace, flow (blank when shared by the namespace), name and loop value."""

    namespace = models.CharField(max_length=150)
    flow_id = models.CharField(max_length=100, blank=True)
    name = models.CharField(max_length=255)
    # A digest of the loop value ({{ taskrun.value }}), blank outside a loop: values may
    # be long.
    value_key = models.CharField(max_length=64, blank=True)
    data = models.JSONField(default=dict)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["namespace", "flow_id", "name", "value_key"], name="stored_state_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.namespace}.{self.flow_id}:{self.name}"
