"""Log lines into the database, and wake-ups to the browsers following an execution.

The database is the record: every line is a row. The channel layer only tells open
execution pages to look; losing a wake-up loses nothing.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections.abc import Iterable
from concurrent.futures import Future
from functools import cache
from typing import Any

from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.utils import timezone

from namespaces.masking import SecretMasker

from .models import LogLine, TaskRun

FLUSH_INTERVAL = 0.05  # seconds between two writes of a busy stream's lines
FLUSH_LINES = 500
MAX_LINE = 64 * 1024

logger = logging.getLogger(__name__)


PERMISSIONS_GROUP = "permissions"


def execution_group(execution_id: str) -> str:
    return f"execution.{execution_id}"


def permissions_changed() -> None:
    """Open websockets re-check their user's access: a binding or a team changed."""
    _send(PERMISSIONS_GROUP, {"type": "permissions.changed"})


def execution_wake(execution_id: str) -> None:
    """Tell pages following this execution that something changed. Best effort: it
    does not wait for the send, and a page that misses it sees the change on its poll."""
    _send(execution_group(execution_id), {"type": "execution.changed"})


def _send(group: str, message: dict[str, str]) -> None:
    layer = get_channel_layer()
    if layer is None or isinstance(layer, InMemoryChannelLayer):
        # Without Redis no other process can be reached, and the pages poll the database.
        return
    future = asyncio.run_coroutine_threadsafe(layer.group_send(group, message), _wake_loop())
    future.add_done_callback(_log_failure)


@cache
def _loop_for(pid: int) -> asyncio.AbstractEventLoop:
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, name="flowsite-wake", daemon=True).start()
    return loop


def _wake_loop() -> asyncio.AbstractEventLoop:
    # One loop a process, kept: a fresh loop and Redis connection per wake-up cost
    # milliseconds on every task. Keyed by pid because django-q2 forks its workers.
    return _loop_for(os.getpid())


def _log_failure(future: Future[None]) -> None:
    if not future.cancelled() and future.exception() is not None:
        logger.warning("Could not wake pages: %s", future.exception())


class LogWriter:
    """Collects a task run's lines and writes them in small batches, every secret value
    it was given hidden as ``******`` before a line is stored (and so before it is seen)."""

    def __init__(self, task_run: TaskRun, secrets: Iterable[str] = ()):
        self.task_run = task_run
        self._pending: list[LogLine] = []
        # A task's first lines wait a flush interval too: a short task's lines are then
        # stored with its end, in the same transaction.
        self._last_flush = time.monotonic()
        self._lock = threading.Lock()
        self._masker = SecretMasker(secrets)

    def add_secrets(self, values: Iterable[str]) -> None:
        """Hide these values too from now on: ``secret('X')`` is rendered after the
        writer exists, and before the task can print what it rendered."""
        self._masker.add(values)

    def mask(self, value: Any) -> Any:
        """``value`` (text, or JSON-like data such as outputs) with the secrets hidden."""
        if not self._masker:
            return value
        if isinstance(value, str):
            return self._masker.mask(value)
        if isinstance(value, dict):
            return {key: self.mask(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.mask(item) for item in value]
        return value

    def line(self, stream: str, text: str, level: str | None = None) -> None:
        if self._masker:  # before truncating, which could cut a value in two
            text = self._masker.mask(text)
        if len(text) > MAX_LINE:
            text = text[:MAX_LINE] + " [line truncated]"
        level = level or ("WARN" if stream == LogLine.Stream.STDERR else "INFO")
        with self._lock:
            self._pending.append(
                LogLine(
                    execution_id=self.task_run.execution_id,
                    task_run_id=self.task_run.pk,
                    task_id=self.task_run.task_id,
                    attempt=self.task_run.attempt or 1,
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
