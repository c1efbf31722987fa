"""Kestra's filters, tests and functions, and how Pebble prints values.

Plain Python over plain values: ``flows.expressions`` parses the Pebble and runs it in
Jinja's sandbox; everything a template can call lives here, each behaving as Kestra's
documentation says (``date`` takes Java ``DateTimeFormatter`` patterns, ``dateAdd``
answers formatted text, ``jq`` answers a list, ``range`` includes its end).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import random
import re
import unicodedata
import uuid
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any
from urllib.parse import quote_plus, unquote_plus
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from jinja2 import Undefined

MAX_OUTPUT_CHARS = 10 * 1024 * 1024
MAX_RANGE_ITEMS = 100_000
MAX_INDENT = 1_000


class LimitExceeded(Exception):
    """A template asked for more than a render may take (size, items, work)."""


class FilterError(ValueError):
    """A filter or function given something it cannot work with; says what."""


# ---------------------------------------------------------------------------------------
# Values as Pebble prints them


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
        return _duration_text(value)
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
    return text + _offset_text(offset, colon=True)


def _duration_text(duration: timedelta) -> str:
    """Like Java's ``Duration.toString()``: ``PT1H30M``, ``PT0.5S``, ``PT0S``."""
    total = Decimal(duration.days * 86400 + duration.seconds) + Decimal(duration.microseconds) / (
        10**6
    )
    if not total:
        return "PT0S"
    sign = "-" if total < 0 else ""
    total = abs(total)
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    text = "PT"
    if hours:
        text += f"{sign}{int(hours)}H"
    if minutes:
        text += f"{sign}{int(minutes)}M"
    if seconds:
        text += f"{sign}{seconds.normalize():f}S"
    return text


def _offset_text(offset: timedelta, *, colon: bool) -> str:
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    hours, minutes = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}{':' if colon else ''}{minutes:02d}"


def is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


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


# ---------------------------------------------------------------------------------------
# Filters


def _text_in(value: Any) -> str:
    return to_text(value)


def _abbreviate(value: Any, length: int) -> str:
    text = _text_in(value)
    if len(text) <= length:
        return text
    return text[:length] if length <= 3 else text[: length - 3] + "..."


def _capitalize(value: Any) -> str:
    text = _text_in(value)
    return text[:1].upper() + text[1:]


def _title(value: Any) -> str:
    return re.sub(r"(^|\s)(\S)", lambda m: m.group(1) + m.group(2).upper(), _text_in(value))


def is_empty(value: Any) -> bool:
    if value is None or isinstance(value, Undefined):
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, Mapping | list | tuple | set):
        return not value
    return False


def _default(value: Any, fallback: Any = "") -> Any:
    return fallback if is_empty(value) else value


def _length(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, str | Mapping | list | tuple | set):
        return len(value)
    return len(_text_in(value))


def _join(value: Any, separator: str = "") -> str:
    return separator.join(_text_in(item) for item in _sequence(value))


def _sequence(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, Mapping):
        return list(value.values())
    if isinstance(value, str):
        return list(value)
    return list(value)


def _split(value: Any, delimiter: str, limit: int | None = None) -> list[str]:
    text = _text_in(value)
    if limit is not None and limit > 0:
        return text.split(delimiter, limit - 1)
    return text.split(delimiter)


def _replace(value: Any, replacements: Any, replacement: Any = None, regexp: bool = False) -> str:
    """Pebble's ``replace({'a': 'b'})``, and ``replace('a', 'b')`` too."""
    text = _text_in(value)
    if not isinstance(replacements, Mapping):
        if replacement is None:
            raise FilterError("replace() takes a map {'old': 'new'} or two texts: old, new")
        replacements = {replacements: replacement}
    for old, new in replacements.items():
        old_text, new_text = _text_in(old), _text_in(new)
        if regexp:
            text = re.sub(old_text, new_text.replace("$", "\\"), text)
        else:
            grows = text.count(old_text) * (len(new_text) - len(old_text)) if old_text else 0
            if len(text) + grows > MAX_OUTPUT_CHARS:
                raise LimitExceeded(f"replace() would make more than {MAX_OUTPUT_CHARS} characters")
            text = text.replace(old_text, new_text) if old_text else text
        if len(text) > MAX_OUTPUT_CHARS:
            raise LimitExceeded(f"replace() would make more than {MAX_OUTPUT_CHARS} characters")
    return text


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


def _slugify(value: Any) -> str:
    text = unicodedata.normalize("NFKD", _text_in(value)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _number(value: Any, kind: str | None = None) -> int | float | Decimal:
    text = _text_in(value).strip()
    try:
        if kind is None:
            return int(text) if re.fullmatch(r"[-+]?\d+", text) else float(text)
        kind = kind.upper()
        if kind in {"INT", "LONG", "BIGINTEGER"}:
            return int(text)
        if kind in {"FLOAT", "DOUBLE"}:
            return float(text)
        if kind == "BIGDECIMAL":
            return Decimal(text)
    except ValueError:
        raise FilterError(f"'{text}' is not a number") from None
    raise FilterError(
        f"number() type must be INT, LONG, FLOAT, DOUBLE, BIGDECIMAL or BIGINTEGER, not '{kind}'"
    )


def _abs(value: Any) -> Any:
    return abs(value if is_number(value) else _number(value))


def _round(value: Any, precision: int = 0) -> Any:
    number = value if is_number(value) else _number(value)
    rounded = Decimal(str(number)).quantize(Decimal(1).scaleb(-precision), rounding="ROUND_HALF_UP")
    return int(rounded) if precision <= 0 else float(rounded)


def _number_format(value: Any, pattern: str) -> str:
    """Java's DecimalFormat for the usual patterns: ``#.##``, ``0.00``, ``#,##0.0``."""
    number = Decimal(str(value if is_number(value) else _number(value)))
    whole_pattern, _, fraction_pattern = pattern.partition(".")
    most = len(fraction_pattern)
    least = fraction_pattern.count("0")
    rounded = number.quantize(Decimal(1).scaleb(-most), rounding=ROUND_HALF_EVEN)
    whole, _, fraction = f"{abs(rounded):f}".partition(".")
    fraction = fraction.rstrip("0").ljust(least, "0")
    whole = whole.lstrip("0").rjust(whole_pattern.count("0"), "0")
    if "," in whole_pattern:
        group = len(whole_pattern) - whole_pattern.rfind(",") - 1
        digits = whole
        parts = []
        while len(digits) > group:
            parts.insert(0, digits[-group:])
            digits = digits[:-group]
        whole = ",".join([digits, *parts] if digits else parts)
    sign = "-" if rounded < 0 else ""
    return sign + whole + ("." + fraction if fraction else "")


def _urlencode(value: Any) -> str:
    """Java's URLEncoder: spaces as ``+``, ``*`` kept, ``~`` encoded."""
    return quote_plus(_text_in(value), safe="*").replace("~", "%7E")


def _urldecode(value: Any) -> str:
    return unquote_plus(_text_in(value))


def _base64encode(value: Any) -> str:
    return base64.b64encode(_text_in(value).encode()).decode()


def _base64decode(value: Any) -> str:
    return base64.b64decode(_text_in(value)).decode("utf-8", errors="replace")


def _digest(algorithm: str) -> Callable[[Any], str]:
    def digest(value: Any) -> str:
        return hashlib.new(algorithm, _text_in(value).encode()).hexdigest()

    return digest


def _starts_with(value: Any, prefix: Any) -> bool:
    return _text_in(value).startswith(_text_in(prefix))


def _ends_with(value: Any, suffix: Any) -> bool:
    return _text_in(value).endswith(_text_in(suffix))


def _substring_before(value: Any, separator: str) -> str:
    text = _text_in(value)
    return text.split(separator, 1)[0] if separator else ""


def _substring_after(value: Any, separator: str) -> str:
    text = _text_in(value)
    return text.split(separator, 1)[1] if separator and separator in text else ""


def _substring_before_last(value: Any, separator: str) -> str:
    text = _text_in(value)
    return text.rsplit(separator, 1)[0] if separator and separator in text else text


def _substring_after_last(value: Any, separator: str) -> str:
    text = _text_in(value)
    return text.rsplit(separator, 1)[1] if separator and separator in text else ""


_ESCAPE_STYLES = {"shell": ("'", "'\\''"), "single": ("'", "\\'"), "double": ('"', '\\"')}


def _escape_char(value: Any, type: str | None = None) -> Any:  # noqa: A002 - Kestra's name
    if type is None or type.lower() not in _ESCAPE_STYLES:
        raise FilterError("escapeChar() expects 'single', 'double', or 'shell'")
    old, new = _ESCAPE_STYLES[type.lower()]
    if isinstance(value, Mapping):
        return {k: _escape_char(v, type) for k, v in value.items()}
    if isinstance(value, list):
        return [_escape_char(item, type) for item in value]
    return _text_in(value).replace(old, new)


def _to_yaml(value: Any) -> str:
    plain = json.loads(to_json(value))
    return yaml.safe_dump(plain, default_flow_style=False, sort_keys=False, allow_unicode=True)


def _indent(value: Any, amount: int, prefix: str = " ") -> str:
    if not 0 <= amount <= MAX_INDENT:
        raise FilterError(f"indent() takes 0 to {MAX_INDENT} characters")
    lines = _text_in(value).split("\n")
    pad = prefix * amount
    return "\n".join([lines[0], *(pad + line if line else line for line in lines[1:])])


def _nindent(value: Any, amount: int, prefix: str = " ") -> str:
    if not 0 <= amount <= MAX_INDENT:
        raise FilterError(f"nindent() takes 0 to {MAX_INDENT} characters")
    pad = prefix * amount
    return "\n" + "\n".join(pad + line if line else line for line in _text_in(value).split("\n"))


# ---------------------------------------------------------------------------------------
# Dates, with Java's DateTimeFormatter patterns


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
            text = _offset_text(offset, colon=False)
            return text if text[3:] != "00" else text[:3]
        return _offset_text(offset, colon=count >= 3)
    if letter == "Z":
        if count == 4:
            return "GMT" + (_offset_text(offset, colon=True) if offset else "")
        if count == 5:
            return _offset_text(offset, colon=True) if offset else "Z"
        return _offset_text(offset, colon=False)
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


# ---------------------------------------------------------------------------------------
# jq: the path subset (.a.b, .[0], .a[], .["k"])


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


def _jq(value: Any, expression: str) -> list[Any]:
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


# ---------------------------------------------------------------------------------------
# Functions


def _now(
    format: str | None = None,  # noqa: A002
    timeZone: str | None = None,  # noqa: N803
) -> datetime | str:
    moment = datetime.now(UTC)
    if format is None and timeZone is None:
        return moment
    return _format_date(moment.astimezone(_zone(timeZone)), format or "iso")


def _from_json(text: Any) -> Any:
    if text is None:
        return None
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError as exc:
        raise FilterError(f"not valid JSON: {exc}") from None


def _from_yaml(text: Any) -> Any:
    try:
        return yaml.safe_load(_text_in(text))
    except yaml.YAMLError as exc:
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


def _strict(function: Callable[..., Any]) -> Callable[..., Any]:
    """A filter fails on a missing value instead of treating it as empty (except default)."""

    def strict(value: Any, *args: Any, **kwargs: Any) -> Any:
        for argument in (value, *args, *kwargs.values()):
            if isinstance(argument, Undefined):
                argument._fail_with_undefined_error()
        return function(value, *args, **kwargs)

    return strict


_PLAIN_FILTERS: dict[str, Callable[..., Any]] = {
    "abbreviate": _abbreviate,
    "abs": _abs,
    "base64decode": _base64decode,
    "base64encode": _base64encode,
    "capitalize": _capitalize,
    "chunk": _chunk,
    "date": _date,
    "dateAdd": _date_add,
    "distinct": _distinct,
    "endsWith": _ends_with,
    "escapeChar": _escape_char,
    "first": _first,
    "flatten": _flatten,
    "indent": _indent,
    "jq": _jq,
    "join": _join,
    "json": to_json,
    "jsonEncode": to_json,
    "keys": _keys,
    "last": _last,
    "length": _length,
    "lower": lambda value: _text_in(value).lower(),
    "md5": _digest("md5"),
    "merge": _merge,
    "nindent": _nindent,
    "number": _number,
    "numberFormat": _number_format,
    "numberformat": _number_format,
    "replace": _replace,
    "reverse": _reverse,
    "round": _round,
    "rsort": _rsort,
    "sha1": _digest("sha1"),
    "sha256": _digest("sha256"),
    "sha512": _digest("sha512"),
    "slice": _slice,
    "slugify": _slugify,
    "sort": _sort,
    "split": _split,
    "startsWith": _starts_with,
    "string": to_text,
    "substringAfter": _substring_after,
    "substringAfterLast": _substring_after_last,
    "substringBefore": _substring_before,
    "substringBeforeLast": _substring_before_last,
    "timestamp": _timestamp(1),
    "timestampMilli": _timestamp(10**3),
    "timestampMicro": _timestamp(10**6),
    "timestampNano": _timestamp(10**9),
    "title": _title,
    "toJson": to_json,
    "toYaml": _to_yaml,
    "trim": lambda value: _text_in(value).strip(),
    "upper": lambda value: _text_in(value).upper(),
    "urldecode": _urldecode,
    "urlencode": _urlencode,
    "values": _values,
    "yaml": _to_yaml,
}


def _is_json(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        json.loads(value)
    except ValueError:
        return False
    return True


FILTERS: dict[str, Callable[..., Any]] = {
    **{name: _strict(function) for name, function in _PLAIN_FILTERS.items()},
    "default": _default,  # the one filter that takes a missing value
}

TESTS: dict[str, Callable[..., bool]] = {"empty": is_empty, "json": _is_json}

FUNCTIONS: dict[str, Callable[..., Any]] = {
    "now": _now,
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
