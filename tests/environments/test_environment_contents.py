"""What runs find in an environment: its modules compiled once, at its build, and never a
volume of its name that holds nothing of it."""

from __future__ import annotations

import docker
import pytest

from environments.models import PythonEnvironment
from executions.models import State
from tests.environments.test_python_environments import (  # noqa: F401 - the fixture applies here too
    CONTAINER,
    RUNNERS,
    built,
    environments_removed_after,
    python_flow,
)
from tests.flows_helpers import messages, run_here, save_flow

pytestmark = pytest.mark.django_db(transaction=True)

COMPILED = (
    "import importlib.util, os, colorama; "
    "print('compiled', os.path.exists(importlib.util.cache_from_source(colorama.__file__)))"
)


@pytest.mark.parametrize("runner", RUNNERS)
def test_the_environment_holds_its_bytecode_so_runs_do_not_compile_it_again(
    runner: str, request: pytest.FixtureRequest
) -> None:
    """Runs see the environment read-only: Python could not cache what it compiles there,
    and importing pandas took a second where its bytecode takes 0.3 s."""
    if runner == CONTAINER:
        request.getfixturevalue("docker_engine")
    flow = save_flow(
        python_flow(runner, "    dependencies: [colorama==0.4.6]\n", COMPILED, flow_id="pyc")
    )
    for _ in range(2):
        execution = run_here(flow)
        assert execution.state == State.SUCCESS, messages(execution)
        assert "compiled True" in messages(execution)


@pytest.mark.docker
def test_a_volume_docker_recreated_empty_is_not_mounted_but_built_again(
    docker_engine: object,
) -> None:
    flow = save_flow(
        python_flow(CONTAINER, "    dependencies: [six==1.16.0]\n", "import six", flow_id="empty")
    )
    assert run_here(flow).state == State.SUCCESS
    [old] = PythonEnvironment.objects.all()
    client = docker.from_env()
    name = f"flowsite-pyenv-{old.key}"
    client.volumes.get(name).remove()
    client.volumes.create(name)  # as a container mounting the missing volume makes it
    again = run_here(flow)
    assert again.state == State.SUCCESS, messages(again)
    assert built(again)
    assert name not in {v.name for v in client.volumes.list()}
