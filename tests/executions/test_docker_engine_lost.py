"""A Docker engine lost mid-run, or unreachable, fails the task with an error that names
Docker and the engine's address; once the engine is back, runs succeed again.

The engine killed here is one this test starts itself (tests/own_engine.py), loaded
with an image from the machine's engine. The machine's engine is only read from.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from executions.lifecycle import execution_start
from executions.models import State
from tests.conftest import start_worker, wait_until
from tests.executions.test_flow_control import flow
from tests.executions.test_lost_workers import in_container, started_line
from tests.flows_helpers import finished, messages, save_flow
from tests.own_engine import OwnEngine, own_engine_running

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.docker]

IMAGE = "python:3.11-slim"


@pytest.fixture(scope="module")
def own_engine(docker_engine: Any) -> Iterator[OwnEngine]:
    with own_engine_running(IMAGE, tools=("dockerd", "unshare")) as engine:
        yield engine


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
