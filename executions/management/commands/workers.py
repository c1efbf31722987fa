"""``manage.py workers``: the django-q2 cluster that runs the jobs, with the clock.

django-q2's main process only waits for its sentinel once the cluster has started: the
clock ticks there, in a thread, instead of in a Django process of its own (70 MiB). The
thread starts after the sentinel was forked, and the sentinel forks the workers, so no
fork ever copies it. Stopping the cluster stops the clock; a clock or sentinel that ends
unasked ends the command with status 1, for the supervisor to restart it.

Before the fork, the main process imports what every job needs (``executions.jobs``
brings the runners, the flow language and the expression engine): the forked workers then
share those pages instead of each importing its own copy. A worker's name is read from its
own process id when it claims, so importing the jobs before the fork is safe.

Those shared pages stay shared only if nothing writes to them: a garbage collection in
any process of the tree writes to every object it walks, and each page it touches is
copied. So the objects that exist at the fork are frozen first (``gc.freeze``): the
collector leaves them alone in the parent and in every child. Without it, one full
collection in the main process after the fork cost 30 MiB of the stack's idle memory,
and whether it happened depended on how many objects start-up had made (a new model
was enough to tip it).
"""

from __future__ import annotations

import gc
from importlib import import_module
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

import executions.jobs  # noqa: F401 - preloaded for the forked workers, see above
from executions.cluster import ClusterRun
from executions.runners.base import ca_bundle
from triggers.clock_loop import ClockThread


class Command(BaseCommand):
    help = "Run the workers (a django-q2 cluster) and the clock in one process tree."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--no-clock", action="store_true", help="Run the workers only")

    def handle(self, *args: Any, no_clock: bool, **options: Any) -> None:
        ca_bundle()  # read once here rather than once per worker
        _preload_backends()
        _connections_kept_open()
        gc.collect()
        gc.freeze()  # see the module's docstring
        run = ClusterRun()
        clock = None if no_clock else ClockThread(started=self._started)
        run.watch(clock)
        if not run.asked:
            failure = clock.failure if clock is not None else None
            raise CommandError(
                f"The clock stopped: {failure!r}"
                if failure is not None
                else f"The cluster's sentinel ended (exit code {run.cluster.sentinel.exitcode})"
            )

    def _started(self, message: str) -> None:
        self.stdout.write(message)
        self.stdout.flush()


def _preload_backends() -> None:
    """Import the database, channel layer and broker modules the settings name, without
    connecting to anything: a connection must never be shared by forked processes."""
    for path in (
        settings.DATABASES[DEFAULT_DB_ALIAS]["ENGINE"] + ".base",
        str(settings.CHANNEL_LAYERS["default"]["BACKEND"]).rpartition(".")[0],
        settings.Q_CLUSTER.get("broker_class", "").rpartition(".")[0]
        or ("django_q.brokers.redis_broker" if "redis" in settings.Q_CLUSTER else ""),
    ):
        if path:
            import_module(path)


def _connections_kept_open() -> None:
    """Each process of the cluster is one long loop on one thread, unlike the web server:
    its connections stay open across jobs, ticks and polls, which otherwise each reopened
    the database (a new server process on PostgreSQL, the file and its PRAGMAs on SQLite).
    Set before any connection is made, so the forked processes and the clock inherit it."""
    for database in connections.settings.values():
        database["CONN_MAX_AGE"] = None
