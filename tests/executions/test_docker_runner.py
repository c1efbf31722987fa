"""Runs in real containers on the Docker engine, driven by the real worker job."""

from __future__ import annotations

import contextlib
import importlib.util
from pathlib import Path

import pytest

from executions.models import State
from executions.runners.engine import docker_client, engine_address
from flows.models import Flow
from tests.flows_helpers import flow_yaml, messages, run_here, save_flow

EXAMPLES = Path(__file__).resolve().parents[2] / "flows" / "examples"

pytestmark = [pytest.mark.django_db, pytest.mark.docker]


@pytest.fixture(autouse=True)
def engine(docker_engine):
    return docker_engine


def containers_of(client, execution_id: str) -> list:
    return client.containers.list(all=True, filters={"label": f"flowsite.execution={execution_id}"})


def example(name: str) -> Flow:
    return Flow.save_source((EXAMPLES / f"{name}.yml").read_text())


def test_hello_world_prints_hello_world_in_a_container(engine) -> None:
    execution = run_here(example("hello-world"))
    assert execution.state == State.SUCCESS
    assert messages(execution) == ["Hello World"]
    assert containers_of(engine, execution.pk) == []  # removed when done


def test_hello_world_colored_installs_colorama_in_its_container_only() -> None:
    execution = run_here(example("hello-world-colored"))
    assert execution.state == State.SUCCESS, messages(execution)
    assert "\x1b[31mHello World in red text" in messages(execution, "stdout")
    assert importlib.util.find_spec("colorama") is None  # the server's environment is untouched


def test_hello_world_legacy_runs_under_python_2_7_from_its_docker_image() -> None:
    execution = run_here(example("hello-world-legacy"))
    assert execution.state == State.SUCCESS
    assert messages(execution) == ["Hello World"]
    version = flow_yaml(
        "  - id: v\n    type: python.Commands\n    docker:\n"
        "      image: docker.io/python:2.7.18-slim-stretch\n"
        "    commands:\n      - python -c 'import sys; print(sys.version_info[:2])'\n",
        flow_id="legacy-version",
    )
    assert messages(run_here(save_flow(version))) == ["(2, 7)"]


def test_pull_policy_never_with_a_missing_image_fails_with_a_clear_message() -> None:
    source = flow_yaml(
        "  - id: t\n    type: shell.Commands\n    containerImage: flowsite-absent:1\n"
        "    taskRunner:\n      type: io.kestra.plugin.scripts.runner.docker.Docker\n"
        "      pullPolicy: NEVER\n    commands: [echo hi]\n"
    )
    execution = run_here(save_flow(source))
    assert execution.state == State.FAILED
    expected = (
        "Image 'flowsite-absent:1' is not on the Docker engine at "
        f"{engine_address()} and pullPolicy is NEVER"
    )
    assert execution.task_runs.get().error == expected
    assert expected in messages(execution)


def test_an_image_that_cannot_be_pulled_fails_the_task_with_the_reason() -> None:
    source = flow_yaml(
        "  - id: t\n    type: shell.Commands\n    containerImage: flowsite-absent:2\n"
        "    commands: [echo hi]\n"
    )
    execution = run_here(save_flow(source))
    assert execution.state == State.FAILED
    assert execution.task_runs.get().error.startswith(
        f"Image 'flowsite-absent:2' is not on the Docker engine at {engine_address()} "
        "and could not be pulled: "
    )


def test_a_non_zero_exit_in_a_container_fails_the_execution() -> None:
    source = flow_yaml(
        "  - id: t\n    type: python.Script\n    script: |\n      import sys\n      sys.exit(4)\n"
    )
    execution = run_here(save_flow(source))
    assert execution.state == State.FAILED
    assert execution.task_runs.get().exit_code == 4


def test_stderr_in_a_container_gives_warning_and_streams_stay_apart() -> None:
    source = flow_yaml(
        "  - id: t\n    type: python.Script\n    script: |\n      import sys\n"
        "      print('to out')\n      print('to err', file=sys.stderr)\n"
    )
    execution = run_here(save_flow(source))
    assert execution.state == State.WARNING
    assert messages(execution, "stdout") == ["to out"]
    assert messages(execution, "stderr") == ["to err"]


def test_the_container_gets_limits_unbuffered_python_env_and_outputs() -> None:
    source = flow_yaml(
        """\
          - id: t
            type: io.kestra.plugin.scripts.shell.Commands
            containerImage: python:3.11-slim
            env:
              GREETING: hi
            taskRunner:
              type: io.kestra.plugin.scripts.runner.docker.Docker
              memory:
                memory: 64MB
              cpu:
                cpus: 0.5
            commands:
              - cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes
              - cat /sys/fs/cgroup/cpu.max 2>/dev/null || cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us
              - echo "$PYTHONUNBUFFERED $GREETING $WORKING_DIR"
              - echo '::{"outputs":{"done":true}}::'
        """
    )
    execution = run_here(save_flow(source))
    memory, cpu, env = messages(execution)
    assert int(memory) == 64 * 1024 * 1024
    assert cpu.split()[0] == "50000"  # half of the 100000 µs period
    assert env == "1 hi /flowsite"
    assert execution.task_runs.get().outputs == {"exitCode": 0, "vars": {"done": True}}


def test_a_large_script_goes_in_through_the_docker_api_and_runs() -> None:
    padding = "\n".join(f"# padding line {i:05d} {'x' * 60}" for i in range(1500))
    source = flow_yaml(
        "  - id: big\n    type: python.Script\n    script: |\n"
        + "".join(f"      {line}\n" for line in padding.splitlines())
        + "      print('big script ran')\n",
        flow_id="big-script",
    )
    assert len(source) > 64 * 1024  # past what fits in the container's command line
    execution = run_here(save_flow(source))
    assert execution.state == State.SUCCESS
    assert messages(execution) == ["big script ran"]


def test_the_exit_code_comes_from_the_task_whatever_its_last_output() -> None:
    source = flow_yaml(
        "  - id: t\n    type: shell.Commands\n    containerImage: python:3.11-slim\n"
        "    warningOnStdErr: false\n    commands:\n"
        "      - printf 'no newline at the end' >&2\n      - exit 7\n"
    )
    execution = run_here(save_flow(source))
    assert execution.state == State.FAILED
    assert execution.task_runs.get().exit_code == 7
    assert messages(execution, "stderr") == ["no newline at the end"]


def test_containers_left_by_ended_task_runs_are_reaped(engine) -> None:
    from executions.runners.engine import containers_reap_orphans, installation_labels

    def left_behind(task_run_id: str):
        return engine.containers.run(
            "python:3.11-slim",
            ["sleep", "300"],
            detach=True,
            labels={
                **installation_labels(),
                "flowsite.taskrun": task_run_id,
                "flowsite.execution": "reap-test",
            },
        )

    orphan, alive = left_behind("gone-task-run"), left_behind("running-task-run")
    try:
        reaped = containers_reap_orphans(
            is_running=lambda pk: pk == "running-task-run", older_than=0, execution_id="reap-test"
        )
        assert reaped == 1
        labels = {c.labels["flowsite.taskrun"] for c in engine.containers.list(all=True)}
        assert "gone-task-run" not in labels and "running-task-run" in labels
    finally:
        for container in (orphan, alive):
            with contextlib.suppress(Exception):
                container.remove(force=True)


def test_young_containers_are_left_alone_whatever_their_state(engine) -> None:
    from executions.runners.engine import containers_reap_orphans, installation_labels

    labels = {
        **installation_labels(),
        "flowsite.taskrun": "just-starting",
        "flowsite.execution": "young-test",
    }
    young = engine.containers.create("python:3.11-slim", ["true"], labels=labels)
    try:
        reaped = containers_reap_orphans(
            is_running=lambda pk: False, older_than=600, execution_id="young-test"
        )
        assert reaped == 0
    finally:
        young.remove(force=True)


def test_an_engine_refusal_names_docker_its_address_and_its_reason() -> None:
    source = flow_yaml(
        "  - id: t\n    type: shell.Commands\n    containerImage: Flowsite/UPPER:1\n"
        "    commands: [echo hi]\n"
    )
    execution = run_here(save_flow(source))
    assert execution.state == State.FAILED
    error = execution.task_runs.get().error
    assert error.startswith(
        f"Docker engine at {engine_address()} could not look up image 'Flowsite/UPPER:1': "
    )
    assert "must be lowercase" in error
    assert error in messages(execution)


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("unix:///tmp/flowsite-absent.sock", "No such file or directory"),
        ("tcp://127.0.0.1:1", "Connection refused"),
    ],
)
def test_an_engine_that_does_not_answer_is_named_with_its_address(
    monkeypatch, address: str, reason: str
) -> None:
    monkeypatch.setenv("DOCKER_HOST", address)
    docker_client.cache_clear()
    try:
        execution = run_here(
            save_flow(flow_yaml("  - id: t\n    type: shell.Commands\n    commands: [echo hi]\n"))
        )
    finally:
        docker_client.cache_clear()  # the next test talks to the machine's engine again
    assert execution.state == State.FAILED
    error = execution.task_runs.get().error
    assert error.startswith(f"Docker engine at {address} is unreachable: {reason}. ")
    assert "ConnectionError" not in error and "Errno" not in error


def test_containers_join_the_network_the_setting_names(settings) -> None:
    flow = save_flow(
        flow_yaml(
            "  - id: net\n    type: io.kestra.plugin.scripts.shell.Commands\n"
            "    containerImage: python:3.11-slim\n"
            "    commands:\n      - ls /sys/class/net\n",
            flow_id="network",
        )
    )
    bridged = run_here(flow)
    assert bridged.state == State.SUCCESS, messages(bridged)
    assert "eth0" in messages(bridged, "stdout")  # the engine's default: its bridge

    settings.FLOWSITE_CONTAINER_NETWORK = "none"
    cut_off = run_here(flow)
    assert cut_off.state == State.SUCCESS, messages(cut_off)
    assert messages(cut_off, "stdout") == ["lo"]
