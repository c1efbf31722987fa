"""The flow's task tree as the editor's topology draws it, read from YAML being typed.

The outline is read from the YAML itself, not from a validated flow: half-written flows
are invalid most of the time, and the drawing must still follow the typing. Where a task
type is known, its model says which properties hold child tasks; where it is not (yet),
any property that could hold them does.
"""

from __future__ import annotations

from typing import Any

from .language.source import ParsedSource, Path, format_path, parse_yaml
from .language.tasks import TASK_MODELS, TASK_TYPES, BaseTask

# How the topology lays a flowable task's children out, as Kestra's topology does: each
# flowable model names its layout (tasks-side-by-side: each child in its own column;
# branches-side-by-side: each branch in its own column), else they stack.
STACKED = "stacked"

FLOW_SECTIONS = ("errors", "finally")


def _yaml_key(model: type[BaseTask], attribute: str) -> str:
    field = model.model_fields[attribute]
    return field.alias or attribute


def _child_keys(model: type[BaseTask]) -> tuple[str, ...]:
    keys = tuple(_yaml_key(model, attribute) for attribute in model.child_properties)
    # A Dag holds its tasks under `tasks[].task`, so it names them in no child property.
    if model.flowable and "tasks" in model.model_fields and "tasks" not in keys:
        keys = ("tasks", *keys)
    return keys


# Every YAML key that holds child tasks in some flowable task, in the order drawn.
ANY_CHILD_KEYS: tuple[str, ...] = tuple(
    dict.fromkeys(key for model in TASK_MODELS for key in _child_keys(model))
)


def flow_outline(source: str) -> dict[str, list[dict[str, Any]]]:
    """The flow's ``tasks`` and its ``sections`` (errors, finally), each task with its
    id, type, line, column and path, and a flowable task with its ``branches``. Empty
    where the YAML cannot be read: its error says why."""
    try:
        parsed = parse_yaml(source)
    except Exception:  # unreadable YAML has no outline
        return {"tasks": [], "sections": []}
    if not isinstance(parsed.data, dict):
        return {"tasks": [], "sections": []}
    sections = [
        {"label": key, "tasks": _tasks(parsed, parsed.data.get(key), (key,))}
        for key in FLOW_SECTIONS
    ]
    return {
        "tasks": _tasks(parsed, parsed.data.get("tasks"), ("tasks",)),
        "sections": [section for section in sections if section["tasks"]],
    }


def _tasks(parsed: ParsedSource, tasks: Any, path: Path) -> list[dict[str, Any]]:
    if not isinstance(tasks, list):
        return []
    return [
        _task(parsed, task["task"], (*path, index, "task"))
        if isinstance(task.get("task"), dict) and "id" not in task  # a Dag's {task, dependsOn}
        else _task(parsed, task, (*path, index))
        for index, task in enumerate(tasks)
        if isinstance(task, dict)
    ]


def _task(parsed: ParsedSource, task: dict[str, Any], path: Path) -> dict[str, Any]:
    position = parsed.position(path)
    entry: dict[str, Any] = {
        "id": str(task.get("id", "")),
        "type": str(task.get("type", "")),
        "line": position.line,
        "column": position.column,
        "path": format_path(path),
    }
    model = TASK_TYPES.get(entry["type"])
    if model is not None and not model.flowable:
        return entry
    branches = _branches(parsed, task, path, _child_keys(model) if model else ANY_CHILD_KEYS)
    if branches or model is not None:
        entry["layout"] = _layout(model)
        entry["branches"] = branches
    return entry


def _branches(
    parsed: ParsedSource, task: dict[str, Any], path: Path, keys: tuple[str, ...]
) -> list[dict[str, Any]]:
    """One branch per list of child tasks, labelled with its key; a Switch's ``cases``
    give one branch per case, labelled with the case's value."""
    branches = []
    for key in keys:
        value = task.get(key)
        if isinstance(value, dict):
            for case, tasks in value.items():
                label = _case_text(case)
                case_path = (*path, key, label)
                branches.append({"label": label, "tasks": _tasks(parsed, tasks, case_path)})
        elif isinstance(value, list):
            branches.append({"label": key, "tasks": _tasks(parsed, value, (*path, key))})
    return branches


def _case_text(case: Any) -> str:
    # As YAML wrote it: a case `true:` is "true", not Python's "True".
    if isinstance(case, bool):
        return "true" if case else "false"
    return str(case)


def _layout(model: type[BaseTask] | None) -> str:
    """As the task's model lays its children out; a loop's values are not known here, so
    its children stack."""
    layout = getattr(model, "layout", STACKED)
    return STACKED if layout == "loop" else layout
