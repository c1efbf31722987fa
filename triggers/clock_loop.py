"""The clock's loop: about every second, a look for due work, then a tick if there is any.

An idle install has nothing due nearly every second, and a full tick (clock.py) costs a
few ORM queries, about 4 ms of CPU here: 0.4 % of a core for nothing. ``clock_due``
asks the same questions in one plain SQL statement, about 0.06 ms. It must stay in step
with what a tick does: an armed or unarmed schedule whose slot is due (schedules_tick), a
backfill under way (backfills_tick), and a task run whose timer (``wake_at``) is due,
which is all the engine's delayed work (retries, pause timeouts); and once a minute the
engine's sweep (``sweep_due``), which finds lost work whatever the tables say. Every few
seconds it also looks for task runs whose worker died (``lost_workers_tick``: one query
over the running rows, about as cheap).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from functools import cache

from django.db import close_old_connections, connection
from django.db.models import Field, Model
from django.utils import timezone

from executions.models import TaskRun
from executions.upkeep import lost_workers_tick, sweep_due

from .clock import clock_tick
from .models import SCHEDULE, Backfill, TriggerState
from .states import trigger_states_sync_all

logger = logging.getLogger("triggers.clock")


def clock_run(
    *, stop: threading.Event, interval: float = 1.0, started: Callable[[str], None] = print
) -> None:
    """Tick about every ``interval`` seconds until ``stop`` is set: the loop of
    ``manage.py clock``, and of the clock thread in ``manage.py workers``."""
    flows = trigger_states_sync_all()
    started(f"Clock running: {flows} flows' triggers, a tick every {interval:g} s")
    try:
        while not stop.is_set():
            close_old_connections()  # survive a database restart between ticks
            try:
                now = timezone.now()
                if clock_due(now) or sweep_due(now):
                    clock_tick(now)
                lost_workers_tick(now)
            except Exception:
                logger.exception("A clock tick failed; the next one tries again")
            stop.wait(_until_next(interval))
    finally:
        connection.close()  # this thread's own


def clock_due(now: datetime) -> bool:
    """Whether a tick at ``now`` has anything to do."""
    at = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        cursor.execute(_due_sql(), [SCHEDULE, at, at])
        return cursor.fetchone() is not None


@cache
def _due_sql() -> str:
    def column(model: type[Model], field: str) -> str:
        concrete = model._meta.get_field(field)
        assert isinstance(concrete, Field) and concrete.column  # a column, not a relation
        return connection.ops.quote_name(concrete.column)

    def table(model: type[Model]) -> str:
        return connection.ops.quote_name(model._meta.db_table)

    next_date = column(TriggerState, "next_date")
    schedules = (
        f"SELECT 1 FROM {table(TriggerState)} WHERE {column(TriggerState, 'type')} = %s"
        f" AND NOT {column(TriggerState, 'disabled')}"
        f" AND NOT {column(TriggerState, 'declared_disabled')}"
        f" AND ({next_date} IS NULL OR {next_date} <= %s)"
    )
    backfills = f"SELECT 1 FROM {table(Backfill)} WHERE {column(Backfill, 'next_date')} IS NOT NULL"
    timers = f"SELECT 1 FROM {table(TaskRun)} WHERE {column(TaskRun, 'wake_at')} <= %s"
    return f"SELECT 1 WHERE EXISTS ({schedules}) OR EXISTS ({backfills}) OR EXISTS ({timers})"


class ClockThread(threading.Thread):
    """``clock_run`` in a thread of its own, so that a signal handler may call ``stop``:
    setting the event from the thread that waits on it could deadlock on its lock."""

    def __init__(self, *, interval: float = 1.0, started: Callable[[str], None] = print):
        super().__init__(name="clock", daemon=True)
        self._stop_event = threading.Event()
        self._interval = interval
        self._on_start = started
        self.failure: Exception | None = None  # what ended it without being stopped

    def run(self) -> None:
        try:
            clock_run(stop=self._stop_event, interval=self._interval, started=self._on_start)
        except Exception as exc:
            logger.exception("The clock stopped")
            self.failure = exc

    def stop(self) -> None:
        self._stop_event.set()


def _until_next(interval: float) -> float:
    """Wait to just after the next multiple of ``interval``, so a slot due on a whole
    second fires a few milliseconds after it."""
    return interval - (time.time() % interval) + 0.01
