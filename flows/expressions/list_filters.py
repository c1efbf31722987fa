"""Kestra's filters over lists and maps: length, picking, sorting, slicing, merging."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .errors import FilterError
from .printing import to_text


def _sequence(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, Mapping):
        return list(value.values())
    if isinstance(value, str):
        return list(value)
    return list(value)


def _length(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, str | Mapping | list | tuple | set):
        return len(value)
    return len(to_text(value))


def _join(value: Any, separator: str = "") -> str:
    return separator.join(to_text(item) for item in _sequence(value))


def _first(value: Any) -> Any:
    items = _sequence(value)
    return items[0] if items else None


def _last(value: Any) -> Any:
    items = _sequence(value)
    return items[-1] if items else None


def _keys(value: Any) -> list[Any]:
    if not isinstance(value, Mapping):
        raise FilterError(f"keys needs a map, not {type(value).__name__}")
    return list(value.keys())


def _values(value: Any) -> list[Any]:
    if not isinstance(value, Mapping):
        raise FilterError(f"values needs a map, not {type(value).__name__}")
    return list(value.values())


def _sort(value: Any) -> list[Any]:
    return sorted(_sequence(value))


def _rsort(value: Any) -> list[Any]:
    return sorted(_sequence(value), reverse=True)


def _reverse(value: Any) -> Any:
    if isinstance(value, str):
        return value[::-1]
    return list(reversed(_sequence(value)))


def _slice(value: Any, start: int = 0, end: int | None = None) -> Any:
    if isinstance(value, str):
        return value[start:end]
    return _sequence(value)[start:end]


def _chunk(value: Any, size: int) -> list[list[Any]]:
    if size < 1:
        raise FilterError("chunk() needs a size of at least 1")
    items = _sequence(value)
    return [items[i : i + size] for i in range(0, len(items), size)]


def _distinct(value: Any) -> list[Any]:
    result: list[Any] = []
    for item in _sequence(value):
        if item not in result:
            result.append(item)
    return result


def _flatten(value: Any) -> list[Any]:
    result: list[Any] = []
    for item in _sequence(value):
        result.extend(item if isinstance(item, list | tuple) else [item])
    return result


def _merge(value: Any, other: Any) -> Any:
    if isinstance(value, Mapping) and isinstance(other, Mapping):
        return {**value, **other}
    return _sequence(value) + _sequence(other)


LIST_FILTERS: dict[str, Callable[..., Any]] = {
    "chunk": _chunk,
    "distinct": _distinct,
    "first": _first,
    "flatten": _flatten,
    "join": _join,
    "keys": _keys,
    "last": _last,
    "length": _length,
    "merge": _merge,
    "reverse": _reverse,
    "rsort": _rsort,
    "slice": _slice,
    "sort": _sort,
    "values": _values,
}
