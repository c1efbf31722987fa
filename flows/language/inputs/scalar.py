"""Inputs holding one plain value: text, email, URI, whole and decimal numbers, booleans."""

from __future__ import annotations

import re
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from flowsite.patterns import PatternError, pattern_fullmatch, user_pattern

from .base import BaseInput, as_text, bounds_in_order, in_range, quoted

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_INTEGER = re.compile(r"^[+-]?\d+$")


class StringInput(BaseInput):
    """Free text, optionally checked against a regular expression."""

    type: Literal["STRING"]
    validator: str | None = Field(None, description="Regular expression the whole value matches")
    min_length: int | None = Field(None, ge=0, description="Fewest characters")
    max_length: int | None = Field(None, ge=0, description="Most characters")

    @field_validator("validator")
    @classmethod
    def _validator_compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                user_pattern(value)
            except PatternError as exc:
                raise ValueError(str(exc)[:1].upper() + str(exc)[1:]) from None
        return value

    def _check_definition(self) -> None:
        bounds_in_order(self, "min_length", "max_length")

    def coerce(self, value: object) -> str:
        text = as_text(value)
        if self.validator is not None and not pattern_fullmatch(self.validator, text):
            raise ValueError(f"must match the pattern '{self.validator}', got {quoted(text)}")
        if self.min_length is not None and len(text) < self.min_length:
            raise ValueError(f"must be at least {self.min_length} characters long")
        if self.max_length is not None and len(text) > self.max_length:
            raise ValueError(f"must be at most {self.max_length} characters long")
        return text


class SecretInput(StringInput):
    """Text kept secret: stored encrypted with the execution, hidden in its logs and
    outputs, and given in clear only to the expressions that read it."""

    type: Literal["SECRET"]  # type: ignore[assignment]  # a STRING of its own kind


class EmailInput(BaseInput):
    """An email address."""

    type: Literal["EMAIL"]

    def coerce(self, value: object) -> str:
        text = as_text(value).strip()
        if not _EMAIL.match(text):
            raise ValueError(f"must be an email address, got {quoted(text)}")
        return text


class UriInput(BaseInput):
    """A URI with a scheme, such as https://example.com/data.csv."""

    type: Literal["URI"]

    def coerce(self, value: object) -> str:
        text = as_text(value).strip()
        parts = urlsplit(text)
        if not parts.scheme or not (parts.netloc or parts.path) or " " in text:
            raise ValueError(
                f"must be a URI such as https://example.com/data.csv, got {quoted(text)}"
            )
        return text


def _integer(value: object) -> int:
    if isinstance(value, bool):
        raise ValueError(f"must be an integer, got {quoted(value)}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INTEGER.match(value.strip()):
        return int(value.strip())
    raise ValueError(f"must be an integer, got {quoted(value)}")


class IntInput(BaseInput):
    """A whole number."""

    type: Literal["INT"]
    min: int | None = Field(None, description="Smallest value allowed")
    max: int | None = Field(None, description="Largest value allowed")

    def _check_definition(self) -> None:
        bounds_in_order(self, "min", "max")

    def coerce(self, value: object) -> int:
        number = _integer(value)
        in_range(number, self.min, self.max)
        return number


def _float(value: object) -> float:
    if isinstance(value, bool):
        raise ValueError(f"must be a number, got {quoted(value)}")
    if isinstance(value, int | float):
        try:
            return float(value)
        except OverflowError:  # an integer of 400 digits
            raise ValueError(f"must be a number a double holds, got {quoted(value)}") from None
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            pass
        else:
            if number == number and number not in (float("inf"), float("-inf")):
                return number
    raise ValueError(f"must be a number, got {quoted(value)}")


class FloatInput(BaseInput):
    """A decimal number."""

    type: Literal["FLOAT"]
    min: float | None = Field(None, description="Smallest value allowed")
    max: float | None = Field(None, description="Largest value allowed")

    def _check_definition(self) -> None:
        bounds_in_order(self, "min", "max")

    def coerce(self, value: object) -> float:
        number = _float(value)
        in_range(number, self.min, self.max)
        return number


_TRUE = {"true", "on", "yes", "1"}
_FALSE = {"false", "off", "no", "0"}


def _boolean(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise ValueError(f"must be true or false, got {quoted(value)}")


class BooleanInput(BaseInput):
    """True or false; shown as a checkbox."""

    type: Literal["BOOLEAN", "BOOL"]

    def coerce(self, value: object) -> bool:
        return _boolean(value)
