"""Inputs that hold a point or a length of time: DATETIME, DATE, TIME and DURATION."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

from pydantic import Field, field_validator

from flowsite.values import DurationTooLong, format_instant, format_iso_duration, parse_duration

from ..values import Duration
from .base import BaseInput, bounds_in_order, in_range, quoted


def parse_instant(value: object) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(
                f"must be a date and time such as 2024-01-31T09:30:00Z, got {quoted(value)}"
            ) from None
    else:
        raise ValueError(
            f"must be a date and time such as 2024-01-31T09:30:00Z, got {quoted(value)}"
        )
    # A browser's datetime-local field sends no offset: Flowsite's form says it is UTC.
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


class DateTimeInput(BaseInput):
    """An instant, stored in UTC (ISO-8601 with a Z)."""

    type: Literal["DATETIME"]
    after: datetime | None = Field(None, description="Earliest instant allowed")
    before: datetime | None = Field(None, description="Latest instant allowed")

    @field_validator("after", "before")
    @classmethod
    def _in_utc(cls, value: datetime | None) -> datetime | None:
        return None if value is None else parse_instant(value)

    def _check_definition(self) -> None:
        bounds_in_order(self, "after", "before")

    def coerce(self, value: object) -> str:
        moment = parse_instant(value)
        in_range(moment, self.after, self.before, format_instant)
        return format_instant(moment)


def _date(value: object) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"must be a date such as 2024-01-31, got {quoted(value)}")


class DateInput(BaseInput):
    """A calendar date, stored as YYYY-MM-DD."""

    type: Literal["DATE"]
    after: date | None = Field(None, description="Earliest date allowed")
    before: date | None = Field(None, description="Latest date allowed")

    def _check_definition(self) -> None:
        bounds_in_order(self, "after", "before")

    def coerce(self, value: object) -> str:
        day = _date(value)
        in_range(day, self.after, self.before, date.isoformat)
        return day.isoformat()


def _time(value: object) -> time:
    if isinstance(value, time):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 86400:
        # YAML 1.1 reads an unquoted 14:30:00 as a number of seconds (sexagesimal).
        return (datetime.min + timedelta(seconds=value)).time()
    if isinstance(value, str):
        try:
            return time.fromisoformat(value.strip()).replace(tzinfo=None)
        except ValueError:
            pass
    raise ValueError(f"must be a time such as 14:30:00, got {quoted(value)}")


class TimeInput(BaseInput):
    """A time of day, stored as HH:MM:SS."""

    type: Literal["TIME"]
    after: time | None = Field(None, description="Earliest time allowed")
    before: time | None = Field(None, description="Latest time allowed")

    @field_validator("after", "before", mode="before")
    @classmethod
    def _sexagesimal(cls, value: object) -> time | None:
        return _time(value) if value is not None else None

    def _check_definition(self) -> None:
        bounds_in_order(self, "after", "before")

    def coerce(self, value: object) -> str:
        moment = _time(value)
        in_range(moment, self.after, self.before, time.isoformat)
        return moment.isoformat()


class DurationInput(BaseInput):
    """A length of time in ISO-8601, such as PT1H or P1DT12H."""

    type: Literal["DURATION"]
    min: Duration | None = Field(None, description="Shortest duration allowed")
    max: Duration | None = Field(None, description="Longest duration allowed")

    def _check_definition(self) -> None:
        bounds_in_order(self, "min", "max")

    def coerce(self, value: object) -> str:
        try:
            length = parse_duration(value)
        except DurationTooLong as exc:
            raise ValueError(f"must be shorter: {exc}") from None
        except ValueError:
            raise ValueError(
                f"must be an ISO-8601 duration such as PT1H, got {quoted(value)}"
            ) from None
        in_range(length, self.min, self.max, format_iso_duration)
        return format_iso_duration(length)
