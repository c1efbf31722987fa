"""Durations, instants, memory sizes and relative paths, read and written one way
across Flowsite.

Plain Python with no Django import, so that the flow language, the expression library,
the engine, the runners and the pages can all use it without importing each other.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

# ---------------------------------------------------------------------------------------
# Durations: ISO-8601 as Kestra writes them (PT30S, PT1H30M, P1DT12H)

DURATION_PATTERN = (
    r"^P(?:(?P<days>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?"
    r"(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)
_DURATION = re.compile(DURATION_PATTERN)
# Longer ones are typing mistakes, and added to "now" they overflow Python's dates.
MAX_DURATION = timedelta(days=36_500)


class DurationTooLong(ValueError):
    """A well-formed duration longer than MAX_DURATION."""


def parse_duration(value: object) -> timedelta:
    """A ``timedelta`` from ISO-8601 text (``PT30S``, ``P1DT2H``); ValueError otherwise."""
    if isinstance(value, timedelta):
        return value
    if not isinstance(value, str):
        raise ValueError("must be an ISO-8601 duration such as PT30S or PT1H")
    text = value.strip().upper()
    match = _DURATION.match(text)
    # The pattern lets every part be absent; "P", "PT" and "P1DT" name no length at all.
    if not match or text in {"P", "PT"} or text.endswith("T"):
        raise ValueError(f"'{value}' is not an ISO-8601 duration such as PT30S or PT1H")
    parts = {name: float(number) for name, number in match.groupdict().items() if number}
    try:
        duration = timedelta(**parts)
    except OverflowError:  # more days than timedelta holds, or a number of 400 digits
        duration = MAX_DURATION * 2
    if duration > MAX_DURATION:
        shown = value if len(value) <= 40 else value[:30] + f"... ({len(value)} characters)"
        raise DurationTooLong(
            f"'{shown}' is longer than the longest duration allowed, P36500D (100 years)"
        )
    return duration


def format_iso_duration(duration: timedelta) -> str:
    """Java's ``Duration.toString()``, which Kestra stores and prints: ``PT1H30M``,
    ``PT48H`` (no days), ``PT0.5S``, ``PT0S``, and ``PT-1H-30M`` for a negative one."""
    # Decimal, not float: a length of days keeps its microseconds exactly.
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


def format_seconds(duration: timedelta, places: int = 2) -> str:
    """A duration for people reading a page: ``1.25 s``."""
    return f"{duration.total_seconds():.{places}f} s"


# ---------------------------------------------------------------------------------------
# Instants


def format_instant(moment: datetime) -> str:
    """Kestra's spelling of an instant: ISO-8601 in UTC ending in ``Z``
    (``2026-11-24T10:00:00.123000Z``). A naive moment is taken as UTC, as Flowsite
    stores every moment in UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


# ---------------------------------------------------------------------------------------
# Memory sizes: Kestra's and Docker's spellings, for a task's limit and for the default

_MEMORY = re.compile(r"^(?P<number>\d+(?:\.\d+)?)\s*(?P<unit>[kmgt]?i?b?)?$", re.IGNORECASE)
_MEMORY_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


def parse_memory(value: object) -> int:
    """Bytes from Kestra's and Docker's spellings: 512MB, 1GiB, 256m, or a byte count."""
    if isinstance(value, bool):
        raise ValueError("must be a memory size such as 512MB")
    if isinstance(value, int):
        return value
    match = _MEMORY.match(str(value).strip())
    if not match:
        raise ValueError(f"'{value}' is not a memory size such as 512MB or 1GB")
    unit = (match["unit"] or "").lower().rstrip("b").rstrip("i")
    return int(float(match["number"]) * _MEMORY_UNITS[unit])


def format_memory(size: int) -> str:
    """A byte count as people read a limit: 256 MB (Docker's MB, 1024 x 1024 bytes)."""
    return f"{size / 1024**2:.6g} MB"


# ---------------------------------------------------------------------------------------
# Relative paths


def relative_path_check(name: str, *, what: str = "file name") -> str:
    """``name`` as it is when it is a clean relative POSIX path, or ValueError saying why.

    One rule for storage paths, a task's inputFiles and its outputFiles patterns: a file
    can never point outside the directory it belongs to, and each file has one spelling
    (no ``.`` or empty segments), so two names never reach the same file.
    """
    if not name.strip():
        raise ValueError(f"the {what} is empty")
    if "\x00" in name or "\\" in name:
        raise ValueError(f"the {what} '{name}' contains a backslash or a NUL character")
    if name.startswith("/"):
        raise ValueError(f"the {what} '{name}' must be a relative path, not an absolute one")
    if any(segment in ("", ".", "..") for segment in name.split("/")):
        raise ValueError(
            f"the {what} '{name}' must be a relative path and must not contain '..', '.'"
            " or empty segments"
        )
    return name


def format_duration(seconds: float) -> str:
    """A duration as the execution page shows it, in the unit that suits its length:
    ``38 ms``, ``2.41 s``, ``12.4 s``, ``3 min 12 s``, ``1 h 02 min``. (The page's
    script, static/flowsite/execution.js, writes ticking durations the same way.)"""
    seconds = max(seconds, 0.0)
    # Each limit sits where rounding would carry into the next unit ("1000 ms").
    if seconds < 0.9995:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 9.995:
        return f"{seconds:.2f} s"
    if seconds < 59.95:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    if whole < 3600:
        return f"{whole // 60} min {whole % 60} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"
