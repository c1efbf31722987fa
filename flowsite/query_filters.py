"""Kestra's search filters: ``filters[field][OPERATION]=value`` in a query string.

Kestra 1.x's search endpoints (executions, logs, flows, namespaces) and its clients
speak this form. A label filter names its key: ``filters[labels][EQUALS][team]=data``.
Groups nest one level: ``filters[or][0][state][EQUALS]=FAILED&filters[or][1][...]``.
Each resource says which fields it knows and how each reads (a ``FilterField``); a
field, operation or value it cannot read is refused with a message naming it, never
ignored: an ignored filter would hand back rows the caller meant to exclude.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.db.models.fields.json import KeyTextTransform
from django.db.models.lookups import Exact
from django.http import HttpRequest, QueryDict
from django.utils import timezone

from flowsite.values import parse_duration

_KEY = re.compile(r"^filters((?:\[[^\[\]]*\])+)$")
_SEGMENT = re.compile(r"\[([^\[\]]*)\]")
TEXT_OPERATIONS = (
    "EQUALS",
    "NOT_EQUALS",
    "IN",
    "NOT_IN",
    "STARTS_WITH",
    "ENDS_WITH",
    "CONTAINS",
    "NOT_CONTAINS",
    "PREFIX",
    "IS_NULL",
    "IS_NOT_NULL",
)
PAGE_SIZE = 10  # Kestra's default
MAX_PAGE_SIZE = 1000
DATE_OPERATIONS = (
    "EQUALS",
    "NOT_EQUALS",
    "GREATER_THAN",
    "GREATER_THAN_OR_EQUAL_TO",
    "LESS_THAN",
    "LESS_THAN_OR_EQUAL_TO",
)


class FilterInvalid(ValueError):
    """A filter that cannot be read; the message names the parameter."""


@dataclass(frozen=True)
class Leaf:
    param: str  # as written, for messages
    field: str
    operation: str
    value: str
    key: str | None = None  # a label's key


# Turns one leaf into a condition on the resource's rows.
FilterField = Callable[[Leaf], Q]


def _values(leaf: Leaf) -> list[str]:
    return [part.strip() for part in leaf.value.split(",") if part.strip()]


def text_field(column: str, *, upper: tuple[str, ...] = ()) -> FilterField:
    """A text column. With ``upper`` (its allowed values), the value is one of them."""

    def condition(leaf: Leaf) -> Q:
        op = leaf.operation
        values = _values(leaf)
        if upper:
            values = [v.upper() for v in values]
            if bad := [v for v in values if v not in upper]:
                raise FilterInvalid(f"{leaf.param}: '{bad[0]}' is not one of {', '.join(upper)}")
        value = values[0] if values else ""
        if op in ("IS_NULL", "IS_NOT_NULL"):
            empty = Q(**{f"{column}__isnull": True}) | Q(**{column: ""})
            return empty if op == "IS_NULL" else ~empty
        if not values:
            raise FilterInvalid(f"{leaf.param}: a value is required")
        if op in ("IN", "NOT_IN"):
            found = Q(**{f"{column}__in": values})
            return found if op == "IN" else ~found
        lookups = {
            "EQUALS": "",
            "NOT_EQUALS": "",
            "STARTS_WITH": "__startswith",
            "ENDS_WITH": "__endswith",
            "CONTAINS": "__contains",
            "NOT_CONTAINS": "__contains",
        }
        if op == "PREFIX":  # a namespace and those under it
            return Q(**{column: value}) | Q(**{f"{column}__startswith": value + "."})
        if op not in lookups:
            raise _unsupported(leaf, TEXT_OPERATIONS)
        found = Q(**{column + lookups[op]: value})
        return ~found if op.startswith("NOT_") else found

    return condition


def date_field(column: str) -> FilterField:
    def condition(leaf: Leaf) -> Q:
        moment = parse_moment(leaf.param, leaf.value)
        lookups = {
            "EQUALS": "",
            "NOT_EQUALS": "",
            "GREATER_THAN": "__gt",
            "GREATER_THAN_OR_EQUAL_TO": "__gte",
            "LESS_THAN": "__lt",
            "LESS_THAN_OR_EQUAL_TO": "__lte",
        }
        if leaf.operation not in lookups:
            raise _unsupported(leaf, DATE_OPERATIONS)
        found = Q(**{column + lookups[leaf.operation]: moment})
        return ~found if leaf.operation == "NOT_EQUALS" else found

    return condition


def time_range_field(column: str) -> FilterField:
    """``timeRange``: the last so long (``PT24H``), up to now."""

    def condition(leaf: Leaf) -> Q:
        if leaf.operation != "EQUALS":
            raise _unsupported(leaf, ("EQUALS",))
        try:
            span = parse_duration(leaf.value)
        except ValueError as exc:
            raise FilterInvalid(f"{leaf.param}: {exc}") from None
        return Q(**{f"{column}__gte": timezone.now() - span})

    return condition


def labels_field(column: str) -> FilterField:
    """Labels kept as a JSON object: ``[labels][EQUALS][key]=value``, or ``key:value``."""

    def condition(leaf: Leaf) -> Q:
        pairs = [(leaf.key, leaf.value)] if leaf.key is not None else _label_pairs(leaf)
        op = leaf.operation
        found = Q()
        for key, value in pairs:
            has = Q(**{f"{column}__has_key": key}) & _label_value(column, key, value)
            if op in ("EQUALS", "IN", "CONTAINS"):
                found = found | has if op == "IN" else found & has
            elif op in ("NOT_EQUALS", "NOT_IN"):
                found &= ~has
            else:
                raise _unsupported(leaf, ("EQUALS", "NOT_EQUALS", "IN", "NOT_IN", "CONTAINS"))
        return found

    return condition


def _label_value(column: str, key: str, value: str) -> Q:
    # A key transform, not ``labels__<key>``: a key holding "__" stays one key.
    return Q(Exact(KeyTextTransform(key, column), value))


def _label_pairs(leaf: Leaf) -> list[tuple[str, str]]:
    pairs = []
    for part in _values(leaf):
        key, colon, value = part.partition(":")
        if not colon or not key.strip():
            raise FilterInvalid(f"{leaf.param}: '{part}' must be written key:value")
        pairs.append((key.strip(), value.strip()))
    if not pairs:
        raise FilterInvalid(f"{leaf.param}: a value key:value is required")
    return pairs


def search_text_field(*columns: str) -> FilterField:
    """``q``: the words found in any of ``columns``."""

    def condition(leaf: Leaf) -> Q:
        if leaf.operation not in ("EQUALS", "NOT_EQUALS", "CONTAINS"):
            raise _unsupported(leaf, ("EQUALS", "NOT_EQUALS"))
        found = Q()
        for word in leaf.value.split():
            any_column = Q()
            for column in columns:
                any_column |= Q(**{f"{column}__icontains": word})
            found &= any_column
        return ~found if leaf.operation == "NOT_EQUALS" and found else found

    return condition


def constant_field(allowed: Mapping[str, bool]) -> FilterField:
    """A field Flowsite has one answer for (``scope``: every flow is a USER one):
    the values in ``allowed`` match everything (True) or nothing (False)."""

    def condition(leaf: Leaf) -> Q:
        if leaf.operation not in ("EQUALS", "NOT_EQUALS", "IN", "NOT_IN"):
            raise _unsupported(leaf, ("EQUALS", "NOT_EQUALS", "IN", "NOT_IN"))
        values = [v.upper() for v in _values(leaf)]
        if bad := [v for v in values if v not in allowed]:
            raise FilterInvalid(f"{leaf.param}: '{bad[0]}' is not one of {', '.join(allowed)}")
        matches = any(allowed[v] for v in values)
        if leaf.operation.startswith("NOT_"):
            matches = not matches
        return Q() if matches else Q(pk__in=[])

    return condition


def _unsupported(leaf: Leaf, operations: tuple[str, ...]) -> FilterInvalid:
    return FilterInvalid(
        f"{leaf.param}: operation {leaf.operation} is not supported on {leaf.field}"
        f" (use one of {', '.join(operations)})"
    )


def parse_moment(param: str, text: str) -> datetime:
    """An ISO-8601 date-time (``Z`` or an offset), or a date meaning its midnight."""
    text = text.strip()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise FilterInvalid(f"{param}: '{text}' is not an ISO-8601 date-time") from None
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


# Where a filter sits: () at the top, (("or", "0"),) in the first member of an OR group,
# (("or", "0"), ("and", "1")) in a group inside it.
GroupPath = tuple[tuple[str, str], ...]
MAX_DEPTH = 2


def filter_condition(params: QueryDict, fields: Mapping[str, FilterField]) -> Q:
    """The condition all ``filters[...]`` parameters of ``params`` put together; raises
    FilterInvalid for one that names an unknown field or operation, or a bad value."""
    placed: list[tuple[GroupPath, Q]] = []
    for name in params:
        if not name.startswith("filters"):
            continue
        match = _KEY.match(name)
        if match is None:
            raise FilterInvalid(f"{name}: write filters[field][OPERATION]=value")
        segments = _SEGMENT.findall(match.group(1))
        path: GroupPath = ()
        while segments and segments[0].lower() in ("and", "or"):
            if len(segments) < 2 or not segments[1].isdigit() or len(path) == MAX_DEPTH:
                raise FilterInvalid(
                    f"{name}: write filters[or][0][field][OPERATION], groups two deep at most"
                )
            path += ((segments[0].lower(), segments[1]),)
            segments = segments[2:]
        for value in params.getlist(name):
            placed.append((path, _leaf_condition(name, segments, value, fields)))
    return _combined(placed, 0)


def _combined(placed: list[tuple[GroupPath, Q]], depth: int) -> Q:
    """The filters at ``depth`` ANDed, with each group below joined by its own AND or OR."""
    condition = Q()
    groups: dict[str, dict[str, list[tuple[GroupPath, Q]]]] = {}
    for path, part in placed:
        if len(path) == depth:
            condition &= part
        else:
            logical, index = path[depth]
            groups.setdefault(logical, {}).setdefault(index, []).append((path, part))
    for logical, members in groups.items():
        parts = [_combined(members[i], depth + 1) for i in sorted(members, key=int)]
        joined = parts[0]
        for part in parts[1:]:
            joined = joined | part if logical == "or" else joined & part
        condition &= joined
    return condition


def _leaf_condition(
    name: str, segments: list[str], value: str, fields: Mapping[str, FilterField]
) -> Q:
    if len(segments) not in (2, 3):
        raise FilterInvalid(f"{name}: write filters[field][OPERATION]=value")
    field, operation = segments[0], segments[1].upper()
    if field not in fields:
        raise FilterInvalid(f"{name}: unknown filter field '{field}' (one of {', '.join(fields)})")
    leaf = Leaf(name, field, operation, value, segments[2] if len(segments) == 3 else None)
    return fields[field](leaf)


def paged(
    rows: QuerySet[Any], request: HttpRequest, *, count_at_most: int | None = None
) -> tuple[list[Any], int]:
    """One page of ``rows`` as Kestra's ``page`` (from 1) and ``size`` ask, and how many
    rows there are in all, or ``count_at_most`` when there are more (a count that stops
    there instead of scanning a huge table); FilterInvalid for a page or size that
    cannot be one."""
    page, size = _page_and_size(request)
    found = list(rows[(page - 1) * size : page * size])
    if count_at_most is None:
        return found, rows.count()
    return found, rows.values("pk")[:count_at_most].count()


def paged_list(rows: list[Any], request: HttpRequest) -> tuple[list[Any], int]:
    page, size = _page_and_size(request)
    return rows[(page - 1) * size : page * size], len(rows)


def _page_and_size(request: HttpRequest) -> tuple[int, int]:
    try:
        page = int(request.GET.get("page", "1"))
        size = int(request.GET.get("size", str(PAGE_SIZE)))
    except ValueError:
        raise FilterInvalid("page and size must be whole numbers") from None
    if page < 1 or not 1 <= size <= MAX_PAGE_SIZE:
        raise FilterInvalid(f"page must be 1 or more, size between 1 and {MAX_PAGE_SIZE}")
    return page, size


def sorted_by(rows: QuerySet[Any], request: HttpRequest, columns: Mapping[str, str]) -> Any:
    """``rows`` in the order Kestra's ``sort=field:asc|desc`` parameters ask (the
    first one first); FilterInvalid for a field or direction it cannot sort by."""
    order = []
    for sort in request.GET.getlist("sort"):
        field, _, direction = sort.partition(":")
        if field not in columns:
            raise FilterInvalid(f"sort: cannot sort by '{field}' (one of {', '.join(columns)})")
        if direction.lower() not in ("", "asc", "desc"):
            raise FilterInvalid(f"sort: '{direction}' is not asc or desc")
        order.append(("-" if direction.lower() == "desc" else "") + columns[field])
    return rows.order_by(*order) if order else rows
