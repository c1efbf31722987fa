"""The Process runner's privilege, checked when a flow is saved or checked: a flow of a
namespace that may not use it (namespaces/process_runner.py) is refused, each task that
asks for it located in the YAML."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from namespaces.process_runner import process_runner_allowed, process_runner_refusal

from .language import FlowDefinition, FlowError, FlowInvalid
from .language.flow import tasks_walk
from .language.source import Path, format_path, parse_yaml
from .language.tasks import ScriptTask
from .language.tasks.scripts import PROCESS_RUNNER_TYPES


def process_runner_errors(definition: FlowDefinition, source: str) -> list[FlowError]:
    """One located error per task asking for the Process runner where it is not allowed."""
    tasks = tasks_walk(definition.tasks + definition.errors + definition.finally_)
    asking = {t.id for t in tasks if isinstance(t, ScriptTask) and t.uses_process_runner}
    if not asking or process_runner_allowed(definition.namespace):
        return []
    parsed = parse_yaml(source)  # parse_flow read it already: it cannot fail here
    errors = []
    for task_id, path in _process_runner_paths(parsed.data, ()):
        if task_id in asking:
            position = parsed.position(path)
            message = f"Task '{task_id}': {process_runner_refusal(definition.namespace)}"
            errors.append(FlowError(message, position.line, position.column, format_path(path)))
    return errors or [FlowError(process_runner_refusal(definition.namespace), 1, 1)]


def process_runner_check(definition: FlowDefinition, source: str) -> None:
    if errors := process_runner_errors(definition, source):
        raise FlowInvalid(errors)


def _process_runner_paths(data: Any, path: Path) -> Iterator[tuple[str, Path]]:
    """(task id, path of the value that asks for the Process runner) in the YAML."""
    if isinstance(data, list):
        for index, item in enumerate(data):
            yield from _process_runner_paths(item, (*path, index))
        return
    if not isinstance(data, dict):
        return
    runner = data.get("taskRunner")
    if isinstance(runner, dict) and runner.get("type") in PROCESS_RUNNER_TYPES:
        yield str(data.get("id")), (*path, "taskRunner", "type")
    elif data.get("runner") == "PROCESS":
        yield str(data.get("id")), (*path, "runner")
    for key, value in data.items():
        yield from _process_runner_paths(value, (*path, key))
