"""Kestra's filters over numbers: reading them from text, rounding, Java's DecimalFormat."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from .errors import FilterError
from .printing import is_number, to_text


def _number(value: Any, kind: str | None = None) -> int | float | Decimal:
    text = to_text(value).strip()
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
        parts: list[str] = []
        while len(digits) > group:
            parts.insert(0, digits[-group:])
            digits = digits[:-group]
        whole = ",".join([digits, *parts] if digits else parts)
    sign = "-" if rounded < 0 else ""
    return sign + whole + ("." + fraction if fraction else "")


NUMBER_FILTERS: dict[str, Callable[..., Any]] = {
    "abs": _abs,
    "number": _number,
    "numberFormat": _number_format,
    "numberformat": _number_format,
    "round": _round,
}
