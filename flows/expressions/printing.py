"""Values as Pebble prints them, and as its filters see them.

``true``/``false``, null as nothing, maps and lists as compact JSON, instants as Java's
``Instant.toString()`` (``2026-11-24T10:00:00.123Z``), durations as ``PT1H30M``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from jinja2 import Undefined

from flowsite.values import format_iso_duration


def to_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return str(value)
    if isinstance(value, Undefined):
        value._fail_with_undefined_error()
    if isinstance(value, Mapping | list | tuple | set):
        return to_json(value)
    if isinstance(value, datetime | date | time | timedelta):
        return _temporal_text(value)
    return str(value)


def to_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=_json_default)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date | time | timedelta):
        return _temporal_text(value)
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, set | tuple):
        return list(value)
    if isinstance(value, Undefined):
        value._fail_with_undefined_error()
    return str(value)


def _temporal_text(value: datetime | date | time | timedelta) -> str:
    if isinstance(value, datetime):
        return _instant_text(value)
    if isinstance(value, timedelta):
        return format_iso_duration(value)
    return value.isoformat()


def _instant_text(moment: datetime) -> str:
    """Like Java's ``Instant.toString()``: seconds always, milli/micro digits when present."""
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        micros = f"{moment.microsecond:06d}"
        text += "." + (micros[:3] if micros.endswith("000") else micros)
    offset = moment.utcoffset()
    if offset is None:
        return text
    if not offset:
        return text + "Z"
    return text + offset_text(offset, colon=True)


def offset_text(offset: timedelta, *, colon: bool) -> str:
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    hours, minutes = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}{':' if colon else ''}{minutes:02d}"


def is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def is_empty(value: Any) -> bool:
    if value is None or isinstance(value, Undefined):
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, Mapping | list | tuple | set):
        return not value
    return False
