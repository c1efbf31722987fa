"""The supervisor as an operator meets it: real daphne and django-q2 processes killed
under it come back and serve again; a stop, however it is signalled, ends everything
within seconds with status 0; a crash loop ends with a status that is not 0."""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from executions.models import Execution, State
from tests.conftest import (
    ROOT,
    FlowsiteProcess,
    _free_port,
    _port_answers,
    flowsite_env,
    wait_until,
)
from tests.flows_helpers import PROCESS, finished, save_flow
from tests.personas import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

FLOW = f"""\
id: survivor
namespace: dev
tasks:
  - id: work
    type: io.kestra.plugin.scripts.shell.Commands
    taskRunner: {{type: {PROCESS}}}
    commands: [echo still here]
"""


@pytest.fixture
def fast_passwords() -> None:
    """The real hashers: the web server, in its own process, checks alice's password."""


class Supervised:
    """``python -m flowsite.supervisor`` in a session of its own, as ``make run`` starts it."""

    def __init__(self, *args: str, **env: str) -> None:
        self.port = _free_port()
        self.process = FlowsiteProcess(
            ["-m", "flowsite.supervisor", "--port", str(self.port), *args],
            flowsite_env(FLOWSITE_QUEUE_LOG_LEVEL="INFO", **env),
            f"supervisor-{self.port}",
        )
        self.pid = self.process.process.pid

    @property
    def log(self) -> str:
        return self.process.log_path.read_text()

    def child(self, name: str) -> int:
        """The pid of the supervisor's child whose command line holds ``name``."""
        return wait_until(lambda: _child(self.pid, name), timeout=30, what=f"the {name} child")

    def ready(self, clocks: int = 1) -> None:
        def up() -> bool:
            return _port_answers(self.port) and self.log.count("Clock running") >= clocks

        self.process.wait_for(up, "the supervisor", timeout=60)

    def tree(self) -> list[int]:
        return _tree(self.pid)

    def stop(self) -> None:
        groups = _groups(self.pid)
        self.process.stop()
        _kill_groups(groups)

    def wait(self, timeout: float) -> tuple[int, float]:
        started = time.monotonic()
        status = self.process.process.wait(timeout=timeout)
        return status, time.monotonic() - started


@pytest.fixture
def supervised(django_db_setup: Any) -> Iterator[Supervised]:
    running = Supervised()
    yield running
    running.stop()


def _tree(root: int) -> list[int]:
    """``root`` and every process under it."""
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += _children(pid)
    return found


def _groups(root: int) -> set[int]:
    """The process groups of the tree under ``root``: the supervisor's children have
    their own, which FlowsiteProcess.stop() does not reach if a test failed midway."""
    groups = set()
    for pid in _tree(root):
        with suppress(ProcessLookupError):
            groups.add(os.getpgid(pid))
    return groups


def _kill_groups(groups: set[int]) -> None:
    for group in groups:
        with suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)


def _children(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return [int(line) for line in found.stdout.split()]


def _child(pid: int, name: str) -> int | None:
    for child in _children(pid):
        with suppress(FileNotFoundError), open(f"/proc/{child}/cmdline", "rb") as cmdline:
            if name.encode() in cmdline.read().replace(b"\0", b" "):
                return child  # (one that ended since pgrep saw it is skipped)
    return None


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"  # a zombie has ended
    except FileNotFoundError:
        return False


def _in_group(pgid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-g", str(pgid)], capture_output=True, text=True)
    return [pid for pid in map(int, found.stdout.split()) if _alive(pid)]


def start_over_http(port: int) -> Execution:
    credentials = base64.b64encode(f"alice:{PASSWORD}".encode()).decode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/executions/dev/survivor",
        method="POST",
        headers={"Authorization": f"Basic {credentials}"},
    )
    with urllib.request.urlopen(request, timeout=20) as response:
        return Execution.objects.get(pk=json.loads(response.read())["id"])


def test_a_killed_cluster_is_restarted_and_runs_the_next_execution(
    supervised: Supervised, alice: Any
) -> None:
    save_flow(FLOW)
    supervised.ready()
    workers = supervised.child("manage.py workers")
    cluster = [workers, *_in_group(workers)]
    assert len(set(cluster)) > 2, "the cluster's sentinel and workers run under it"

    os.killpg(workers, signal.SIGKILL)  # the whole cluster, as an OOM killer might

    assert wait_until(lambda: (supervised.child("manage.py workers") != workers) or None)
    supervised.ready(clocks=2)
    assert "workers was killed by SIGKILL; restarting" in supervised.log
    assert not [pid for pid in cluster if _alive(pid)]
    execution = finished(start_over_http(supervised.port), timeout=60)
    assert execution.state == State.SUCCESS


def test_a_killed_workers_process_takes_its_orphaned_sentinel_and_workers_with_it(
    supervised: Supervised,
) -> None:
    supervised.ready()
    workers = supervised.child("manage.py workers")
    orphans = _in_group(workers)
    assert len(orphans) > 2

    os.kill(workers, signal.SIGKILL)  # the main process alone: its children outlived it

    wait_until(lambda: supervised.child("manage.py workers") != workers or None)
    wait_until(lambda: not [pid for pid in orphans if _alive(pid)], timeout=10, what="orphans")


def test_a_killed_web_server_is_restarted_and_serves_again(
    supervised: Supervised, alice: Any
) -> None:
    save_flow(FLOW)
    supervised.ready()
    web = supervised.child("flowsite.web")

    os.kill(web, signal.SIGKILL)

    assert wait_until(lambda: (supervised.child("flowsite.web") != web) or None)
    supervised.process.wait_for(lambda: _port_answers(supervised.port), "web", timeout=60)
    assert "web was killed by SIGKILL; restarting" in supervised.log
    execution = finished(start_over_http(supervised.port), timeout=60)
    assert execution.state == State.SUCCESS


@pytest.mark.parametrize("how", ["every process", "the supervisor", "its process group"])
def test_a_stop_ends_every_process_within_seconds_with_status_0(
    supervised: Supervised, how: str
) -> None:
    supervised.ready()
    tree = supervised.tree()
    assert len(tree) > 5

    if how == "every process":  # systemd's default, KillMode=control-group
        for pid in tree:
            os.kill(pid, signal.SIGTERM)
    elif how == "the supervisor":  # KillMode=mixed, or kill <pid>
        os.kill(supervised.pid, signal.SIGTERM)
    else:  # Ctrl+C in the terminal
        os.killpg(supervised.pid, signal.SIGINT)
    status, took = supervised.wait(timeout=40)

    assert status == 0, supervised.log[-2000:]
    assert took < 10, f"it took {took:.1f} s"
    wait_until(lambda: not [pid for pid in tree if _alive(pid)], timeout=5, what="every process")
    assert "restarting" not in supervised.log


def test_a_crash_loop_ends_the_supervisor_with_a_status_that_is_not_0(
    django_db_setup: Any,
) -> None:
    taken = socket.socket()  # the web server's port, already taken: it cannot start
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    running = FlowsiteProcess(
        ["-m", "flowsite.supervisor", "--port", str(port), "--no-workers"],
        flowsite_env(FLOWSITE_RESTART_PAUSE="0.05"),
        "supervisor-crash-loop",
    )
    try:
        status = running.process.wait(timeout=120)
    finally:
        running.stop()
        taken.close()
    log = running.log_path.read_text()
    assert status == 1, log[-2000:]
    assert "Address already in use" in log
    assert "web exited with status 1, 5 times in a row soon after starting" in log


def test_make_run_tells_a_stop_from_a_crash_by_its_exit_status(django_db_setup: Any) -> None:
    port = _free_port()
    env = flowsite_env(FLOWSITE_PORT=str(port), FLOWSITE_RESTART_PAUSE="0.05")
    for signum in (signal.SIGTERM, signal.SIGINT):
        with _make_run(env, "make-run-stop") as (make, log):
            wait_until(
                lambda: _port_answers(port) and "Clock running" in log.read_text(), timeout=90
            )
            supervisor = wait_until(lambda: _child(make.pid, "flowsite.supervisor"))
            if signum == signal.SIGTERM:  # kill <supervisor>: make reports its 0
                os.kill(supervisor, signum)
                assert make.wait(timeout=40) == 0, log.read_text()[-2000:]
            else:  # Ctrl+C reaches make too, which reports it as make does: "Interrupt"
                os.killpg(make.pid, signum)
                assert make.wait(timeout=40) == -signal.SIGINT
            assert "restarting" not in log.read_text()

    with socket.socket() as taken:  # its port already taken: the web server cannot start
        taken.bind(("127.0.0.1", port))
        taken.listen()
        with _make_run(env, "make-run-crash") as (make, log):
            assert make.wait(timeout=120) == 2  # make's status for a command that failed
            assert "5 times in a row soon after starting" in log.read_text()


@contextmanager
def _make_run(env: dict[str, str], name: str) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    log = Path(settings.DATA_DIR) / f"test-{name}.log"
    with open(log, "w") as out:
        make = subprocess.Popen(
            ["make", "run"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield make, log
    finally:
        _kill_groups(_groups(make.pid) | {make.pid})
        make.wait()
