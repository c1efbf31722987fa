"""Value types of the flow language: ISO-8601 durations, memory sizes, identifiers."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, get_args

from pydantic import BaseModel, BeforeValidator, PlainSerializer, WithJsonSchema

from flowsite.values import (
    DURATION_PATTERN,
    format_iso_duration,
    parse_duration,
    parse_memory,
    relative_path_check,
)

# Written back in Java's spelling (PT1H30M), which parse_duration reads again: a task is
# dumped and validated anew each time its expressions are rendered.
Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_iso_duration, return_type=str),
    WithJsonSchema(
        {"type": "string", "pattern": DURATION_PATTERN, "description": "ISO-8601 duration"}
    ),
]


def _duration_or_expression(value: object) -> object:
    if isinstance(value, str) and "{{" in value:
        return value  # rendered when the task runs, then read as a duration
    return parse_duration(value)


# A duration that may be an expression (Kestra's dynamic durations, e.g. Pause's delay).
DurationOrExpression = Annotated[
    timedelta | str,
    BeforeValidator(_duration_or_expression),
    PlainSerializer(lambda v: v if isinstance(v, str) else format_iso_duration(v), return_type=str),
    WithJsonSchema(
        {"type": "string", "description": "ISO-8601 duration, or an expression giving one"}
    ),
]

MemorySize = Annotated[
    int,
    BeforeValidator(parse_memory),
    WithJsonSchema({"type": ["string", "integer"], "description": "Memory such as 512MB or 1GB"}),
]

NAMESPACE_PATTERN = r"^[a-z0-9][a-z0-9_-]*(\.[a-z0-9][a-z0-9_-]*)*$"
FLOW_ID_PATTERN = r"^[a-zA-Z0-9][a-zA-Z0-9._-]*$"
TASK_ID_PATTERN = r"^[a-zA-Z0-9][a-zA-Z0-9_-]*$"


def type_names(model: type[BaseModel]) -> tuple[str, ...]:
    """The names a model's ``type`` Literal accepts, Kestra's canonical name first."""
    return tuple(str(name) for name in get_args(model.model_fields["type"].annotation))


def values_as_text(value: object) -> object:
    """A mapping's scalar values as the text YAML wrote them (``true``, not ``True``):
    environment variables and labels are strings, but YAML reads ``1`` as a number."""
    if not isinstance(value, dict):
        return value
    return {key: _as_text(item) for key, item in value.items()}


def _as_text(item: object) -> object:
    if isinstance(item, bool):
        return "true" if item else "false"
    return item if isinstance(item, str | dict | list) else str(item)


def number_as_text(value: object) -> object:
    """Kestra reads ``id: 1`` as the id "1" (YAML reads a number)."""
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


def input_file_names_inside(value: Any) -> Any:
    """Kestra's inputFiles names (a map's keys) stay inside the working directory."""
    for name in value if isinstance(value, dict) else ():
        relative_path_check(name, what="inputFiles name")
    return value


def output_patterns_inside(value: Any) -> Any:
    """Kestra's outputFiles patterns stay inside the working directory."""
    for pattern in value or ():
        relative_path_check(pattern.removeprefix("./"), what="outputFiles pattern")
    return value


def labels_as_mapping(value: object) -> object:
    """Kestra's labels, given as a mapping or as a list of {key, value}, as a mapping of
    text."""
    if isinstance(value, list) and all(isinstance(i, dict) and "key" in i for i in value):
        value = {str(i["key"]): i.get("value") for i in value}
    return values_as_text(value)
