"""A Docker engine lost mid-run, or unreachable, fails the task with an error that names
Docker and the engine's address; once the engine is back, runs succeed again.

The engine killed here is one this test starts itself: a second dockerd with its own
socket, data root and exec root, in a network namespace of its own (a dockerd started
with --bridge none deletes any docker0 it sees: never the machine's), loaded with an
image from the machine's engine. The machine's engine is only read from.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from executions.lifecycle import execution_start
from executions.models import State
from tests.conftest import skip_or_fail, start_worker, wait_until
from tests.executions.test_flow_control import flow
from tests.executions.test_lost_workers import in_container, started_line
from tests.flows_helpers import finished, messages, save_flow

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.docker]

IMAGE = "python:3.11-slim"


class OwnEngine:
    """A dockerd of the test's own, which it may kill and start again."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="fs-dk-", dir="/tmp"))  # short: a socket path
        self.address = f"unix://{self.root}/docker.sock"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        # The previous daemon and its containerd are known to be gone (killed): their pid
        # files, left by a kill, would stop the new ones (a pid may live on as a zombie).
        (self.root / "docker.pid").unlink(missing_ok=True)
        (self.root / "x" / "containerd" / "containerd.pid").unlink(missing_ok=True)
        log = open(self.root / "dockerd.log", "ab")  # noqa: SIM115 - the daemon's, kept open
        self.process = subprocess.Popen(
            [
                *("unshare", "--net", "dockerd", "--host", self.address),
                *("--data-root", f"{self.root}/data", "--exec-root", f"{self.root}/x"),
                *("--pidfile", f"{self.root}/docker.pid", "--bridge", "none"),
                *("--iptables=false", "--ip6tables=false"),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_until(self.answers, timeout=30, what="the test's own dockerd")
        except AssertionError:
            raise AssertionError((self.root / "dockerd.log").read_text()[-2000:]) from None

    def answers(self) -> bool:
        return self.docker("version", check=False).returncode == 0

    def docker(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            ["docker", "-H", self.address, *args], capture_output=True, check=check, timeout=60
        )

    def kill(self) -> None:
        """SIGKILL the daemon, as a crash of its host would: its containerd goes with it,
        and so do its shims and their containers (left alive, a restarted engine waits
        on them)."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)  # unshare execs dockerd: same pid
        self.process.wait()
        ours = [pid for pid, cmdline in _processes().items() if str(self.root) in cmdline]
        children = [pid for pid, parent in _parents().items() if parent in ours]
        for pid in children + ours:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(subprocess.SubprocessError):
                ids = self.docker("ps", "-aq").stdout.decode().split()
                if ids:
                    self.docker("rm", "-f", *ids, check=False)
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        mounts = Path("/proc/mounts").read_text().splitlines()
        for mount in sorted((line.split()[1] for line in mounts), reverse=True):
            if mount.startswith(f"{self.root}/"):
                subprocess.run(["umount", "-l", mount], check=False)
        shutil.rmtree(self.root, ignore_errors=True)


def _processes() -> dict[int, str]:
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                found[int(entry.name)] = (entry / "cmdline").read_bytes().decode(errors="replace")
    return found


def _parents() -> dict[int, int]:
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat = (entry / "stat").read_text()
                found[int(entry.name)] = int(stat.rpartition(")")[2].split()[1])
    return found


@pytest.fixture(scope="module")
def own_engine(docker_engine: Any) -> Iterator[OwnEngine]:
    if os.geteuid() != 0 or not (shutil.which("dockerd") and shutil.which("unshare")):
        skip_or_fail("Starting a Docker engine of the test's own needs root, dockerd and unshare")
    engine = OwnEngine()
    try:
        engine.start()
        saved = subprocess.Popen(["docker", "save", IMAGE], stdout=subprocess.PIPE)
        subprocess.run(
            ["docker", "-H", engine.address, "load"], stdin=saved.stdout, check=True, timeout=120
        )
        assert saved.wait(60) == 0
        yield engine
    finally:
        engine.stop()


def test_an_engine_lost_mid_run_fails_the_task_naming_docker_and_its_address(
    own_engine: OwnEngine,
) -> None:
    worker = start_worker(DOCKER_HOST=own_engine.address, FLOWSITE_WORKERS="1")
    try:
        execution = execution_start(
            flow=save_flow(flow("engine-lost", in_container("long", "echo started", "sleep 60")))
        )
        wait_until(lambda: started_line(execution), timeout=60, what="the script to start")
        own_engine.kill()
        lost_at = time.monotonic()
        execution = finished(execution, timeout=30)
        assert time.monotonic() - lost_at < 30
        error = execution.task_runs.get().error
        assert error.startswith(
            f"Lost the Docker engine at {own_engine.address} while the task ran"
        )
        assert error in messages(execution)

        # While it is down, a new run says so.
        down = execution_start(flow=save_flow(flow("engine-down", in_container("t", "echo hi"))))
        down = finished(down, timeout=30)
        assert down.state == State.FAILED
        assert down.task_runs.get().error.startswith(
            f"Docker engine at {own_engine.address} is unreachable"
        )

        own_engine.start()  # the engine is back: so are the runs
        back = execution_start(flow=save_flow(flow("engine-back", in_container("t", "echo back"))))
        back = finished(back, timeout=60)
    finally:
        worker.stop()
    for failed in (execution, down):
        words = " ".join(messages(failed)) + failed.task_runs.get().error
        assert "ConnectionError" not in words and "ProtocolError" not in words
    assert execution.state == State.FAILED
    assert back.state == State.SUCCESS, messages(back)
    assert "back" in messages(back)
