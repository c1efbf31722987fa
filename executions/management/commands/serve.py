from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve Flowsite (daphne, HTTP and websockets) with its django-q2 workers and clock."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default=os.environ.get("FLOWSITE_HOST", "127.0.0.1"))
        parser.add_argument(
            "--port", type=int, default=int(os.environ.get("FLOWSITE_PORT", "8000"))
        )
        parser.add_argument("--no-workers", action="store_true", help="Serve the web app only")

    def handle(self, *args: Any, host: str, port: int, no_workers: bool, **options: Any) -> None:
        python = sys.executable
        commands = [
            [python, "-m", "daphne", "-b", host, "-p", str(port), "flowsite.asgi:application"],
        ]
        if not no_workers:
            commands.append([python, "manage.py", "qcluster"])
            commands.append([python, "manage.py", "clock"])  # schedules, retries, timeouts
        # Each child in its own process group: Ctrl+C in the terminal reaches this command
        # alone, which then signals each child exactly once (see stop below).
        children = [subprocess.Popen(command, process_group=0) for command in commands]
        self.stdout.write(f"Flowsite is serving http://{host}:{port}/ (Ctrl+C stops it)")
        stopping: list[bool] = []

        def stop(*_: Any) -> None:
            # Once: a second SIGTERM in the middle of django-q2's shutdown hangs it.
            if stopping:
                return
            stopping.append(True)
            for child in children:
                if child.poll() is None:
                    child.terminate()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        try:
            while all(child.poll() is None for child in children):
                time.sleep(0.5)
        finally:
            stop()
            for child in children:
                try:
                    child.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    child.kill()
                    child.wait()
        failed = [c for c in children if c.returncode not in (0, -signal.SIGTERM, -signal.SIGINT)]
        if failed and not stopping:
            raise SystemExit(failed[0].returncode)
