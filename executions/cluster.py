"""The django-q2 cluster in the foreground, as ``manage.py workers`` and ``manage.py
qcluster`` run it: started, watched, and stopped once however many signals arrive.

django-q2's own signal handler calls ``Cluster.stop()``, which sets a multiprocessing
Event; setting one waits for every process sleeping on it to wake. A SIGTERM to the
whole process group (how systemd stops a service; Ctrl+C on the command) kills the
sentinel outright while it sleeps there (it keeps SIGTERM's default action), and that
wait never ended: ``qcluster`` was still running 40 s later. Here a signal is only noted;
the stop runs in a thread of its own and the sentinel's end is what is waited for.
"""

from __future__ import annotations

import signal
import threading
from dataclasses import dataclass, field
from typing import Any

from django_q.cluster import Cluster

from triggers.clock_loop import ClockThread

STOP_WAIT = 25.0  # seconds the workers get to finish their tasks (the supervisor gives 30)
CLOCK_WAIT = 3.0  # seconds a tick in progress gets to end, once the cluster has stopped


@dataclass
class ClusterRun:
    cluster: Cluster = field(default_factory=Cluster)
    asked: list[int] = field(default_factory=list)  # the signals that asked us to stop

    def watch(self, clock: ClockThread | None = None) -> None:
        """Start the cluster (and ``clock``), and return once asked to stop or once the
        sentinel or the clock ended unasked; everything is stopped by then."""
        signal.signal(signal.SIGTERM, self._note)
        signal.signal(signal.SIGINT, self._note)
        self.cluster.start()
        try:
            if clock is not None:
                clock.start()
            while (
                not self.asked
                and self.cluster.sentinel.is_alive()
                and (clock is None or clock.is_alive())
            ):
                self.cluster.sentinel.join(0.5)
        finally:
            if clock is not None:
                clock.stop()
            # Python waits for the sentinel before it exits: an error here must stop it.
            self.stop()
            if clock is not None:
                # A tick ends in milliseconds, but the first one, with its sweep, took over
                # 10 s on a busy machine. The thread is a daemon and a tick's work is
                # transactions and idempotent calls: one cut short is done again later.
                clock.join(CLOCK_WAIT)

    def stop(self) -> None:
        """django-q2's stop (the sentinel lets each worker finish its task), given
        STOP_WAIT seconds, then the sentinel is killed."""
        sentinel = self.cluster.sentinel
        if sentinel is None or not sentinel.is_alive():
            return
        threading.Thread(target=self.cluster.stop, name="cluster-stop", daemon=True).start()
        sentinel.join(STOP_WAIT)
        if sentinel.is_alive():
            # Its workers are left to whoever started us: the supervisor kills the process
            # group, systemd the service's control group.
            sentinel.kill()
            sentinel.join()

    def _note(self, signum: int, frame: Any) -> None:
        self.asked.append(signum)
