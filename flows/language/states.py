"""Kestra's states, for executions and task runs alike: part of the flow language, since
Flow triggers and task outcomes name them."""

from __future__ import annotations

from django.db import models


class State(models.TextChoices):
    CREATED = "CREATED"
    QUEUED = "QUEUED"  # waiting for the flow's concurrency limit
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"  # a Pause task waits to be resumed
    RETRYING = "RETRYING"  # a failed attempt waits for its next one
    RESTARTED = "RESTARTED"
    KILLING = "KILLING"
    SUCCESS = "SUCCESS"
    WARNING = "WARNING"
    FAILED = "FAILED"
    KILLED = "KILLED"
    CANCELLED = "CANCELLED"
    SKIPPED = "SKIPPED"


TERMINAL_STATES = frozenset(
    {State.SUCCESS, State.WARNING, State.FAILED, State.KILLED, State.CANCELLED, State.SKIPPED}
)

ACTIVE_EXECUTION_STATES = (
    State.CREATED,
    State.RUNNING,
    State.PAUSED,
    State.RETRYING,
    State.RESTARTED,
    State.KILLING,
)
