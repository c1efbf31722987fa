"""Kestra's date filters and ``now()``, with Java's ``DateTimeFormatter`` patterns.

``date`` formats, ``dateAdd`` moves a date and answers it formatted (``iso`` unless told
otherwise), ``timestamp*`` count from the epoch; each reads datetimes, dates, ISO text
and epoch seconds alike.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import FilterError
from .printing import is_number, offset_text

_NAMED_FORMATS = {
    "iso": "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX",
    "iso_sec": "yyyy-MM-dd'T'HH:mm:ssXXX",
    "sql": "yyyy-MM-dd HH:mm:ss.SSSSSS",
    "sql_seq": "yyyy-MM-dd HH:mm:ss",
    "iso_date": "yyyy-MM-ddXXX",
    "iso_local_date": "yyyy-MM-dd",
    "iso_local_date_time": "yyyy-MM-dd'T'HH:mm:ss",
    "iso_local_time": "HH:mm:ss",
    "iso_time": "HH:mm:ssXXX",
    "iso_offset_time": "HH:mm:ssXXX",
    "iso_date_time": "yyyy-MM-dd'T'HH:mm:ssXXX",
    "iso_offset_date_time": "yyyy-MM-dd'T'HH:mm:ssXXX",
    "iso_zoned_date_time": "yyyy-MM-dd'T'HH:mm:ssXXX",
    "iso_instant": "yyyy-MM-dd'T'HH:mm:ssX",
    "iso_ordinal_date": "yyyy-DDDXXX",
    "rfc_1123_date_time": "EEE, d MMM yyyy HH:mm:ss 'GMT'",
}
_PATTERN_PART = re.compile(r"'(?:[^']|'')*'|([A-Za-z])\1*|.", re.DOTALL)
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def _pattern_parts(pattern: str) -> Iterator[tuple[str, int, str]]:
    """(letter, count, literal) for each piece of a Java date pattern."""
    for found in _PATTERN_PART.finditer(_NAMED_FORMATS.get(pattern, pattern)):
        piece = found.group()
        if piece.startswith("'"):
            yield "", 0, piece[1:-1].replace("''", "'") if piece != "''" else "'"
        elif found.group(1):
            yield piece[0], len(piece), ""
        else:
            yield "", 0, piece


def _format_date(moment: datetime, pattern: str) -> str:
    return "".join(
        literal if not letter else _format_field(moment, letter, count)
        for letter, count, literal in _pattern_parts(pattern)
    )


def _format_field(moment: datetime, letter: str, count: int) -> str:  # noqa: C901 - a table
    if letter in "yu":
        return f"{moment.year % 100:02d}" if count == 2 else f"{moment.year:0{count}d}"
    if letter in "ML":
        if count >= 4:
            return _MONTHS[moment.month - 1]
        if count == 3:
            return _MONTHS[moment.month - 1][:3]
        return f"{moment.month:0{count}d}"
    numbers = {
        "d": moment.day,
        "D": moment.timetuple().tm_yday,
        "H": moment.hour,
        "h": (moment.hour % 12) or 12,
        "K": moment.hour % 12,
        "k": moment.hour or 24,
        "m": moment.minute,
        "s": moment.second,
        "w": moment.isocalendar().week,
        "e": moment.isoweekday(),
        "c": moment.isoweekday(),
    }
    if letter in numbers:
        return f"{numbers[letter]:0{count}d}"
    if letter == "S":
        return f"{moment.microsecond:06d}000"[:count]
    if letter == "n":
        return str(moment.microsecond * 1000)
    if letter == "E":
        return _DAYS[moment.weekday()] if count >= 4 else _DAYS[moment.weekday()][:3]
    if letter == "a":
        return "AM" if moment.hour < 12 else "PM"
    if letter == "G":
        return "AD"
    if letter == "Q" or letter == "q":
        return str((moment.month - 1) // 3 + 1)
    offset = moment.utcoffset() or timedelta(0)
    if letter in "Xx":
        if letter == "X" and not offset:
            return "Z"
        if count == 1:
            text = offset_text(offset, colon=False)
            return text if text[3:] != "00" else text[:3]
        return offset_text(offset, colon=count >= 3)
    if letter == "Z":
        if count == 4:
            return "GMT" + (offset_text(offset, colon=True) if offset else "")
        if count == 5:
            return offset_text(offset, colon=True) if offset else "Z"
        return offset_text(offset, colon=False)
    if letter == "z":
        return moment.tzname() or "UTC"
    if letter == "V":
        return getattr(moment.tzinfo, "key", None) or moment.tzname() or "UTC"
    raise FilterError(f"the date pattern letter '{letter}' is not supported")


_PARSE_DIRECTIVES = {
    "y": "%Y",
    "u": "%Y",
    "M": "%m",
    "d": "%d",
    "D": "%j",
    "H": "%H",
    "h": "%I",
    "m": "%M",
    "s": "%S",
    "S": "%f",
    "a": "%p",
    "X": "%z",
    "x": "%z",
    "Z": "%z",
    "z": "%Z",
}


def _parse_with_pattern(text: str, pattern: str) -> datetime:
    directives = []
    for letter, count, literal in _pattern_parts(pattern):
        if not letter:
            directives.append(literal.replace("%", "%%"))
        elif letter in "yu" and count == 2:
            directives.append("%y")
        elif letter in "ML" and count >= 3:
            directives.append("%B" if count >= 4 else "%b")
        elif letter == "E":
            directives.append("%A" if count >= 4 else "%a")
        elif letter in _PARSE_DIRECTIVES:
            directives.append(_PARSE_DIRECTIVES[letter])
        else:
            raise FilterError(f"the date pattern letter '{letter}' is not supported")
    try:
        return datetime.strptime(text, "".join(directives))
    except ValueError:
        raise FilterError(f"'{text}' does not match the date format '{pattern}'") from None


def _zone(name: str | None) -> Any:
    if name is None or name.upper() in {"UTC", "Z", "GMT"}:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise FilterError(f"Unknown time zone '{name}'") from None


def _to_datetime(value: Any, zone: Any, existing_format: str | None = None) -> datetime:
    """Datetimes, dates (at noon, like Kestra), ISO text and epoch seconds, in ``zone``."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time(12))
    elif is_number(value):
        moment = datetime.fromtimestamp(float(value), UTC)
    elif isinstance(value, str) and existing_format:
        moment = _parse_with_pattern(value, existing_format)
    elif isinstance(value, str):
        text = re.sub(r"\[[^\]]*\]$", "", value.strip())
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise FilterError(f"'{value}' is not an ISO-8601 date") from None
    else:
        raise FilterError(f"a date is needed, not {type(value).__name__}")
    if moment.tzinfo is None:
        return moment.replace(tzinfo=zone)
    return moment.astimezone(zone)


def _date(
    value: Any,
    format: str = "iso",  # noqa: A002 - Kestra's argument name
    timeZone: str | None = None,  # noqa: N803
    existingFormat: str | None = None,  # noqa: N803
    locale: str | None = None,
) -> str | None:
    if value is None:
        return None
    moment = _to_datetime(value, _zone(timeZone), existingFormat)
    return _format_date(moment, format)


_UNITS = {
    "NANOS": timedelta(microseconds=0.001),
    "MICROS": timedelta(microseconds=1),
    "MILLIS": timedelta(milliseconds=1),
    "SECONDS": timedelta(seconds=1),
    "MINUTES": timedelta(minutes=1),
    "HOURS": timedelta(hours=1),
    "HALF_DAYS": timedelta(hours=12),
    "DAYS": timedelta(days=1),
    "WEEKS": timedelta(weeks=1),
}
_MONTH_UNITS = {"MONTHS": 1, "YEARS": 12, "DECADES": 120, "CENTURIES": 1200}


def _date_add(
    value: Any,
    amount: int,
    unit: str,
    format: str = "iso",  # noqa: A002
    timeZone: str | None = None,  # noqa: N803
    existingFormat: str | None = None,  # noqa: N803
    locale: str | None = None,
) -> str | None:
    """Like Kestra's: returns the moved date formatted (``iso`` unless told otherwise)."""
    if value is None:
        return None
    moment = _to_datetime(value, _zone(timeZone), existingFormat)
    unit = str(unit).upper()
    if unit in _UNITS:
        moment = moment + _UNITS[unit] * amount
    elif unit in _MONTH_UNITS:
        months = moment.month - 1 + amount * _MONTH_UNITS[unit]
        year, month = moment.year + months // 12, months % 12 + 1
        day = min(moment.day, _days_in_month(year, month))
        moment = moment.replace(year=year, month=month, day=day)
    else:
        units = ", ".join([*_UNITS, *_MONTH_UNITS])
        raise FilterError(f"dateAdd() unit must be one of {units}, not '{unit}'")
    return _format_date(moment, format)


def _days_in_month(year: int, month: int) -> int:
    following = date(year + month // 12, month % 12 + 1, 1)
    return (following - timedelta(days=1)).day


def _timestamp(scale: int) -> Callable[..., int | None]:
    def timestamp(
        value: Any,
        timeZone: str | None = None,  # noqa: N803
        existingFormat: str | None = None,  # noqa: N803
    ) -> int | None:
        if value is None:
            return None
        moment = _to_datetime(value, _zone(timeZone), existingFormat)
        delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
        micros = (delta.days * 86400 + delta.seconds) * 10**6 + delta.microseconds
        return micros * scale // 10**6

    return timestamp


def now(
    format: str | None = None,  # noqa: A002
    timeZone: str | None = None,  # noqa: N803
) -> datetime | str:
    moment = datetime.now(UTC)
    if format is None and timeZone is None:
        return moment
    return _format_date(moment.astimezone(_zone(timeZone)), format or "iso")


DATE_FILTERS: dict[str, Callable[..., Any]] = {
    "date": _date,
    "dateAdd": _date_add,
    "timestamp": _timestamp(1),
    "timestampMilli": _timestamp(10**3),
    "timestampMicro": _timestamp(10**6),
    "timestampNano": _timestamp(10**9),
}
