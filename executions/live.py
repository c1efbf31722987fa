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
from dataclasses import dataclass
from functools import cache
from typing import Any

from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.utils import timezone

from namespaces.masking import SecretMasker

from .models import LogLine, TaskRun

FLUSH_INTERVAL = 0.05  # seconds between two writes of a busy stream's lines
FLUSH_LINES = 500
# How long the last line of a stream may wait for the next one, when its end could be the
# first part of a secret split over the two: the next line of a script usually comes in
# the same read, and a longer wait would leave the page behind a quiet task's last line.
SPLIT_WAIT = 1.0
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


@dataclass
class _Last:
    """The last line of one stream: its text before masking, kept so that a secret split
    between it and the next line can still be hidden in it while it waits to be stored."""

    raw: str
    row: LogLine
    added: float
    stored: bool = False
    may_continue: bool | None = None  # computed once, when a flush asks


class LogWriter:
    """Collects a task run's lines and writes them in small batches, every secret value
    it was given hidden as ``******`` before a line is stored (and so before it is seen).

    A secret split over two consecutive lines of one stream (the end of one, the start of
    the next) is hidden on both. For that the last line of each stream is remembered, and
    a periodic flush keeps it back, at most ``SPLIT_WAIT`` seconds, when its end could be
    the start of a secret; the lines after it wait with it, so the order is kept.
    """

    def __init__(self, task_run: TaskRun, secrets: Iterable[str] = ()):
        self.task_run = task_run
        self._pending: list[LogLine] = []
        self._last: dict[str, _Last] = {}
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
        level = level or ("WARN" if stream == LogLine.Stream.STDERR else "INFO")
        row = LogLine(
            execution_id=self.task_run.execution_id,
            task_run_id=self.task_run.pk,
            task_id=self.task_run.task_id,
            attempt=self.task_run.attempt or 1,
            stream=stream,
            level=level,
            timestamp=timezone.now(),
        )
        with self._lock:
            row.message = _truncated(self._masked(stream, text))
            self._last[stream] = _Last(raw=text, row=row, added=time.monotonic())
            self._pending.append(row)
            full = len(self._pending) >= FLUSH_LINES
        if full:
            self._write(wait_for_split=True)

    def _masked(self, stream: str, text: str) -> str:
        """``text`` masked (before truncating, which could cut a value in two), and the
        previous line of the stream masked again when the two share a split secret."""
        if not self._masker:
            return text
        last = self._last.get(stream)
        if last is None:
            return self._masker.mask(text)
        split_at, masked = self._masker.mask_next(last.raw, text)
        if split_at is not None and not last.stored:
            extra = [(split_at, len(last.raw))]
            last.row.message = _truncated(self._masker.mask(last.raw, extra))
        return masked

    def system(self, text: str, level: str = "INFO") -> None:
        self.line(LogLine.Stream.SYSTEM, text, level)

    def flush_if_due(self) -> None:
        if self._pending and time.monotonic() - self._last_flush >= FLUSH_INTERVAL:
            self._write(wait_for_split=True)

    def flush(self) -> None:
        """Store every line collected, a line awaiting its continuation too."""
        self._write(wait_for_split=False)

    def _write(self, *, wait_for_split: bool) -> None:
        with self._lock:
            keep = self._waiting_from() if wait_for_split else len(self._pending)
            batch, self._pending = self._pending[:keep], self._pending[keep:]
            written = {id(row) for row in batch}
            for last in self._last.values():
                last.stored = last.stored or id(last.row) in written
        self._last_flush = time.monotonic()
        if batch:
            LogLine.objects.bulk_create(batch)
            execution_wake(self.task_run.execution_id)

    def _waiting_from(self) -> int:
        """How many pending lines may be stored now: those before the first last line of
        a stream that could continue a secret on the next line, while it may still wait."""
        now, waiting = time.monotonic(), set()
        for last in self._last.values():
            if last.stored or now - last.added >= SPLIT_WAIT:
                continue
            if last.may_continue is None:
                last.may_continue = self._masker.may_continue(last.raw)
            if last.may_continue:
                waiting.add(id(last.row))
        rows = enumerate(self._pending)
        return next((index for index, row in rows if id(row) in waiting), len(self._pending))


def _truncated(text: str) -> str:
    return text[:MAX_LINE] + " [line truncated]" if len(text) > MAX_LINE else text
