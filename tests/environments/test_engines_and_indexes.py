"""Python environments are their engine's and their index's: a second Docker engine
builds its own, and an environment built from one package index is not used by runs
that install from another.

The packages come from an index of the test's own (FLOWSITE_PYTHON_INDEX_URL): six's
wheel, downloaded from PyPI through the machine's proxy, served on a loopback that the
containers share (FLOWSITE_CONTAINER_NETWORK=host): the machine's, or that of the second
engine's network namespace, whose containers reach nothing else (tests/own_engine.py).
"""

from __future__ import annotations

import hashlib
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docker
import pytest

from environments.models import PythonEnvironment
from executions.models import State
from executions.runners.engine import docker_client, engine_address
from tests.conftest import wait_until
from tests.environments.test_python_environments import (
    CONTAINER,
    IMAGE,
    built,
    installer_ran,
    own_volumes,
    python_flow,
    reused,
)
from tests.flows_helpers import messages, run_here, save_flow
from tests.own_engine import OwnEngine, own_engine_running

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.docker]

SIX = "    dependencies: [six==1.16.0]\n"
PRINT_SIX = "import six; print('six', six.__version__)"


@pytest.fixture(autouse=True)
def environments_removed_after(docker_engine: docker.DockerClient) -> Iterator[None]:
    """The machine engine's environment volumes that this test made, and no others."""
    before = {volume.name for volume in own_volumes(docker_engine)}
    yield
    for volume in own_volumes(docker_engine):
        if volume.name not in before:
            volume.remove(force=True)


@pytest.fixture
def docker_host(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], None]]:
    """Points this process's runs at another engine, as DOCKER_HOST would a worker's."""

    def point(address: str) -> None:
        monkeypatch.setenv("DOCKER_HOST", address)
        docker_client.cache_clear()

    yield point
    monkeypatch.undo()
    docker_client.cache_clear()


@pytest.fixture
def second_engine() -> Iterator[OwnEngine]:
    with own_engine_running(IMAGE, tools=("dockerd", "unshare", "nsenter")) as engine:
        yield engine


@pytest.fixture
def index_root(tmp_path: Path) -> Path:
    """A PEP 503 simple index holding six 1.16.0's wheel, from PyPI."""
    wheels = tmp_path / "wheels"
    pip = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:"]
    subprocess.run([*pip, "-d", str(wheels), "six==1.16.0"], check=True, timeout=120)
    [wheel] = wheels.glob("six-1.16.0-*.whl")
    project = tmp_path / "index" / "simple" / "six"
    project.mkdir(parents=True)
    shutil.copy(wheel, project / wheel.name)
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    (project / "index.html").write_text(
        f'<html><body><a href="{wheel.name}#sha256={digest}">{wheel.name}</a></body></html>\n'
    )
    (project.parent / "index.html").write_text('<html><body><a href="six/">six</a></body></html>\n')
    return tmp_path / "index"


class Index:
    """``python -m http.server`` serving an index on 127.0.0.1 of a network namespace."""

    def __init__(self, root: Path, *, port: int, namespace: str = "") -> None:
        self.enter = ["nsenter", f"--net={namespace}"] if namespace else []
        self.url = f"http://127.0.0.1:{port}/simple"
        self.log = root.parent / f"index-{port}{'-engine' if namespace else ''}.log"
        if namespace:  # a new namespace's loopback starts down
            subprocess.run([*self.enter, "ip", "link", "set", "lo", "up"], check=True)
        server = [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port)]
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [*self.enter, *server, "--directory", str(root)], stdout=log, stderr=log
            )
        wait_until(self.answers, timeout=30, what=f"the package index at {self.url}")

    def answers(self) -> bool:
        fetch = f"import urllib.request; urllib.request.urlopen('{self.url}/', timeout=5)"
        probe = subprocess.run([*self.enter, sys.executable, "-c", fetch], capture_output=True)
        return probe.returncode == 0

    def requests(self) -> int:
        """How many requests for six's page it served."""
        return self.log.read_text().count("GET /simple/six/")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def machine_index(index_root: Path) -> Iterator[Index]:
    index = Index(index_root, port=free_port())
    yield index
    index.stop()


def test_a_second_docker_engine_builds_and_keeps_an_environment_of_its_own(
    second_engine: OwnEngine,
    machine_index: Index,
    index_root: Path,
    docker_host: Callable[[str], None],
    docker_engine: docker.DockerClient,
    settings: Any,
) -> None:
    # The same index at the same address on both engines: only the engine differs.
    port = int(machine_index.url.split(":")[2].split("/")[0])
    engines_index = Index(index_root, port=port, namespace=second_engine.network_namespace)
    settings.FLOWSITE_CONTAINER_NETWORK = "host"
    settings.FLOWSITE_PYTHON_INDEX_URL = machine_index.url
    flow = save_flow(python_flow(CONTAINER, SIX, PRINT_SIX, flow_id="two-engines"))
    machine = engine_address()
    try:
        on_the_machine = run_here(flow)
        docker_host(second_engine.address)
        first = run_here(flow)
        second = run_here(flow)
        docker_host(machine)
        back_on_the_machine = run_here(flow)
    finally:
        engines_index.stop()

    assert on_the_machine.state == State.SUCCESS, messages(on_the_machine)
    assert built(on_the_machine)
    assert first.state == State.SUCCESS, messages(first)
    assert built(first) and installer_ran(first) and "six 1.16.0" in messages(first)
    assert engines_index.requests() >= 1  # the second engine's containers installed from it
    assert second.state == State.SUCCESS, messages(second)
    assert reused(second) and not built(second) and "six 1.16.0" in messages(second)
    assert back_on_the_machine.state == State.SUCCESS, messages(back_on_the_machine)
    assert reused(back_on_the_machine) and not built(back_on_the_machine)

    engine_env = PythonEnvironment.objects.get(place_label=second_engine.address)
    machine_env = PythonEnvironment.objects.get(place_label=machine)
    assert engine_env.place != machine_env.place
    assert (machine_env.runs_served, engine_env.runs_served) == (2, 2)
    assert machine_env.state == engine_env.state == PythonEnvironment.State.READY
    volumes = second_engine.docker("volume", "ls", "-q", "--filter", "label=flowsite.pyenv")
    assert volumes.stdout.decode().split() == [f"flowsite-pyenv-{engine_env.key}"]
    docker_engine.volumes.get(f"flowsite-pyenv-{machine_env.key}")  # still there
    with pytest.raises(docker.errors.NotFound):
        docker_engine.volumes.get(f"flowsite-pyenv-{engine_env.key}")


def test_an_environment_built_from_another_index_is_not_used(
    machine_index: Index, settings: Any
) -> None:
    settings.FLOWSITE_CONTAINER_NETWORK = "host"  # the containers reach the index on lo
    flow = save_flow(python_flow(CONTAINER, SIX, PRINT_SIX, flow_id="indexes"))
    from_pypi = run_here(flow)
    assert from_pypi.state == State.SUCCESS, messages(from_pypi)
    assert built(from_pypi) and machine_index.requests() == 0

    settings.FLOWSITE_PYTHON_INDEX_URL = machine_index.url
    from_index = run_here(flow)
    assert from_index.state == State.SUCCESS, messages(from_index)
    assert built(from_index) and not reused(from_index)
    assert machine_index.requests() >= 1
    assert "six 1.16.0" in messages(from_index)

    settings.FLOWSITE_PYTHON_INDEX_URL = ""
    pypi_again = run_here(flow)
    assert reused(pypi_again) and not built(pypi_again)
    assert PythonEnvironment.objects.count() == 2


def test_pip_builds_from_the_index_too(machine_index: Index, settings: Any) -> None:
    settings.FLOWSITE_CONTAINER_NETWORK = "host"
    settings.FLOWSITE_PYTHON_INDEX_URL = machine_index.url
    with_pip = f"{SIX}    packageManager: PIP\n"
    execution = run_here(save_flow(python_flow(CONTAINER, with_pip, PRINT_SIX, flow_id="pip")))
    assert execution.state == State.SUCCESS, messages(execution)
    assert "Installing with pip into a new environment" in messages(execution)
    assert machine_index.requests() >= 1 and "six 1.16.0" in messages(execution)


def test_dependencies_installed_on_every_run_come_from_the_index_too(
    machine_index: Index, settings: Any
) -> None:
    settings.FLOWSITE_CONTAINER_NETWORK = "host"
    settings.FLOWSITE_PYTHON_INDEX_URL = machine_index.url
    every_run = f"{SIX}    dependencyCacheEnabled: false\n"
    flow = python_flow(CONTAINER, every_run, PRINT_SIX, flow_id="every-run")
    execution = run_here(save_flow(flow))
    assert execution.state == State.SUCCESS, messages(execution)
    assert machine_index.requests() >= 1 and "six 1.16.0" in messages(execution)
    assert not built(execution) and not PythonEnvironment.objects.exists()
