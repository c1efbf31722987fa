"""Bob, a teammate with an Editor role on company.data, runs tasks meant to hurt the host
or its neighbours from inside a container; and two Flowsite installations share one
Docker engine. Real containers on the real engine, run by the real worker job."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from docker.errors import NotFound

from executions.models import State
from executions.runners.base import RunSpec
from executions.runners.docker import DockerHandle, DockerRunner
from executions.runners.engine import INSTALLATION_LABEL, containers_reap_orphans
from tests.flows_helpers import flow_yaml, messages, run_here, save_flow

pytestmark = [pytest.mark.django_db, pytest.mark.docker]

BOBS_NAMESPACE = "company.data"
CAPABILITY_BITS = {"CHOWN": 0, "DAC_OVERRIDE": 1, "FOWNER": 3, "FSETID": 4, "SETGID": 6}
CAPABILITY_BITS["SETUID"] = 7


@pytest.fixture(autouse=True)
def engine(docker_engine: Any) -> Any:
    return docker_engine


def bobs_flow(tasks: str, flow_id: str) -> Any:
    return save_flow(flow_yaml(tasks, flow_id=flow_id, namespace=BOBS_NAMESPACE))


def containers_of(engine: Any, execution_id: str) -> list[Any]:
    return engine.containers.list(all=True, filters={"label": f"flowsite.execution={execution_id}"})


def host_processes_running(*argv: str) -> int:
    """How many processes of this host run exactly ``argv`` (a local engine's containers
    run their processes on this host)."""
    wanted = "\0".join(argv).encode() + b"\0"
    count = 0
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            count += cmdline.read_bytes() == wanted
        except OSError:  # the process ended meanwhile
            continue
    return count


def test_bobs_fork_bomb_hits_the_pids_limit_and_fails_without_hurting_the_host(bob, engine):
    flow = bobs_flow(
        """\
          - id: bomb
            type: io.kestra.plugin.scripts.shell.Commands
            containerImage: python:3.11-slim
            timeout: PT90S
            commands:
              - cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max
              - i=0; while [ $i -lt 5000 ]; do sleep 4321 & i=$((i+1)); done; wait
        """,
        flow_id="fork-bomb",
    )
    started = time.monotonic()
    execution = run_here(flow, user=bob)

    assert time.monotonic() - started < 60  # it failed at the limit, not at its timeout
    task_run = execution.task_runs.get()
    assert execution.state == State.FAILED, messages(execution)
    assert task_run.error.startswith("Command failed with exit code")
    assert messages(execution, "stdout") == ["512"]  # the default FLOWSITE_CONTAINER_PIDS
    assert any("Cannot fork" in line for line in messages(execution, "stderr"))
    assert containers_of(engine, execution.pk) == []
    assert host_processes_running("sleep", "4321") == 0  # not one of its processes is left


def test_bobs_task_has_only_the_capabilities_apt_and_pip_need_and_cannot_gain_more(bob):
    flow = bobs_flow(
        """\
          - id: escalate
            type: io.kestra.plugin.scripts.shell.Commands
            containerImage: python:3.11-slim
            warningOnStdErr: false
            commands:
              - grep -E '^(CapEff|CapBnd|CapAmb|NoNewPrivs):' /proc/self/status
              - cp /usr/bin/id ./id-as-root && chmod u+s ./id-as-root
              - setpriv --reuid=65534 --regid=65534 --clear-groups ./id-as-root -u
              - mknod ./mem c 1 1 || echo "mknod refused"
              - chroot / true || echo "chroot refused"
        """,
        flow_id="escalate",
    )
    execution = run_here(flow, user=bob)

    assert execution.state == State.SUCCESS, messages(execution)
    allowed = f"{sum(1 << bit for bit in CAPABILITY_BITS.values()):016x}"
    assert messages(execution, "stdout") == [
        f"CapEff:\t{allowed}",
        f"CapBnd:\t{allowed}",
        "CapAmb:\t0000000000000000",
        "NoNewPrivs:\t1",
        "65534",  # a setuid-root program made by root gives nobody back root
        "mknod refused",
        "chroot refused",
    ]


def test_bobs_task_gets_the_installations_default_limits_of_memory_and_cpu(bob):
    flow = bobs_flow(
        """\
          - id: limits
            type: io.kestra.plugin.scripts.shell.Commands
            containerImage: python:3.11-slim
            commands:
              - cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes
              - cat /sys/fs/cgroup/cpu.max 2>/dev/null || echo $(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us)
        """,
        flow_id="limits",
    )
    execution = run_here(flow, user=bob)

    memory, cpu = messages(execution)
    assert int(memory) == 512 * 1024 * 1024
    quota, period = cpu.split()
    assert int(quota) / int(period) == 1.0


HOG = """\
  - id: hog
    type: io.kestra.plugin.scripts.python.Script
    containerImage: python:3.11-slim
    {runner}
    script: |
      chunks = []
      while True:
          chunks.append(b"x" * (16 * 1024 * 1024))
"""


def test_a_task_beyond_the_default_memory_limit_fails_naming_the_oom_kill(bob, settings):
    settings.FLOWSITE_CONTAINER_MEMORY = 256 * 1024 * 1024
    execution = run_here(bobs_flow(HOG.format(runner=""), flow_id="hog"), user=bob)

    task_run = execution.task_runs.get()
    assert execution.state == State.FAILED
    assert task_run.exit_code == 137
    assert "killed: out of memory, limit 256 MB" in task_run.error
    assert task_run.error in messages(execution)


def test_a_tasks_own_memory_limit_is_the_one_its_oom_kill_names(bob):
    runner = (
        "taskRunner:\n      type: io.kestra.plugin.scripts.runner.docker.Docker\n"
        "      memory:\n        memory: 96MB"
    )
    execution = run_here(bobs_flow(HOG.format(runner=runner), flow_id="hog"), user=bob)

    assert execution.state == State.FAILED
    assert "killed: out of memory, limit 96 MB" in execution.task_runs.get().error


def test_a_task_killed_by_itself_is_not_said_to_be_out_of_memory(bob):
    flow = bobs_flow(
        """\
          - id: suicide
            type: io.kestra.plugin.scripts.shell.Commands
            containerImage: python:3.11-slim
            commands:
              - sh -c 'kill -9 $$'
        """,
        flow_id="suicide",
    )
    execution = run_here(flow, user=bob)

    assert execution.state == State.FAILED
    assert execution.task_runs.get().error == "Command failed with exit code 137"


PACKAGE = """\
[build-system]
requires = ["setuptools"]
build-backend = "setuptools.build_meta"

[project]
name = "hello-flowsite"
version = "0.1"
"""


def test_apt_and_pip_still_install_packages_with_the_capabilities_left(bob):
    """What the examples and most Kestra flows do first: install from Debian and PyPI,
    and from a local sdist and wheel. dpkg keeps the setgid bits it installs."""
    flow = bobs_flow(
        f"""\
          - id: install
            type: io.kestra.plugin.scripts.python.Commands
            containerImage: python:3.11-slim
            warningOnStdErr: false
            timeout: PT5M
            inputFiles:
              hello_flowsite-0.1/pyproject.toml: |
{_indent(PACKAGE, 16)}
              hello_flowsite-0.1/hello_flowsite/__init__.py: GREETING = "hello from a wheel"
            commands:
              - apt-get update -qq
              - DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends jq liblockfile-bin > /dev/null
              - echo '["jq"]' | jq -r '.[0]'
              - stat -c '%A %G' /usr/bin/dotlockfile
              - tar -czf hello_flowsite-0.1.tar.gz hello_flowsite-0.1
              - pip install -q ./hello_flowsite-0.1.tar.gz
              - python -c "import hello_flowsite; print('sdist', hello_flowsite.GREETING)"
              - pip uninstall -y -q hello-flowsite
              - pip wheel -q -w wheels ./hello_flowsite-0.1.tar.gz
              - pip install -q wheels/hello_flowsite-0.1-py3-none-any.whl
              - python -c "import hello_flowsite; print('wheel', hello_flowsite.GREETING)"
        """,
        flow_id="install",
    )
    execution = run_here(flow, user=bob)

    assert execution.state == State.SUCCESS, messages(execution)
    assert messages(execution, "stdout") == [
        "jq",
        "-rwxr-sr-x mail",
        "sdist hello from a wheel",
        "wheel hello from a wheel",
    ]
    assert not [line for line in messages(execution, "stderr") if line.startswith(("W:", "E:"))]


def _indent(text: str, spaces: int) -> str:
    return "".join(" " * spaces + line + "\n" for line in text.splitlines()).rstrip("\n")


class KeptLines:
    """A LineSink that keeps what the runner says, for tests that drive a runner alone."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def line(self, stream: str, text: str, level: str | None = None) -> None:
        self.lines.append(text)

    def system(self, text: str, level: str = "INFO") -> None:
        self.lines.append(text)

    def flush_if_due(self) -> None: ...

    def flush(self) -> None: ...


def sleeping_task(task_run_id: str) -> RunSpec:
    return RunSpec(
        execution_id="two-installations",
        task_run_id=task_run_id,
        task_id="sleep",
        commands=["sleep 300"],
        image="python:3.11-slim",
    )


def test_the_cleanup_of_one_installation_leaves_another_installations_containers_running(
    settings,
):
    ours, other = settings.FLOWSITE_INSTALLATION_ID, f"other-{uuid.uuid4().hex[:12]}"
    theirs_id, ours_id = f"theirs-{uuid.uuid4().hex}", f"ours-{uuid.uuid4().hex}"
    handles: list[DockerHandle] = []
    try:
        # The other installation starts a task container just as it would: same labels,
        # its own id.
        settings.FLOWSITE_INSTALLATION_ID = other
        handles.append(theirs := DockerRunner().start(sleeping_task(theirs_id), KeptLines()))
        settings.FLOWSITE_INSTALLATION_ID = ours
        handles.append(mine := DockerRunner().start(sleeping_task(ours_id), KeptLines()))

        # Neither task run is running in this installation's database.
        reaped = containers_reap_orphans(
            is_running=lambda pk: pk not in {theirs_id, ours_id}, older_than=0
        )

        assert reaped >= 1
        with pytest.raises(NotFound):
            mine.container.reload()  # this installation's orphan went
        theirs.container.reload()
        assert theirs.container.status == "running"
        assert theirs.container.labels[INSTALLATION_LABEL] == other
        assert theirs.container.labels["flowsite.taskrun"] == theirs_id
    finally:
        for handle in handles:
            handle.cleanup()
