"""A context like the one a task sees, and two shorthands to render in it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from flows.expressions import ExpressionError, render

CONTEXT: dict[str, Any] = {
    "inputs": {
        "name": "World",
        "optional": None,
        "count": 3,
        "ratio": 1.5,
        "enabled": True,
        "items": [3, 1, 2],
        "payload": {"a": 1, "b": [1, 2]},
        "when": "2026-11-24T10:00:00.123Z",
    },
    "vars": {"greeting": "Hello {{ inputs.name }}", "nested": "{{ vars.greeting }}!"},
    "execution": {"id": "exec1", "startDate": datetime(2026, 11, 24, 10, 0, 0, 123000, UTC)},
    "outputs": {"t1": {"vars": {"k": "v"}, "outputFiles": {"f.csv": "kestra:///f.csv"}}},
    "secret": lambda name: f"secret-of-{name}",
}


def r(template: str, **extra: Any) -> str:
    return render(template, {**CONTEXT, **extra})


def failure(template: str, **extra: Any) -> ExpressionError:
    with pytest.raises(ExpressionError) as caught:
        r(template, **extra)
    return caught.value
