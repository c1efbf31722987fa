"""The ``_fs_`` helpers that translated expressions call: Pebble's operators where they
differ from Python's (``contains``, ``+`` on text and lists, Java's integer division),
and loops that count their steps against the render's budget."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, NamedTuple

from jinja2 import Undefined

from .errors import MAX_OUTPUT_CHARS, MAX_RANGE_ITEMS, LimitExceeded
from .functions import pebble_range
from .printing import is_number, to_text
from .render_state import current


def _mark(index: int) -> None:
    current().block = index


def _iterate(value: Any) -> Iterator[Any]:
    """Pebble walks a map as entries with ``key`` and ``value``; every step is counted."""
    state = current()
    items: Iterable[Any] = (
        (_Entry(k, v) for k, v in value.items()) if isinstance(value, Mapping) else value
    )
    for item in items:
        state.count()
        yield item


def _pairs(value: Any) -> Iterator[Any]:
    return _iterate(value.items() if isinstance(value, Mapping) else value)


class _Entry(NamedTuple):
    key: Any
    value: Any


def _present(value: Any) -> bool:
    return not isinstance(value, Undefined) and value is not None


def _contains(container: Any, item: Any) -> bool:
    if container is None:
        return False
    if isinstance(item, list) and not isinstance(container, str):
        return all(_contains(container, one) for one in item)
    if isinstance(container, str):
        return to_text(item) in container
    return item in container


def _numbers(operator: str, left: Any, right: Any) -> None:
    if not (is_number(left) and is_number(right)):
        raise ValueError(
            f"'{operator}' needs two numbers, not {type(left).__name__} and {type(right).__name__}"
        )


def _add(left: Any, right: Any) -> Any:
    if isinstance(left, str) or isinstance(right, str):
        return _concat(left, right)
    if isinstance(left, list):
        result = left + right if isinstance(right, list) else [*left, right]
        if len(result) > MAX_RANGE_ITEMS * 10:
            raise LimitExceeded("the list grows too large")
        return result
    _numbers("+", left, right)
    return left + right


def _multiply(left: Any, right: Any) -> Any:
    _numbers("*", left, right)
    return left * right


def _divide(left: Any, right: Any) -> Any:
    _numbers("/", left, right)
    if right == 0:
        raise ArithmeticError("division by zero")
    if isinstance(left, int) and isinstance(right, int):
        quotient = abs(left) // abs(right)  # Java's long division truncates toward zero
        return quotient if (left >= 0) == (right >= 0) else -quotient
    return left / right


def _modulo(left: Any, right: Any) -> Any:
    _numbers("%", left, right)
    if right == 0:
        raise ArithmeticError("division by zero")
    if isinstance(left, int) and isinstance(right, int):
        remainder = abs(left) % abs(right)
        return remainder if left >= 0 else -remainder
    return math.fmod(left, right)


def _concat(left: Any, right: Any) -> str:
    left_text, right_text = to_text(left), to_text(right)
    if len(left_text) + len(right_text) > MAX_OUTPUT_CHARS:
        raise LimitExceeded(f"the text grows larger than {MAX_OUTPUT_CHARS} characters")
    return left_text + right_text


# Named with a prefix no flow would use; harmless if a template calls them itself.
OPERATORS: dict[str, Callable[..., Any]] = {
    "_fs_mark": _mark,
    "_fs_iterate": _iterate,
    "_fs_pairs": _pairs,
    "_fs_contains": _contains,
    "_fs_add": _add,
    "_fs_multiply": _multiply,
    "_fs_divide": _divide,
    "_fs_modulo": _modulo,
    "_fs_concat": _concat,
    "_fs_range": pebble_range,
}
OPERATOR_TESTS: dict[str, Callable[..., bool]] = {"_fs_present": _present}
