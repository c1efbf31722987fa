"""Which workers are alive: each worker process beats for the task runs it holds, and the
clock finds, every few seconds and with one cheap query, the runs whose worker is gone.

A worker is gone when its process on this host no longer exists (``TaskRun.worker`` is
"host:pid"; django-q2 replaces a killed worker within a second, and the clock of the same
host sees the pid gone at its next look), or when it stopped beating for LOST_AFTER (its
host died, or it runs elsewhere). What becomes of a lost run is upkeep.py's business.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import cache

from django.db import connection
from django.db.models import Field
from django.utils import timezone

from flows.language.tasks import WORKERLESS_TYPES

from .models import State, TaskRun

logger = logging.getLogger(__name__)

HEARTBEAT_EVERY = 5.0  # seconds between two beats of a worker process
# Four missed beats: a worker on another host, or whose pid says nothing, is lost after this.
LOST_AFTER = timedelta(seconds=20)
# How often the clock looks for lost runs: with LOST_AFTER, a dead worker elsewhere is found
# within about 23 s, one on the clock's own host within about 3 s.
LIVENESS_EVERY = timedelta(seconds=2)


# The inode of the kernel's first pid namespace (PROC_PID_INIT_INO): a process of the
# host itself, not of a container.
HOST_PID_NAMESPACE = 0xEFFFFFFC


@cache
def host_name() -> str:
    """This host's name, with its pid namespace when it is not the host's own: a worker in
    a container that has the host's name (``--network host``) has pids the host's clock
    cannot see, and must never be taken for gone."""
    name = socket.gethostname()
    try:
        namespace = os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        return name
    return name if namespace == HOST_PID_NAMESPACE else f"{name}/pidns-{namespace}"


def worker_name() -> str:
    """host:pid of this worker process (django-q2 forks: the pid is read each time)."""
    return f"{host_name()}:{os.getpid()}"


def worker_gone(worker: str) -> bool:
    """Whether ``worker`` ("host:pid") is a process of this host that no longer runs. A
    worker of another host, or of a name this cannot read, is not known to be gone."""
    host, _, pid_text = worker.rpartition(":")
    if host != host_name() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            # A killed worker stays a zombie until django-q2's sentinel reaps it: gone too.
            return stat.read().rpartition(b")")[2].split()[0] == b"Z"
    except FileNotFoundError:
        return True
    except OSError:  # no /proc here: ask the kernel
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False


class Heartbeat:
    """One thread per worker process tells the database, every ``every`` seconds, that
    the task runs this process holds are alive, whatever each is doing (pulling an image,
    waiting for a retry, running). One UPDATE per beat for all of them, none while the
    process holds nothing, and none for a run held for less than a beat: its claim has
    just stamped it. The thread sleeps without waking while nothing is held."""

    def __init__(self, every: float = HEARTBEAT_EVERY):
        self.every = every
        self._pid = -1

    @contextmanager
    def hold(self, task_run_id: str) -> Iterator[None]:
        self._started()
        with self._lock:
            self._held[task_run_id] = time.monotonic()
            self._wake.set()
        try:
            yield
        finally:
            with self._lock:
                self._held.pop(task_run_id, None)
                if not self._held:
                    self._idle.set()  # the thread closes its connection now, not after a beat

    def _started(self) -> None:
        if self._pid == os.getpid():
            return
        # First use in this process (django-q2 forks its workers): its own thread and lock.
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._idle = threading.Event()
        self._held: dict[str, float] = {}
        threading.Thread(target=self._run, name="heartbeat", daemon=True).start()

    def _run(self) -> None:
        while True:
            with self._lock:
                if not self._held:
                    self._wake.clear()
            if not self._wake.is_set():
                # Idle: a connection kept open would only hold a server slot (and, in the
                # test suite, the test database).
                connection.close()
                self._wake.wait()
            self._idle.clear()
            if not self._idle.wait(self.every):
                self._beat()

    def _beat(self) -> None:
        now = time.monotonic()
        with self._lock:
            due = [pk for pk, since in self._held.items() if now - since >= self.every / 2]
        if not due:
            return
        try:
            TaskRun.objects.filter(pk__in=due, state=State.RUNNING).update(
                heartbeat_at=timezone.now()
            )
        except Exception:  # a missed beat is retried; a lasting failure shows as lost
            logger.exception("Heartbeat of task runs %s failed", ", ".join(due))
            connection.close()


heartbeat = Heartbeat()


def task_runs_lost(now: datetime, *, silent_for: timedelta = LOST_AFTER) -> list[str]:
    """The ids of the RUNNING task runs whose worker is gone. One indexed query over the
    running rows only (a partial index), so the clock may ask every few seconds."""
    limit = connection.ops.adapt_datetimefield_value(now - silent_for)
    with connection.cursor() as cursor:
        cursor.execute(_running_sql(), [limit])
        return [pk for pk, worker, silent in cursor.fetchall() if silent or worker_gone(worker)]


@cache
def _running_sql() -> str:
    def column(name: str) -> str:
        field = TaskRun._meta.get_field(name)
        assert isinstance(field, Field) and field.column
        return connection.ops.quote_name(field.column)

    quote = connection.ops.quote_name
    # Literals, not parameters: only then does SQLite use the partial index.
    workerless = ", ".join(f"'{name}'" for name in WORKERLESS_TYPES if "'" not in name)
    heartbeat = column("heartbeat_at")
    return (
        f"SELECT {column('id')}, {column('worker')}, {heartbeat} < %s"
        f" FROM {quote(TaskRun._meta.db_table)}"
        f" WHERE {column('state')} = '{State.RUNNING.value}' AND {heartbeat} IS NOT NULL"
        f" AND {column('task_type')} NOT IN ({workerless})"
    )
