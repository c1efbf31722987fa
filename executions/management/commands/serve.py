"""``manage.py serve``: the same as ``python -m flowsite.supervisor``, which it becomes.

The process replaces itself with the supervisor (same pid, same arguments), so no Django
process stays behind only to supervise.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from django.conf import settings
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
        argv = [sys.executable, "-m", "flowsite.supervisor", "--host", host, "--port", str(port)]
        if no_workers:
            argv.append("--no-workers")
        sys.stdout.flush()
        os.chdir(settings.BASE_DIR)  # where python -m finds the flowsite package
        os.execv(sys.executable, argv)
