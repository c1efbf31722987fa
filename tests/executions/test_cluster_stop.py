"""``manage.py workers`` and ``manage.py qcluster`` stop within seconds on a signal to their
whole process group, as systemd stops a service and as Ctrl+C does; django-q2's own
qcluster was still running 40 s after such a SIGTERM (executions/cluster.py says why)."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from tests.conftest import FlowsiteProcess, flowsite_env


def _group(pgid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-g", str(pgid)], capture_output=True, text=True)
    alive = []
    for pid in map(int, found.stdout.split()):
        try:
            with open(f"/proc/{pid}/stat") as stat:
                if stat.read().split(") ", 1)[1][0] != "Z":
                    alive.append(pid)
        except FileNotFoundError:
            pass
    return alive


@pytest.mark.django_db(transaction=True)  # nothing of the test holds the database
@pytest.mark.parametrize(
    ("command", "signum"),
    [
        ("qcluster", signal.SIGTERM),
        ("workers", signal.SIGTERM),
        ("workers", signal.SIGINT),
    ],
)
def test_a_signal_to_the_process_group_stops_the_cluster_within_seconds(
    command: str, signum: signal.Signals
) -> None:
    cluster = FlowsiteProcess(
        ["manage.py", command], flowsite_env(FLOWSITE_QUEUE_LOG_LEVEL="INFO"), f"stop-{command}"
    )
    try:
        cluster.wait_for(lambda: "running." in cluster.log_path.read_text(), command)
        pid = cluster.process.pid
        assert len(_group(pid)) > 2  # the sentinel and its workers have started

        os.killpg(pid, signum)
        started = time.monotonic()
        status = cluster.process.wait(timeout=40)
        took = time.monotonic() - started
        left = _group(pid)
    finally:
        cluster.stop()
    assert status == 0, cluster.log_path.read_text()[-2000:]
    assert took < 10, f"manage.py {command} took {took:.1f} s to stop"
    assert not left
