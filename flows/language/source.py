"""YAML parsing that remembers where every value came from.

Validation errors point at a YAML line and column, so parsing keeps a map from each
value's path (``("tasks", 0, "script")``) to its position in the source.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import yaml

from flowsite.bounded import FLOW_LIMITS, BadDocument, compose_yaml

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Position:
    line: int  # 1-based
    column: int  # 1-based


@dataclass(frozen=True)
class FlowError:
    message: str
    line: int
    column: int
    path: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "message": self.message,
            "line": self.line,
            "column": self.column,
            "path": self.path,
        }

    def __str__(self) -> str:
        where = f" at {self.path}" if self.path else ""
        return f"line {self.line}, column {self.column}{where}: {self.message}"


@dataclass
class ParsedSource:
    data: Any
    values: dict[Path, Position] = field(default_factory=dict)
    keys: dict[Path, Position] = field(default_factory=dict)

    def position(self, path: Path, *, at_key: bool = False) -> Position:
        """The position of ``path``, or of its nearest ancestor that exists."""
        if at_key and path in self.keys:
            return self.keys[path]
        for length in range(len(path), -1, -1):
            prefix = path[:length]
            if prefix in self.values:
                return self.values[prefix]
        return Position(1, 1)


class YamlSourceError(Exception):
    def __init__(self, errors: list[FlowError]):
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors


def format_path(path: Path) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _capitalized(message: str) -> str:
    return message[:1].upper() + message[1:]


def _mark(node: yaml.Node) -> Position:
    return Position(node.start_mark.line + 1, node.start_mark.column + 1)


SEVERAL_FLOWS = (
    "This text holds several flows (YAML documents separated by ---): save one flow at a "
    "time, or send them all to POST /api/v1/flows/bulk"
)
_SEPARATOR = re.compile(r"^---[ \t]*(?:#.*)?$", re.MULTILINE)


def flow_documents(text: str) -> list[str]:
    """The flows of a text holding several YAML documents separated by ``---`` lines (a
    Kestra export, or a bulk import), each as its own text; blank documents are left out."""
    return [part.lstrip("\n") for part in _SEPARATOR.split(text) if part.strip()]


# The editor's check validates a text and then outlines it: one parse serves both.
# Read only: callers share what it returns.
@lru_cache(maxsize=4)
def parse_yaml(text: str) -> ParsedSource:
    """Parse one YAML document, recording positions and refusing duplicate keys."""
    try:
        node, data = compose_yaml(text, FLOW_LIMITS)
    except BadDocument as exc:
        message = _capitalized(exc.message)
        if "found another document" in exc.message:
            message = SEVERAL_FLOWS
        raise YamlSourceError([FlowError(message, exc.line, exc.column)]) from None
    if node is None:
        raise YamlSourceError([FlowError("The flow is empty", 1, 1)])

    parsed = ParsedSource(data=data)
    errors: list[FlowError] = []
    _walk(node, (), parsed, errors)
    if errors:
        raise YamlSourceError(errors)
    return parsed


def _walk(node: yaml.Node, path: Path, parsed: ParsedSource, errors: list[FlowError]) -> None:
    # A block mapping inside a list starts at its dash; people look at its first key.
    first_key = node.value[0][0] if isinstance(node, yaml.MappingNode) and node.value else None
    parsed.values[path] = _mark(first_key or node)
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key_node, value_node in node.value:
            key = key_node.value
            if key in seen:
                pos = _mark(key_node)
                errors.append(
                    FlowError(
                        f"Duplicate key '{key}'", pos.line, pos.column, format_path((*path, key))
                    )
                )
            seen.add(key)
            parsed.keys[(*path, key)] = _mark(key_node)
            _walk(value_node, (*path, key), parsed, errors)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*path, index), parsed, errors)
