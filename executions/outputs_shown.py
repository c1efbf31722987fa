"""What the execution page shows of outputs: each task's folded behind a one-line
preview, its values short as they are or folded when structured."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .presentation import Node, walk


def pretty_json(value: Any) -> str:
    """Outputs and inputs as people read them: indented, accents left as they are."""
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def outputs_by_task(tree: list[Node]) -> list[TaskOutputs]:
    """The task runs that produced outputs, in tree order, each with a one-line preview."""
    return [
        task_outputs(node) for node, _ in walk(tree) if node.run is not None and node.run.outputs
    ]


PREVIEW_CHARS = 120  # the one line a closed task's outputs show
VALUE_CHARS = 24


@dataclass
class OutputItem:
    """One top-level output: a short value shown as it is, or a structure folded."""

    key: str
    text: str  # the value as JSON (indented for a structure)
    folded: bool  # an object or a list, shown in its own <details>
    summary: str  # what the fold shows closed: "{3 keys}", "[12 items]"
    uri: bool  # a kestra:/// file reference


@dataclass
class TaskOutputs:
    node: Node
    items: list[OutputItem]
    preview: str
    json: str


def _short_value(value: Any) -> str:
    if isinstance(value, dict):
        keys = ", ".join(sorted(value)[:3])
        return "{" + keys + (", …" if len(value) > 3 else "") + "}"
    if isinstance(value, list):
        return f"[{len(value)} item{'' if len(value) == 1 else 's'}]"
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= VALUE_CHARS else text[: VALUE_CHARS - 1] + "…"


def _output_item(key: str, value: Any) -> OutputItem:
    if isinstance(value, dict | list):
        size = len(value)
        summary = (
            f"{{{size} key{'' if size == 1 else 's'}}}"
            if isinstance(value, dict)
            else _short_value(value)
        )
        return OutputItem(key, pretty_json(value), True, summary, False)
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return OutputItem(
        key, text, False, "", isinstance(value, str) and value.startswith("kestra:///")
    )


def output_preview(outputs: dict[str, Any]) -> str:
    """One line naming each output, in order of name, and its value when short:
    ``exitCode: 0 · vars: {rows}``."""
    line = " · ".join(f"{key}: {_short_value(outputs[key])}" for key in sorted(outputs))
    return line if len(line) <= PREVIEW_CHARS else line[: PREVIEW_CHARS - 1] + "…"


def task_outputs(node: Node) -> TaskOutputs:
    assert node.run is not None
    outputs = node.run.outputs
    if not isinstance(outputs, dict):  # not Kestra's shape, shown whole
        return TaskOutputs(node, [], _short_value(outputs), pretty_json(outputs))
    # Sorted: PostgreSQL's jsonb keeps keys in an order of its own, SQLite as written.
    items = [_output_item(str(key), outputs[key]) for key in sorted(outputs)]
    return TaskOutputs(node, items, output_preview(outputs), pretty_json(outputs))
