"""Kestra's execution and log endpoints: /api/v1/executions and /api/v1/logs.

The flows their tests start, and shorthands to start, run and kill them."""

from __future__ import annotations

from typing import Any

import pytest

from executions.jobs import run_task_run
from flows.models import Flow
from tests.flows_helpers import PROCESS, flow_yaml

START_HELLO = "/api/v1/executions/dev/hello"

HELLO_YAML = flow_yaml(
    f"""\
    - id: greet
      type: io.kestra.plugin.scripts.shell.Commands
      taskRunner: {{type: {PROCESS}}}
      commands:
        - echo hello
        - sleep 0.2
        - echo oops >&2
    """,
    flow_id="hello",
)

# A log task, then a script that writes to both streams and fails: one line of each level.
NOISY_YAML = flow_yaml(
    f"""\
    - id: announce
      type: io.kestra.plugin.core.log.Log
      message: Starting
      level: DEBUG
    - id: work
      type: io.kestra.plugin.scripts.shell.Commands
      taskRunner: {{type: {PROCESS}}}
      commands:
        - echo one
        - echo two
        - sleep 0.2
        - echo oops >&2
        - sleep 0.2
        - exit 3
    """,
    flow_id="noisy",
)
NOISY_LINES = [
    ("announce", "DEBUG", "system", "Starting"),
    ("work", "INFO", "stdout", "one"),
    ("work", "INFO", "stdout", "two"),
    ("work", "WARN", "stderr", "oops"),
    ("work", "ERROR", "system", "Command failed with exit code 3"),
]

SLEEPY_YAML = flow_yaml(
    f"""\
    - id: nap
      type: io.kestra.plugin.scripts.shell.Commands
      taskRunner: {{type: {PROCESS}}}
      commands:
        - echo started
        - sleep 30
        - echo finished
    """,
    flow_id="sleepy",
)


@pytest.fixture
def hello(alice: Any) -> Flow:
    return Flow.save_source(HELLO_YAML, author=alice)


@pytest.fixture
def noisy(alice: Any) -> Flow:
    return Flow.save_source(NOISY_YAML, author=alice)


def start(api: Any, flow: Flow) -> dict[str, Any]:
    response = api.post(f"/api/v1/executions/{flow.namespace}/{flow.flow_id}")
    assert response.status_code == 200, response.content
    return response.json()


def run_as_worker(execution: dict[str, Any]) -> None:
    """What the worker that picks up the execution's first job does."""
    run_task_run(execution["taskRunList"][0]["id"])


def started_and_run(api: Any, flow: Flow) -> str:
    execution = start(api, flow)
    run_as_worker(execution)
    return execution["id"]


def get_execution(api: Any, execution_id: str) -> dict[str, Any]:
    response = api.get(f"/api/v1/executions/{execution_id}")
    assert response.status_code == 200, response.content
    return response.json()


def kill(api: Any, execution_id: str) -> Any:
    return api.delete(f"/api/v1/executions/{execution_id}/kill")
