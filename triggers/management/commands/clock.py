"""``manage.py clock``: tick about every second, firing schedules and delayed work.

Safe to run on several hosts at once: see triggers/clock.py.
"""

from __future__ import annotations

import logging
import signal
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections
from django.utils import timezone

from triggers.clock import clock_tick
from triggers.states import trigger_states_sync_all

logger = logging.getLogger("triggers.clock")


class Command(BaseCommand):
    help = "Run the clock: fire Schedule triggers, backfills, retries and pause timeouts."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--interval", type=float, default=1.0, help="Seconds between ticks")

    def handle(self, *args: Any, interval: float, **options: Any) -> None:
        stopping: list[bool] = []
        signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
        signal.signal(signal.SIGINT, lambda *_: stopping.append(True))
        flows = trigger_states_sync_all()
        self.stdout.write(f"Clock running: {flows} flows' triggers, a tick every {interval:g} s")
        self.stdout.flush()
        while not stopping:
            close_old_connections()  # survive a database restart between ticks
            try:
                clock_tick(timezone.now())
            except Exception:
                logger.exception("A clock tick failed; the next one tries again")
            time.sleep(_until_next(interval))


def _until_next(interval: float) -> float:
    """Sleep to just after the next multiple of ``interval``, so a slot due on a whole
    second fires a few milliseconds after it."""
    return interval - (time.time() % interval) + 0.01
