"""Kestra's date conditions: they read ``date``, ``{{ trigger.date }}`` unless told
otherwise, so they work on a Schedule's slot and on anything whose variables hold a date."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Literal

import holidays
from pydantic import Field, field_validator

from ..tasks import LanguageModel
from .condition_base import TRIGGER_DATE, ConditionContext, ConditionInvalid, instant

DayOfWeek = Literal["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"]
DEFAULT_COUNTRY = "US"
_DAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")


class _DateCondition(LanguageModel):
    date: str = Field(TRIGGER_DATE, description="The date to test; the trigger's by default")

    def _date(self, context: ConditionContext) -> datetime:
        return instant(context.render(self.date))


class DayWeekCondition(_DateCondition):
    """The date falls on this day of the week."""

    type: Literal[
        "io.kestra.plugin.core.condition.DayWeek",
        "io.kestra.plugin.core.condition.DayWeekCondition",
        "io.kestra.core.models.conditions.types.DayWeekCondition",
    ]
    day_of_week: DayOfWeek

    def test(self, context: ConditionContext) -> bool:
        return _DAYS[self._date(context).weekday()] == self.day_of_week


class DayWeekInMonthCondition(_DateCondition):
    """The date is the first (second, third, fourth, last) such weekday of its month."""

    type: Literal[
        "io.kestra.plugin.core.condition.DayWeekInMonth",
        "io.kestra.plugin.core.condition.DayWeekInMonthCondition",
        "io.kestra.core.models.conditions.types.DayWeekInMonthCondition",
    ]
    day_of_week: DayOfWeek
    day_in_month: Literal["FIRST", "SECOND", "THIRD", "FOURTH", "LAST"]

    def test(self, context: ConditionContext) -> bool:
        day = self._date(context).date()
        if _DAYS[day.weekday()] != self.day_of_week:
            return False
        if self.day_in_month == "LAST":
            return (day + timedelta(days=7)).month != day.month
        return (day.day - 1) // 7 == ("FIRST", "SECOND", "THIRD", "FOURTH").index(self.day_in_month)


class WeekendCondition(_DateCondition):
    """The date is a Saturday or a Sunday."""

    type: Literal[
        "io.kestra.plugin.core.condition.Weekend",
        "io.kestra.plugin.core.condition.WeekendCondition",
        "io.kestra.core.models.conditions.types.WeekendCondition",
    ]

    def test(self, context: ConditionContext) -> bool:
        return self._date(context).weekday() >= 5


class DateTimeBetweenCondition(_DateCondition):
    """The date is strictly after ``after`` and before ``before`` (either may be left out)."""

    type: Literal[
        "io.kestra.plugin.core.condition.DateTimeBetween",
        "io.kestra.plugin.core.condition.DateTimeBetweenCondition",
        "io.kestra.core.models.conditions.types.DateTimeBetweenCondition",
    ]
    after: datetime | None = None
    before: datetime | None = None

    @field_validator("after", "before")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        return value.replace(tzinfo=UTC) if value and value.tzinfo is None else value

    def test(self, context: ConditionContext) -> bool:
        if self.after is None and self.before is None:
            raise ConditionInvalid("DateTimeBetween needs after or before")
        moment = self._date(context)
        return (self.after is None or moment > self.after) and (
            self.before is None or moment < self.before
        )


class TimeBetweenCondition(_DateCondition):
    """The time of day of the date is after ``after`` and before ``before`` (with offsets)."""

    type: Literal[
        "io.kestra.plugin.core.condition.TimeBetween",
        "io.kestra.plugin.core.condition.TimeBetweenCondition",
        "io.kestra.core.models.conditions.types.TimeBetweenCondition",
    ]
    after: time | None = None
    before: time | None = None

    @field_validator("after", "before")
    @classmethod
    def _aware(cls, value: time | None) -> time | None:
        return value.replace(tzinfo=UTC) if value and value.tzinfo is None else value

    def test(self, context: ConditionContext) -> bool:
        if self.after is None and self.before is None:
            raise ConditionInvalid("TimeBetween needs after or before")
        moment = self._date(context)
        # Compared in UTC on one day: Python compares aware times, but not across midnight.
        seconds = _seconds(moment.timetz())
        return (self.after is None or seconds > _seconds(self.after)) and (
            self.before is None or seconds < _seconds(self.before)
        )


def _seconds(moment: time) -> float:
    offset = moment.utcoffset() or timedelta(0)
    total = moment.hour * 3600 + moment.minute * 60 + moment.second + moment.microsecond / 1e6
    return (total - offset.total_seconds()) % 86400


class PublicHolidayCondition(_DateCondition):
    """The date is a public holiday of ``country`` (ISO 3166-1, e.g. FR), or of its
    ``subDivision`` (ISO 3166-2, e.g. CA for a US state). Without a country, the US
    calendar (Kestra takes the server's locale)."""

    type: Literal[
        "io.kestra.plugin.core.condition.PublicHoliday",
        "io.kestra.plugin.core.condition.PublicHolidayCondition",
        "io.kestra.core.models.conditions.types.PublicHolidayCondition",
    ]
    country: str | None = None
    sub_division: str | None = None

    def test(self, context: ConditionContext) -> bool:
        country = context.render(self.country or DEFAULT_COUNTRY).strip().upper()
        division = context.render(self.sub_division).strip().upper() if self.sub_division else None
        try:
            calendar = holidays.country_holidays(country, subdiv=division)
        except NotImplementedError:
            raise ConditionInvalid(f"No public holiday calendar for country '{country}'") from None
        return self._date(context).date() in calendar
