"""`make run`'s command: daphne, the workers and the clock start together and stop
together on Ctrl+C, quickly, with nothing left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from typing import Any

import pytest

from tests.conftest import FlowsiteProcess, _free_port, _port_answers, flowsite_env


def _children(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return [int(line) for line in found.stdout.split()]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.django_db(transaction=True)
def test_ctrl_c_stops_the_server_its_workers_and_its_clock_within_seconds(
    django_db_setup: Any,
) -> None:
    port = _free_port()
    env = flowsite_env(FLOWSITE_QUEUE_LOG_LEVEL="INFO")
    serve = FlowsiteProcess(["manage.py", "serve", "--port", str(port)], env, "serve")

    def ready() -> bool:  # the cluster's and the clock's signal handlers are set by then
        log = serve.log_path.read_text()
        return _port_answers(port) and "running." in log and "Clock running" in log

    try:
        serve.wait_for(ready, "serve")
        # django-q2's own worker processes too: a hung cluster leaves them orphaned.
        children = _children(serve.process.pid)
        children += [pid for child in children for pid in _children(child)]
        os.killpg(serve.process.pid, signal.SIGINT)  # what the terminal sends on Ctrl+C
        started = time.monotonic()
        serve.process.wait(timeout=25)
        took = time.monotonic() - started
    finally:
        serve.stop()
    assert took < 15, f"serve took {took:.1f} s to stop"
    assert not [pid for pid in children if _alive(pid)]
