"""Kestra's ``jq`` filter, for the path subset: ``.a.b``, ``.[0]``, ``.a[]``, ``.["k"]``."""

from __future__ import annotations

import contextlib
import json
import re
from typing import Any

from .errors import FilterError
from .printing import to_json

_JQ_STEP = re.compile(
    r"""\s*(?:
        \.?\[\s*\]                                   # iterate
      | \.?\[\s*(?P<index>-?\d+)\s*\]                # index
      | \.?\[\s*(?P<quoted_key>"(?:[^"\\]|\\.)*")\s*\] # ["key"]
      | \.(?P<key>[A-Za-z_][A-Za-z0-9_]*)            # .key
      | \.(?P<string_key>"(?:[^"\\]|\\.)*")          # ."key"
      | (?P<identity>\.)                             # .
    )""",
    re.VERBOSE,
)


def jq(value: Any, expression: str) -> list[Any]:
    """Kestra's ``jq`` always answers a list; only paths are supported here."""
    if isinstance(value, str):
        with contextlib.suppress(ValueError):  # JSON text is walked as JSON, other text as is
            value = json.loads(value)
    results = [json.loads(to_json(value))]
    for stage in expression.split("|"):
        position, stage = 0, stage.strip()
        if not stage:
            raise FilterError(f"jq expression '{expression}' has an empty step")
        while position < len(stage):
            found = _JQ_STEP.match(stage, position)
            if found is None or found.end() == position:
                raise FilterError(
                    f"jq expression '{expression}' is not supported: only paths such as "
                    '.a.b, .[0], .a[] and .["k"] are'
                )
            position = found.end()
            results = [out for current in results for out in _jq_step(current, found)]
    return results


def _jq_step(current: Any, step: re.Match[str]) -> list[Any]:
    if step.group("identity"):
        return [current]
    key = step.group("key")
    for quoted in (step.group("quoted_key"), step.group("string_key")):
        if quoted:
            key = json.loads(quoted)
    if key is not None:
        if current is None:
            return [None]
        if not isinstance(current, dict):
            raise FilterError(f'jq: cannot index {type(current).__name__} with "{key}"')
        return [current.get(key)]
    index = step.group("index")
    if index is not None:
        if current is None:
            return [None]
        if not isinstance(current, list):
            raise FilterError(f"jq: cannot index {type(current).__name__} with a number")
        position = int(index)
        return [current[position] if -len(current) <= position < len(current) else None]
    if isinstance(current, dict):
        return list(current.values())
    if isinstance(current, list):
        return list(current)
    raise FilterError(f"jq: cannot iterate over {type(current).__name__}")
