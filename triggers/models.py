"""What the server remembers of each trigger: enabled or not, the next date of a schedule,
backfills under way, and every start a trigger made (so none is ever made twice)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from pydantic import TypeAdapter

from flows.language.triggers import BaseTrigger, ScheduleTrigger, Trigger

SCHEDULE = "io.kestra.plugin.core.trigger.Schedule"
WEBHOOK = "io.kestra.plugin.core.trigger.Webhook"
FLOW = "io.kestra.plugin.core.trigger.Flow"

_TRIGGER = TypeAdapter(Trigger)


class TriggerState(models.Model):
    """One trigger of one live flow, kept in step with the flow's YAML on every save."""

    namespace = models.CharField(max_length=150)
    flow_id = models.CharField(max_length=100)
    trigger_id = models.CharField(max_length=100)
    type = models.CharField(max_length=200)  # the canonical Kestra name
    definition = models.JSONField()  # the trigger as the YAML declares it
    # ``disabled: true`` on the trigger or on the flow; the YAML is the only way to change it.
    declared_disabled = models.BooleanField(default=False)
    disabled = models.BooleanField(default=False)  # the toggle on the flow page and the API
    signature = models.CharField(max_length=500, blank=True)  # a schedule's cron|seconds|zone
    next_date = models.DateTimeField(null=True, blank=True)  # next slot; None: not armed
    last_date = models.DateTimeField(null=True, blank=True)  # the last slot it fired
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["namespace", "flow_id", "trigger_id"], name="trigger_state_unique"
            ),
        ]
        indexes = [models.Index(fields=["type", "next_date"])]
        ordering = ["namespace", "flow_id", "trigger_id"]

    def __str__(self) -> str:
        return f"{self.namespace}.{self.flow_id}:{self.trigger_id}"

    @property
    def trigger(self) -> BaseTrigger:
        return _TRIGGER.validate_python(self.definition)

    @property
    def schedule(self) -> ScheduleTrigger:
        trigger = self.trigger
        assert isinstance(trigger, ScheduleTrigger)
        return trigger

    @property
    def is_enabled(self) -> bool:
        return not (self.disabled or self.declared_disabled)

    @property
    def is_schedule(self) -> bool:
        return self.type == SCHEDULE

    @property
    def short_type(self) -> str:
        return self.type.rsplit(".", 1)[-1]

    def set_disabled(self, disabled: bool) -> None:
        """The toggle. Re-enabling re-arms a schedule from the next tick: the slots missed
        while it was off are skipped, as in Kestra; a backfill runs them if wanted."""
        self.disabled = disabled
        self.next_date = None
        self.updated_at = timezone.now()
        self.save(update_fields=["disabled", "next_date", "updated_at"])

    def as_json(self) -> dict[str, Any]:
        """Kestra's shape of a trigger's state (GET /api/v1/triggers/...)."""
        running = self.backfills.filter(next_date__isnull=False).first()
        return {
            "namespace": self.namespace,
            "flowId": self.flow_id,
            "triggerId": self.trigger_id,
            "type": self.type,
            "disabled": not self.is_enabled,
            "date": _iso(self.last_date),
            "nextExecutionDate": _iso(self.next_date),
            "updatedDate": _iso(self.updated_at),
            "backfill": running.as_json() if running else None,
        }


class Backfill(models.Model):
    """Runs a schedule's slots between two dates, one execution each, a batch per tick."""

    trigger = models.ForeignKey(TriggerState, on_delete=models.CASCADE, related_name="backfills")
    start = models.DateTimeField()
    end = models.DateTimeField()
    labels = models.JSONField(default=dict, blank=True)
    next_date = models.DateTimeField(null=True, blank=True)  # next slot to run; None: done
    total = models.PositiveIntegerField()
    processed = models.PositiveIntegerField(default=0)  # slots run so far
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"backfill {self.pk} of {self.trigger}"

    @property
    def is_done(self) -> bool:
        return self.next_date is None

    def as_json(self) -> dict[str, Any]:
        return {
            "start": _iso(self.start),
            "end": _iso(self.end),
            "currentDate": _iso(self.next_date),
            "labels": [{"key": k, "value": v} for k, v in self.labels.items()],
            "total": self.total,
            "processed": self.processed,
        }


class TriggerFiring(models.Model):
    """One start a trigger made: a schedule's slot, a backfill's slot, or an upstream
    execution for a Flow trigger. The unique key is what keeps two clocks (or a signal
    delivered twice) from starting the same thing twice."""

    namespace = models.CharField(max_length=150)
    flow_id = models.CharField(max_length=100)
    trigger_id = models.CharField(max_length=100)
    key = models.CharField(max_length=100)  # slot date, backfill:<id>:<date>, execution:<id>
    date = models.DateTimeField(null=True, blank=True)
    execution_id = models.CharField(max_length=22, blank=True)
    error = models.TextField(blank=True)  # why no execution could be started
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["namespace", "flow_id", "trigger_id", "key"], name="trigger_fires_once"
            ),
        ]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.namespace}.{self.flow_id}:{self.trigger_id} {self.key}"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


class ConditionWindow(models.Model):
    """What a Flow trigger's MultipleCondition (or its preconditions) gathered in one time
    window: which of its conditions some execution met, and when. The window is met once
    every condition is; Kestra keeps the same, per trigger and condition id."""

    namespace = models.CharField(max_length=150)
    flow_id = models.CharField(max_length=100)
    trigger_id = models.CharField(max_length=100)
    condition_id = models.CharField(max_length=100)
    start = models.DateTimeField()
    end = models.DateTimeField()
    results = models.JSONField(default=dict)  # condition key -> ISO date it was last met

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["namespace", "flow_id", "trigger_id", "condition_id", "start"],
                name="condition_window_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.namespace}.{self.flow_id}:{self.trigger_id}/{self.condition_id}"


class SlaMonitor(models.Model):
    """A MAX_DURATION SLA of a running execution: the clock checks it at its deadline."""

    execution_id = models.CharField(max_length=22)
    sla_id = models.CharField(max_length=100)
    deadline = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["execution_id", "sla_id"], name="sla_monitor_once"),
        ]

    def __str__(self) -> str:
        return f"SLA {self.sla_id} of {self.execution_id} at {self.deadline}"
