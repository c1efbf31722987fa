"""The flows the benchmark runs, saved in its own namespace."""

from __future__ import annotations

from dataclasses import dataclass

import yaml

from flows.models import Flow

from .environment import NAMESPACE, ROOT

PROCESS_RUNNER = "io.kestra.plugin.core.runner.Process"
FIBO_SCRIPT = """\
def fibo(n):
    return n if n <= 1 else fibo(n - 1) + fibo(n - 2)


print(fibo(10))
"""
DEPENDENCIES = ("requests", "pandas")
DEPENDENCIES_SCRIPT = """\
import pandas
import requests

print("pandas", pandas.__version__, "requests", requests.__version__)
"""
PARALLEL_BRANCHES = 4  # one per worker process of a default cluster (FLOWSITE_WORKERS)
EXTRA_TASKS = 4  # the many-task flow of cheap tasks has 1 + EXTRA_TASKS


def _example_source(flow_id: str, *, process: bool, example: str = "hello-world") -> str:
    """One of the article's flows as it is, the Process runner added if asked for."""
    flow = yaml.safe_load((ROOT / "flows" / "examples" / f"{example}.yml").read_text())
    flow["id"] = flow_id
    flow["namespace"] = NAMESPACE
    if process:
        for task in flow["tasks"]:
            task["taskRunner"] = {"type": PROCESS_RUNNER}
    return yaml.safe_dump(flow, sort_keys=False)


def _dependencies_source(flow_id: str, *, process: bool) -> str:
    """A task with real dependencies: Kestra's ``dependencies`` property."""
    task: dict[str, object] = {
        "id": "versions",
        "type": "io.kestra.plugin.scripts.python.Script",
        "dependencies": list(DEPENDENCIES),
        "script": DEPENDENCIES_SCRIPT,
    }
    if process:
        task["taskRunner"] = {"type": PROCESS_RUNNER}
    flow = {"id": flow_id, "namespace": NAMESPACE, "tasks": [task]}
    return yaml.safe_dump(flow, sort_keys=False)


def _windmill_source(tasks: int) -> str:
    flow = {
        "id": "windmill-fibo",
        "namespace": NAMESPACE,
        "description": f"Windmill's benchmark: {tasks} sequential Python tasks, each fibo(10)",
        "tasks": [
            {
                "id": f"fibo-{n:02d}",
                "type": "io.kestra.plugin.scripts.python.Script",
                "taskRunner": {"type": PROCESS_RUNNER},
                "script": FIBO_SCRIPT,
            }
            for n in range(1, tasks + 1)
        ],
    }
    return yaml.safe_dump(flow, sort_keys=False)


def _parallel_source() -> str:
    flow = {
        "id": "parallel-sleeps",
        "namespace": NAMESPACE,
        "description": f"A Parallel of {PARALLEL_BRANCHES} one-second sleeps",
        "tasks": [
            {
                "id": "fan-out",
                "type": "io.kestra.plugin.core.flow.Parallel",
                "tasks": [
                    {
                        "id": f"sleep-{n}",
                        "type": "io.kestra.plugin.scripts.shell.Commands",
                        "taskRunner": {"type": PROCESS_RUNNER},
                        "commands": ["sleep 1"],
                    }
                    for n in range(PARALLEL_BRANCHES)
                ],
            }
        ],
    }
    return yaml.safe_dump(flow, sort_keys=False)


def _logs_source(flow_id: str, tasks: int) -> str:
    """Tasks that cost next to nothing themselves: what is measured is Flowsite."""
    flow = {
        "id": flow_id,
        "namespace": NAMESPACE,
        "description": f"{tasks} Log task(s), run in the worker itself",
        "tasks": [
            {"id": f"log-{n}", "type": "io.kestra.plugin.core.log.Log", "message": f"step {n}"}
            for n in range(1, tasks + 1)
        ],
    }
    return yaml.safe_dump(flow, sort_keys=False)


@dataclass
class Flows:
    process: Flow
    docker: Flow
    windmill: Flow
    parallel: Flow
    one_log: Flow
    many_logs: Flow
    colored_process: Flow  # the article's hello-world-colored: pip install colorama
    colored_docker: Flow
    dependencies_process: Flow  # dependencies: [requests, pandas]
    dependencies_docker: Flow


def flows_save(windmill_tasks: int) -> Flows:
    return Flows(
        process=Flow.save_source(_example_source("hello-world-process", process=True)),
        docker=Flow.save_source(_example_source("hello-world-docker", process=False)),
        windmill=Flow.save_source(_windmill_source(windmill_tasks)),
        parallel=Flow.save_source(_parallel_source()),
        one_log=Flow.save_source(_logs_source("one-log", 1)),
        many_logs=Flow.save_source(_logs_source("many-logs", 1 + EXTRA_TASKS)),
        colored_process=Flow.save_source(
            _example_source("colored-process", process=True, example="hello-world-colored")
        ),
        colored_docker=Flow.save_source(
            _example_source("colored-docker", process=False, example="hello-world-colored")
        ),
        dependencies_process=Flow.save_source(
            _dependencies_source("dependencies-process", process=True)
        ),
        dependencies_docker=Flow.save_source(
            _dependencies_source("dependencies-docker", process=False)
        ),
    )
