"""Python environments built once and reused: real installs from PyPI through the
machine's proxy, in real containers and Process tasks.

Each test's environments are its own: the database is emptied between tests, and the
volumes and directories they named are removed after each.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
from django.conf import settings
from docker.models.volumes import Volume

from environments.models import PythonEnvironment
from environments.use import environments_sweep
from executions.models import Execution, State
from executions.runners.isolation import host_close
from tests.flows_helpers import PROCESS, flow_yaml, messages, run_here, save_flow

pytestmark = pytest.mark.django_db(transaction=True)

IMAGE = "python:3.11-slim"
CONTAINER = f"    containerImage: {IMAGE}\n"
IN_PROCESS = f"    taskRunner: {{type: {PROCESS}}}\n"


def installation_labels() -> list[str]:
    return ["flowsite.pyenv", f"flowsite.installation={settings.FLOWSITE_INSTALLATION_ID}"]


def own_volumes(client: docker.DockerClient) -> list[Volume]:
    """This installation's environment volumes: not those of others sharing the engine."""
    return list(client.volumes.list(filters={"label": installation_labels()}))


@pytest.fixture(autouse=True)
def environments_removed_after() -> Iterator[None]:
    yield
    try:
        client = docker.from_env()
        for volume in client.volumes.list(filters={"label": installation_labels()}):
            volume.remove(force=True)
    except docker.errors.DockerException:
        pass
    shutil.rmtree(Path(settings.FLOWSITE_PROCESS_DIR) / "pyenvs", ignore_errors=True)


def python_flow(
    runner: str, setup: str, script: str, *, flow_id: str, namespace: str = "dev"
) -> str:
    return flow_yaml(
        f"  - id: py\n    type: io.kestra.plugin.scripts.python.Script\n{runner}{setup}"
        f"    script: |\n      {script}\n",
        flow_id=flow_id,
        namespace=namespace,
    )


def built(execution: Execution) -> bool:
    return any(line.startswith("Building Python environment") for line in messages(execution))


def reused(execution: Execution) -> bool:
    return any(
        line.startswith("Python environment ") and " reused " in line
        for line in messages(execution)
    )


def installer_ran(execution: Execution) -> bool:
    return any(line.startswith("Installing with") for line in messages(execution))


RUNNERS = [
    pytest.param(CONTAINER, marks=pytest.mark.docker, id="docker"),
    pytest.param(IN_PROCESS, id="process"),
]


@pytest.fixture
def runner(request: pytest.FixtureRequest) -> str:
    if request.param == CONTAINER:
        request.getfixturevalue("docker_engine")
    return str(request.param)


@pytest.mark.parametrize("runner", RUNNERS, indirect=True)
def test_the_first_run_installs_and_the_second_reuses_without_installing(runner: str) -> None:
    flow = save_flow(
        python_flow(
            runner,
            "    dependencies: [colorama==0.4.6]\n",
            "import colorama; print('colorama', colorama.__version__)",
            flow_id="reuse",
        )
    )
    first = run_here(flow)
    assert first.state == State.SUCCESS, messages(first)
    assert built(first) and installer_ran(first)
    assert "colorama 0.4.6" in messages(first)

    second = run_here(flow)
    assert second.state == State.SUCCESS, messages(second)
    assert reused(second) and not built(second) and not installer_ran(second)
    assert "colorama 0.4.6" in messages(second)
    [environment] = PythonEnvironment.objects.all()
    assert environment.state == PythonEnvironment.State.READY
    assert environment.packages == ["colorama==0.4.6"]
    assert environment.runs_served == 2
    assert environment.size_bytes > 0
    assert environment.python_version.startswith("3.")


@pytest.mark.parametrize("runner", RUNNERS, indirect=True)
def test_two_first_runs_at_once_build_the_environment_once(runner: str) -> None:
    flow = save_flow(
        python_flow(
            runner,
            "    dependencies: [six==1.16.0]\n",
            "import six; print('six', six.__version__)",
            flow_id="together",
        )
    )
    results: list[Execution] = []
    barrier = threading.Barrier(2)

    def run() -> None:
        barrier.wait()
        results.append(run_here(flow))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert len(results) == 2
    assert all(e.state == State.SUCCESS for e in results), [messages(e) for e in results]
    assert sum(built(e) for e in results) == 1
    assert all("six 1.16.0" in messages(e) for e in results)
    waited_or_reused = [e for e in results if not built(e)]
    assert not installer_ran(waited_or_reused[0])
    assert PythonEnvironment.objects.count() == 1


@pytest.mark.parametrize("runner", RUNNERS, indirect=True)
def test_a_failed_install_fails_the_task_with_the_installers_message_and_keeps_nothing(
    runner: str,
) -> None:
    flow = save_flow(
        python_flow(
            runner,
            "    dependencies: [flowsite-no-such-package-zzq==1.0]\n",
            "print('never runs')",
            flow_id="broken",
        )
    )
    execution = run_here(flow)
    assert execution.state == State.FAILED
    error = execution.task_runs.get().error
    assert error.startswith("Could not install the Python dependencies: ")
    assert "flowsite-no-such-package-zzq" in error
    assert "never runs" not in messages(execution)
    assert not PythonEnvironment.objects.filter(state__in=["READY", "BUILDING"]).exists()
    tried = set(PythonEnvironment.objects.values_list("key", flat=True))
    assert tried and not tried & environment_files(runner)
    # Nothing broken is kept: the next run tries again, and fails the same way.
    again = run_here(flow)
    assert again.state == State.FAILED and built(again)


@pytest.mark.docker
def test_dependency_cache_disabled_installs_on_every_run(docker_engine: object) -> None:
    flow = save_flow(
        python_flow(
            CONTAINER,
            "    dependencies: [colorama==0.4.6]\n    dependencyCacheEnabled: false\n",
            "import colorama; print('imported')",
            flow_id="no-cache",
        )
    )
    for _ in range(2):
        execution = run_here(flow)
        assert execution.state == State.SUCCESS, messages(execution)
        assert not built(execution) and not reused(execution)
        assert any("Installed 1 Python dependency" in line for line in messages(execution))
    assert not PythonEnvironment.objects.exists()


def environment_files(runner: str) -> set[str]:
    """The environments on the engine (volume names) or host (directory names)."""
    if runner == CONTAINER:
        volumes = docker.from_env().volumes.list(filters={"label": installation_labels()})
        return {v.name.removeprefix("flowsite-pyenv-") for v in volumes}
    return {p.name.removesuffix(".build") for p in (host_close() / "pyenvs").iterdir()}


@pytest.mark.parametrize("runner", RUNNERS, indirect=True)
def test_environments_over_the_cap_are_evicted_least_recently_used_first(
    runner: str, settings: object
) -> None:
    settings.FLOWSITE_PYTHON_ENV_CACHE_BYTES = 1  # type: ignore[attr-defined]
    first = run_here(
        save_flow(
            python_flow(runner, "    dependencies: [six==1.16.0]\n", "import six", flow_id="one")
        )
    )
    assert first.state == State.SUCCESS
    [old] = PythonEnvironment.objects.all()
    assert environment_files(runner) == {old.key}
    second = run_here(
        save_flow(
            python_flow(
                runner, "    dependencies: [colorama==0.4.6]\n", "import colorama", flow_id="two"
            )
        )
    )
    assert second.state == State.SUCCESS, messages(second)
    assert f"Python environment {old.key} evicted: over the cache's size cap" in messages(second)
    [kept] = PythonEnvironment.objects.all()
    assert kept.requested == ["colorama==0.4.6"]
    assert environment_files(runner) == {kept.key}


@pytest.mark.docker
def test_a_retired_environment_is_removed_by_the_sweep_and_built_again_when_asked(
    docker_engine: object,
) -> None:
    flow = save_flow(
        python_flow(CONTAINER, "    dependencies: [six==1.16.0]\n", "import six", flow_id="gone")
    )
    assert run_here(flow).state == State.SUCCESS
    [environment] = PythonEnvironment.objects.all()
    environment.state = PythonEnvironment.State.RETIRED
    environment.save()
    assert environments_sweep(environment.place, process=False) == 1
    assert not PythonEnvironment.objects.exists()
    again = run_here(flow)
    assert again.state == State.SUCCESS and built(again)


@pytest.mark.docker
def test_a_volume_removed_behind_flowsites_back_is_built_again(docker_engine: object) -> None:
    flow = save_flow(
        python_flow(CONTAINER, "    dependencies: [six==1.16.0]\n", "import six", flow_id="lost")
    )
    assert run_here(flow).state == State.SUCCESS
    [environment] = PythonEnvironment.objects.all()
    docker.from_env().volumes.get(f"flowsite-pyenv-{environment.key}").remove()
    again = run_here(flow)
    assert again.state == State.SUCCESS, messages(again)
    assert built(again)


def example_source(name: str) -> str:
    return (
        Path(settings.BASE_DIR).parent / "shared" / "seed" / "flows" / f"{name}.yml"
    ).read_text()


@pytest.mark.docker
def test_the_articles_colored_hello_world_installs_colorama_once(docker_engine: object) -> None:
    flow = save_flow(example_source("hello-world-colored"))
    first = run_here(flow)
    assert first.state == State.SUCCESS, messages(first)
    assert built(first)
    second = run_here(flow)
    assert second.state == State.SUCCESS, messages(second)
    assert reused(second) and not installer_ran(second)
    assert "\x1b[31mHello World in red text" in messages(second, "stdout")
    assert not [line for line in messages(second) if "pip" in line.lower()]
    [environment] = PythonEnvironment.objects.all()
    assert environment.requested == ["colorama==0.4.0"]


def test_pip_only_before_commands_of_a_process_task_are_served_from_an_environment() -> None:
    flow = save_flow(
        python_flow(
            IN_PROCESS,
            "    beforeCommands:\n      - pip install colorama==0.4.6\n",
            "import colorama; print('colorama', colorama.__version__)",
            flow_id="process-pip",
        )
    )
    assert built(run_here(flow))
    second = run_here(flow)
    assert second.state == State.SUCCESS and reused(second)
    assert "colorama 0.4.6" in messages(second)


@pytest.mark.docker
def test_before_commands_run_as_written_when_the_setting_opts_out(
    docker_engine: object, settings: object
) -> None:
    settings.FLOWSITE_PIP_COMMANDS_CACHED = False  # type: ignore[attr-defined]
    execution = run_here(save_flow(example_source("hello-world-colored")))
    assert execution.state == State.SUCCESS, messages(execution)
    assert not built(execution) and not reused(execution)
    assert any(
        "colorama" in line for line in messages(execution, "stdout") if "Successfully" in line
    )
    assert not PythonEnvironment.objects.exists()


@pytest.mark.docker
def test_before_commands_that_do_more_than_install_run_as_written(docker_engine: object) -> None:
    flow = save_flow(
        python_flow(
            CONTAINER,
            "    beforeCommands:\n      - pip install -q colorama==0.4.6 && echo installed\n",
            "import colorama; print('imported')",
            flow_id="more-than-pip",
        )
    )
    execution = run_here(flow)
    assert execution.state == State.SUCCESS, messages(execution)
    assert "installed" in messages(execution) and not built(execution)
    assert not PythonEnvironment.objects.exists()


@pytest.mark.docker
def test_unpinned_requirements_are_resolved_again_after_the_ttl(
    docker_engine: object, settings: object
) -> None:
    flow = save_flow(
        python_flow(CONTAINER, "    dependencies: ['six>=1.15']\n", "import six", flow_id="ttl")
    )
    assert built(run_here(flow))
    assert reused(run_here(flow))
    settings.FLOWSITE_PYTHON_ENV_TTL_SECONDS = 0  # type: ignore[attr-defined]
    again = run_here(flow)
    assert again.state == State.SUCCESS and built(again)
    states = sorted(PythonEnvironment.objects.values_list("state", flat=True))
    assert states in (["READY"], ["READY", "RETIRED"])  # the old one's volume: swept


TAMPER = (
    "import os, six\n"
    "      path = six.__file__\n"
    "      try:\n"
    "          open(path, 'a').write('raise SystemExit(3)')\n"
    "          print('changed', path)\n"
    "      except OSError as exc:\n"
    "          print('refused:', exc.strerror)"
)


@pytest.mark.parametrize("runner", RUNNERS, indirect=True)
def test_a_task_cannot_change_the_environment_other_runs_import(runner: str) -> None:
    """A hostile teammate's task shares the environment of the same requirements: it may
    read it, never change what the next run imports."""
    tamper = save_flow(
        python_flow(runner, "    dependencies: [six==1.16.0]\n", TAMPER, flow_id="tamper")
    )
    execution = run_here(tamper)
    assert execution.state == State.SUCCESS, messages(execution)
    out = [line for line in messages(execution) if line.startswith(("refused", "changed"))]
    assert out and out[0].startswith("refused:"), out
    victim = save_flow(
        python_flow(
            runner,
            "    dependencies: [six==1.16.0]\n",
            "import six; print('six works')",
            flow_id="victim",
            namespace="other.team",
        )
    )
    after = run_here(victim)
    assert after.state == State.SUCCESS and reused(after)
    assert "six works" in messages(after)


@pytest.mark.docker
def test_a_missing_image_fails_as_its_pull_policy_says_before_any_environment(
    docker_engine: object,
) -> None:
    source = flow_yaml(
        "  - id: py\n    type: io.kestra.plugin.scripts.python.Script\n"
        "    containerImage: flowsite-absent:1\n"
        "    taskRunner:\n      type: io.kestra.plugin.scripts.runner.docker.Docker\n"
        "      pullPolicy: NEVER\n    dependencies: [six==1.16.0]\n    script: import six\n",
        flow_id="absent-image",
    )
    execution = run_here(save_flow(source))
    assert execution.state == State.FAILED
    assert "is not on the Docker engine" in execution.task_runs.get().error
    assert "pullPolicy is NEVER" in execution.task_runs.get().error
    assert not PythonEnvironment.objects.exists()
