"""django-q2's ORM broker, woken at once when a job is enqueued on the same machine.

The ORM broker learns of a new job only by polling the table, so its poll was short
(50 ms) and an idle install spent 5 % of a core on it. Here a pusher with nothing to do
waits instead on a Unix datagram socket of its own, for at most Q_CLUSTER["poll"]
seconds, and ``enqueue`` sends one byte to every pusher of the same database and queue
on this machine. The poll stays as the safety net: a job enqueued on another host (a team
on PostgreSQL without Redis) or a lost datagram waits one poll at most.

The claim itself is django-q2's (``ORM.dequeue``): a conditional update of the lock.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import select
import socket
import tempfile
import time
from pathlib import Path

from django.db import connections
from django.utils import timezone
from django_q.brokers.orm import ORM
from django_q.conf import Conf

logger = logging.getLogger(__name__)


class WakeableORM(ORM):
    def __init__(self, list_key: str | None = None) -> None:
        super().__init__(list_key=list_key)
        self._inbox: socket.socket | None = None
        self._inbox_pid = 0

    def enqueue(self, task: str) -> int:
        pk: int = super().enqueue(task)
        pushers_wake(self._rendezvous())
        return pk

    def dequeue(self) -> list[tuple[int, str]] | None:
        inbox = self._inbox_open()
        _drain(inbox)  # a wake-up sent before this look is answered by it
        claimed = []
        for task in self.get_connection().filter(key=self.list_key, lock__lt=timezone.now())[
            : Conf.BULK
        ]:
            # Another cluster may have been faster: then the update changes no row.
            if (
                self.get_connection()
                .filter(id=task.id, lock=task.lock)
                .update(lock=self.timeout(task))
            ):
                claimed.append((task.pk, task.payload))
        if claimed:
            return claimed
        if inbox is None:
            time.sleep(Conf.POLL)
        else:
            select.select([inbox], [], [], Conf.POLL)
        return None

    def _rendezvous(self) -> Path:
        """One directory per database and queue: only those pushers can take the job."""
        database = connections[Conf.ORM].settings_dict
        key = f"{database['HOST']}:{database['PORT']}/{database['NAME']}#{self.list_key}"
        digest = hashlib.sha256(key.encode()).hexdigest()[:16]
        return Path(tempfile.gettempdir()) / f"flowsite-wake-{os.getuid()}" / digest

    def _inbox_open(self) -> socket.socket | None:
        # The sentinel builds the broker and forks the pusher: bind in the process that waits.
        if self._inbox_pid != os.getpid():
            self._inbox_pid = os.getpid()
            self._inbox = _bind(self._rendezvous() / str(os.getpid()))
        return self._inbox


def pushers_wake(directory: Path) -> None:
    """Send a wake-up to every pusher listening in ``directory``; forget the dead ones."""
    try:
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        return  # no pusher ever listened here: the poll will find the job
    sender = _sender()
    for entry in entries:
        try:
            sender.sendto(b"!", entry.path)
        except (ConnectionRefusedError, FileNotFoundError):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(entry.path)  # its pusher died without removing it
        except BlockingIOError:
            pass  # its buffer is full of wake-ups already


_senders: dict[int, socket.socket] = {}


def _sender() -> socket.socket:
    sender = _senders.get(os.getpid())
    if sender is None:
        sender = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sender.setblocking(False)
        _senders[os.getpid()] = sender
    return sender


def _bind(path: Path) -> socket.socket | None:
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()  # left by an earlier process with the same pid
        inbox = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        inbox.bind(str(path))
    except OSError as exc:
        logger.warning(
            "No wake-up socket at %s (%s): new jobs wait up to %s s", path, exc, Conf.POLL
        )
        return None
    inbox.setblocking(False)
    return inbox


def _drain(inbox: socket.socket | None) -> None:
    if inbox is None:
        return
    with contextlib.suppress(BlockingIOError):
        while True:
            inbox.recv(16)
