"""The filters and tests a template may use, by name: each family's table, made strict."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from jinja2 import Undefined

from .dates import DATE_FILTERS
from .jq import jq
from .list_filters import LIST_FILTERS
from .number_filters import NUMBER_FILTERS
from .printing import is_empty, to_json, to_text
from .text_filters import TEXT_FILTERS


def _strict(function: Callable[..., Any]) -> Callable[..., Any]:
    """A filter fails on a missing value instead of treating it as empty (except default)."""

    def strict(value: Any, *args: Any, **kwargs: Any) -> Any:
        for argument in (value, *args, *kwargs.values()):
            if isinstance(argument, Undefined):
                argument._fail_with_undefined_error()
        return function(value, *args, **kwargs)

    return strict


def _default(value: Any, fallback: Any = "") -> Any:
    return fallback if is_empty(value) else value


def _is_json(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        json.loads(value)
    except ValueError:
        return False
    return True


_PLAIN_FILTERS: dict[str, Callable[..., Any]] = {
    **TEXT_FILTERS,
    **LIST_FILTERS,
    **NUMBER_FILTERS,
    **DATE_FILTERS,
    "jq": jq,
    "json": to_json,
    "jsonEncode": to_json,
    "string": to_text,
    "toJson": to_json,
}

FILTERS: dict[str, Callable[..., Any]] = {
    **{name: _strict(function) for name, function in _PLAIN_FILTERS.items()},
    "default": _default,  # the one filter that takes a missing value
}

TESTS: dict[str, Callable[..., bool]] = {"empty": is_empty, "json": _is_json}
