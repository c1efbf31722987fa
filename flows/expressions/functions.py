"""Kestra's functions: ``range``, ``now``, JSON and YAML reading, ``max``/``min``,
``randomInt``, ``uuid``."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from typing import Any

from flowsite.bounded import load_json, load_yaml

from .dates import now
from .errors import MAX_RANGE_ITEMS, FilterError, LimitExceeded
from .printing import to_json, to_text


def pebble_range(start: Any, end: Any, step: Any = 1) -> list[int]:
    """Pebble's range: both ends included, ``range(0, 8, 2)`` is ``[0, 2, 4, 6, 8]``."""
    for value in (start, end, step):
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError(f"range() takes whole numbers, not {to_text(value)!r}")
    if step == 0:
        raise ValueError("range() step cannot be 0")
    stop = end + (1 if step > 0 else -1)
    count = len(range(start, stop, step))
    if count > MAX_RANGE_ITEMS:
        raise LimitExceeded(f"range() of {count} items is more than the limit of {MAX_RANGE_ITEMS}")
    return list(range(start, stop, step))


def _from_json(text: Any) -> Any:
    if text is None:
        return None
    if not isinstance(text, str):
        return text
    try:
        return load_json(text)
    except ValueError as exc:
        raise FilterError(f"not valid JSON: {exc}") from None


def _from_yaml(text: Any) -> Any:
    try:
        return load_yaml(to_text(text))
    except ValueError as exc:
        raise FilterError(f"not valid YAML: {exc}") from None


def _extreme(pick: Callable[..., Any]) -> Callable[..., Any]:
    def extreme(*values: Any) -> Any:
        items = list(values[0]) if len(values) == 1 and isinstance(values[0], list) else values
        if not items:
            raise FilterError("max() and min() need at least one value")
        return pick(items)

    return extreme


def _random_int(lower: int, upper: int) -> int:
    if upper <= lower:
        raise FilterError("randomInt() needs lower < upper")
    return random.randrange(lower, upper)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "now": now,
    "json": _from_json,
    "fromJson": _from_json,
    "jsonDecode": _from_json,
    "toJson": to_json,
    "yaml": _from_yaml,
    "range": pebble_range,
    "max": _extreme(max),
    "min": _extreme(min),
    "randomInt": _random_int,
    "uuid": lambda: str(uuid.uuid4()),
}
