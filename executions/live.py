"""Log lines into the database, and wake-ups to the browsers following an execution.

The database is the record: every line is a row. The channel layer only tells open
execution pages to look; losing a wake-up loses nothing.
"""

from __future__ import annotations

import logging
import threading
import time

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.utils import timezone

from .models import LogLine, TaskRun

FLUSH_INTERVAL = 0.05  # seconds between two writes of a busy stream's lines
FLUSH_LINES = 500
MAX_LINE = 64 * 1024

logger = logging.getLogger(__name__)


def execution_group(execution_id: str) -> str:
    return f"execution.{execution_id}"


def execution_wake(execution_id: str) -> None:
    """Tell pages following this execution that something changed. Best effort."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(
            execution_group(execution_id), {"type": "execution.changed"}
        )
    except Exception:  # a lost wake-up only delays a page until its next look
        logger.warning("Could not wake pages following execution %s", execution_id, exc_info=True)


class LogWriter:
    """Collects a task run's lines and writes them in small batches."""

    def __init__(self, task_run: TaskRun):
        self.task_run = task_run
        self._pending: list[LogLine] = []
        self._last_flush = 0.0
        self._lock = threading.Lock()

    def line(self, stream: str, text: str, level: str | None = None) -> None:
        if len(text) > MAX_LINE:
            text = text[:MAX_LINE] + " [line truncated]"
        level = level or ("WARN" if stream == LogLine.Stream.STDERR else "INFO")
        with self._lock:
            self._pending.append(
                LogLine(
                    execution_id=self.task_run.execution_id,
                    task_run_id=self.task_run.pk,
                    task_id=self.task_run.task_id,
                    stream=stream,
                    level=level,
                    timestamp=timezone.now(),
                    message=text,
                )
            )
            full = len(self._pending) >= FLUSH_LINES
        if full:
            self.flush()

    def system(self, text: str, level: str = "INFO") -> None:
        self.line(LogLine.Stream.SYSTEM, text, level)

    def flush_if_due(self) -> None:
        if self._pending and time.monotonic() - self._last_flush >= FLUSH_INTERVAL:
            self.flush()

    def flush(self) -> None:
        with self._lock:
            batch, self._pending = self._pending, []
        self._last_flush = time.monotonic()
        if batch:
            LogLine.objects.bulk_create(batch)
            execution_wake(self.task_run.execution_id)
