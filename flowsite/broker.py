"""django-q2's ORM broker, woken at once when a job is enqueued on the same machine.

The ORM broker learns of a new job only by polling the table, so its poll was short
(50 ms) and an idle install spent 5 % of a core on it. Here a pusher with nothing to do
waits instead on a Unix datagram socket of its own, for at most Q_CLUSTER["poll"]
seconds, and ``enqueue`` sends one byte to every pusher of the same database and queue
on this machine. The poll stays as the safety net: a job enqueued on another host (a team
on PostgreSQL without Redis) or a lost datagram waits one poll at most.

The claim is django-q2's conditional update of the lock, made in the same transaction as
the look that found the job; a pusher that found no more jobs than it took waits for a
wake-up before it looks again, instead of spending a transaction on an empty look. A job
enqueued inside a transaction is part of it (it exists exactly when what it runs does),
and its wake-up goes out when that transaction commits.
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

from django.db import connections, transaction
from django.utils import timezone
from django_q.brokers.orm import ORM
from django_q.conf import Conf

logger = logging.getLogger(__name__)


class WakeableORM(ORM):
    def __init__(self, list_key: str | None = None) -> None:
        super().__init__(list_key=list_key)
        self._inbox: socket.socket | None = None
        self._inbox_pid = 0
        self._more = True  # whether the last look left jobs behind

    def enqueue(self, task: str) -> int:
        pk: int = super().enqueue(task)
        rendezvous = self._rendezvous()
        # Inside a transaction the job is not visible yet: wake the pushers once it is.
        transaction.on_commit(lambda: pushers_wake(rendezvous), using=Conf.ORM)
        return pk

    def dequeue(self) -> list[tuple[int, str]] | None:
        inbox = self._inbox_open()
        if not self._more and inbox is not None:
            # The last look took every job there was: look again on a wake-up, or after
            # the poll as a safety net.
            select.select([inbox], [], [], Conf.POLL)
        _drain(inbox)  # a wake-up sent before this look is answered by it
        queue = self.get_connection()
        with transaction.atomic(using=Conf.ORM):
            found = list(queue.filter(key=self.list_key, lock__lt=timezone.now())[: Conf.BULK + 1])
            claimed = []
            for task in found[: Conf.BULK]:
                # Another cluster may have been faster: then the update changes no row.
                if queue.filter(id=task.id, lock=task.lock).update(lock=self.timeout(task)):
                    claimed.append((task.pk, task.payload))
        self._more = len(found) > Conf.BULK
        if claimed:
            return claimed
        if inbox is None:
            time.sleep(Conf.POLL)
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
