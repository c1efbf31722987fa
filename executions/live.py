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
from django.conf import settings
from django.utils import timezone

from namespaces.masking import SecretMasker

from .log_rows import MESSAGE, Row, log_rows_insert, log_stamp_adapter
from .models import LogLine, TaskRun

FLUSH_INTERVAL = 0.1  # seconds a line may wait for the others of its batch
FLUSH_BYTES = 4 * 1024 * 1024  # a batch this big is written at once
# How long the last line of a stream may wait for the next one, when its end could be the
# first part of a secret split over the two: the next line of a script usually comes in
# the same read, and a longer wait would leave the page behind a quiet task's last line.
SPLIT_WAIT = 1.0
MAX_LINE = 64 * 1024

STDERR, SYSTEM = LogLine.Stream.STDERR.value, LogLine.Stream.SYSTEM.value

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
    row: Row
    added: float
    stored: bool = False
    may_continue: bool | None = None  # computed once, when a flush asks


class LogWriter:
    """Collects a task run's lines and writes them in batches, every secret value it was
    given hidden as ``******`` before a line is stored (and so before it is seen).

    A batch is written when it holds ``FLUSH_BYTES`` or, on the driver's periodic call,
    when its first line waited ``FLUSH_INTERVAL``: a busy task's lines go in few large
    writes, a quiet task's line shows within that interval.

    A secret split over two consecutive lines of one stream (the end of one, the start of
    the next) is hidden on both. For that the last line of each stream is remembered, and
    a periodic flush keeps it back, at most ``SPLIT_WAIT`` seconds, when its end could be
    the start of a secret; the lines after it wait with it, so the order is kept. Without
    secrets nothing is remembered (a secret added later is looked for from its next line).

    Past FLOWSITE_TASK_LOG_MAX_LINES lines or FLOWSITE_TASK_LOG_MAX_BYTES bytes of output,
    the further output lines are dropped after one WARN line saying so; Flowsite's own
    (system) lines are still stored.
    """

    def __init__(self, task_run: TaskRun, secrets: Iterable[str] = ()):
        self.task_run = task_run
        self._pending: list[Row] = []
        self._pending_bytes = 0
        self._last: dict[str, _Last] = {}
        # A task's first lines wait a flush interval too: a short task's lines are then
        # stored with its end, in the same transaction.
        self._last_flush = time.monotonic()
        self._lock = threading.Lock()
        self._masker = SecretMasker(secrets)
        self._fixed = (
            task_run.execution_id,
            task_run.pk,
            task_run.task_id,
            task_run.attempt or 1,
        )
        self._adapt_stamp = log_stamp_adapter()
        self._stamp = self._adapt_stamp(timezone.now())
        self._stamp_at = time.monotonic()
        self._max_lines = settings.FLOWSITE_TASK_LOG_MAX_LINES or float("inf")
        self._max_bytes = settings.FLOWSITE_TASK_LOG_MAX_BYTES or float("inf")
        self._output_lines = 0
        self._output_bytes = 0
        self.output_truncated = False

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
        # The hot path of a task printing a million lines: no model instance, and the
        # clock read once a millisecond (the lines of that millisecond share it).
        now = time.monotonic()
        if now - self._stamp_at >= 0.001:
            self._stamp, self._stamp_at = self._adapt_stamp(timezone.now()), now
        if "\x00" in text:  # PostgreSQL's text cannot hold it; both databases store U+FFFD
            text = text.replace("\x00", "\ufffd")
        size = (len(text) if text.isascii() else len(text.encode())) + 1
        with self._lock:
            if stream != SYSTEM and not self._output_kept(size):
                return
            level = level or ("WARN" if stream == STDERR else "INFO")
            execution_id, task_run_id, task_id, attempt = self._fixed
            row: Row = [
                execution_id,
                task_run_id,
                task_id,
                attempt,
                stream,
                level,
                self._stamp,
                text,
            ]
            if self._masker:
                row[MESSAGE] = self._masked(stream, text)
                self._last[stream] = _Last(raw=text, row=row, added=now)
            if len(row[MESSAGE]) > MAX_LINE:
                row[MESSAGE] = _truncated(row[MESSAGE])
            self._pending.append(row)
            self._pending_bytes += size
            full = self._pending_bytes >= FLUSH_BYTES
        if full:
            self._write(wait_for_split=True)

    def _output_kept(self, size: int) -> bool:
        """Whether a line of the task's output is stored, counting it; the first line
        past the cap is replaced by the line saying so."""
        if self._output_lines < self._max_lines and self._output_bytes + size <= self._max_bytes:
            self._output_lines += 1
            self._output_bytes += size
            return True
        if self.output_truncated:
            return False
        self.output_truncated = True
        setting = "FLOWSITE_TASK_LOG_MAX_LINES"
        if self._output_lines < self._max_lines:
            setting = "FLOWSITE_TASK_LOG_MAX_BYTES"
        message = (
            f"Output truncated after {self._output_lines:,} lines "
            f"({self._output_bytes / 1024**2:.1f} MB), the limit of {setting}: the task runs "
            "on, its further output is not stored"
        )
        self._pending.append([*self._fixed, SYSTEM, "WARN", self._stamp, message])
        return False

    def _masked(self, stream: str, text: str) -> str:
        """``text`` masked (before truncating, which could cut a value in two), and the
        previous line of the stream masked again when the two share a split secret."""
        last = self._last.get(stream)
        if last is None:
            return self._masker.mask(text)
        split_at, masked = self._masker.mask_next(last.raw, text)
        if split_at is not None and not last.stored:
            extra = [(split_at, len(last.raw))]
            last.row[MESSAGE] = _truncated(self._masker.mask(last.raw, extra))
        return masked

    def system(self, text: str, level: str = "INFO") -> None:
        self.line(SYSTEM, text, level)

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
            self._pending_bytes = sum(len(row[MESSAGE]) + 1 for row in self._pending)
            waiting = {id(row) for row in self._pending}
            for last in self._last.values():
                last.stored = last.stored or id(last.row) not in waiting
        self._last_flush = time.monotonic()
        if batch:
            log_rows_insert(batch)
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
        if not waiting:
            return len(self._pending)
        # The waiting lines are each the last of a stream: near the end.
        first = len(self._pending)
        for index in range(len(self._pending) - 1, -1, -1):
            if id(self._pending[index]) in waiting:
                first = index
                waiting.discard(id(self._pending[index]))
                if not waiting:
                    break
        return first


def _truncated(text: str) -> str:
    return text[:MAX_LINE] + " [line truncated]" if len(text) > MAX_LINE else text
