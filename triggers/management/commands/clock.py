"""``manage.py clock``: tick about every second, firing schedules and delayed work.

``manage.py workers`` runs the same clock in its main process; this command is the
clock alone. Safe to run on several hosts at once: see triggers/clock.py.
"""

from __future__ import annotations

import signal
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from triggers.clock_loop import ClockThread


class Command(BaseCommand):
    help = "Run the clock: fire Schedule triggers, backfills, retries and pause timeouts."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--interval", type=float, default=1.0, help="Seconds between ticks")

    def handle(self, *args: Any, interval: float, **options: Any) -> None:
        clock = ClockThread(interval=interval, started=self._started)
        signal.signal(signal.SIGTERM, lambda *_: clock.stop())
        signal.signal(signal.SIGINT, lambda *_: clock.stop())
        clock.start()
        while clock.is_alive():
            clock.join(0.5)
        if clock.failure is not None:
            raise CommandError(f"The clock stopped: {clock.failure!r}")

    def _started(self, message: str) -> None:
        self.stdout.write(message)
        self.stdout.flush()
