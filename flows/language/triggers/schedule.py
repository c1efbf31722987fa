"""The Schedule trigger: Kestra's cron expressions, read in a time zone."""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable, Iterator
from datetime import datetime
from functools import lru_cache
from itertools import islice
from typing import Any, Literal

from croniter import croniter
from croniter.croniter import CroniterError
from pydantic import Field, ValidationInfo, field_validator

from ..tasks import LanguageModel, NotSupportedYet
from ..values import Duration
from .base import BaseTrigger
from .conditions import (
    Condition,
    ConditionContext,
    ConditionInvalid,
    MultipleCondition,
    conditions_hold,
)

SLOTS_SEARCHED = 400  # how far trigger.next and trigger.previous look for a slot that qualifies
CRON_NICKNAMES = frozenset(
    {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}
)


@lru_cache(maxsize=512)
def cron_error(expression: str, with_seconds: bool) -> str | None:
    """Why ``expression`` is not a Kestra cron, or None when it is one."""
    text = expression.strip()
    if text.lower() in CRON_NICKNAMES:
        return None
    fields = len(text.split())
    wanted = 6 if with_seconds else 5
    if fields != wanted:
        hint = (
            "6 fields, seconds first, since withSeconds is true"
            if with_seconds
            else "5 fields (minute hour day-of-month month day-of-week), or set withSeconds: true for 6"
        )
        return f"Invalid cron expression '{expression}': it has {fields} fields; use {hint}"
    try:
        croniter(text, second_at_beginning=True)
    except (CroniterError, ValueError, KeyError) as exc:
        return f"Invalid cron expression '{expression}': {exc}"
    return None


def cron_slots(
    expression: str, with_seconds: bool, zone: str, after: datetime
) -> Iterable[datetime]:
    """The schedule's dates strictly after ``after``, in the trigger's time zone."""
    start = after.astimezone(zoneinfo.ZoneInfo(zone))
    return croniter(
        expression.strip(), start, ret_type=datetime, second_at_beginning=True
    ).all_next(datetime)


def cron_slot_before(expression: str, zone: str, before: datetime) -> datetime:
    start = before.astimezone(zoneinfo.ZoneInfo(zone))
    cron = croniter(expression.strip(), start, ret_type=datetime, second_at_beginning=True)
    return cron.get_prev(datetime)


class ScheduleBackfill(LanguageModel):
    """Kestra's deprecated ``backfill:``: with a start, the past slots run once; empty
    (``backfill: {}``), nothing happens, as in Kestra."""

    start: datetime | None = Field(None, description="First date to run, e.g. 2024-01-01T00:00:00Z")
    end: datetime | None = Field(None, description="Last date to run; the arming time if unset")
    labels: dict[str, str] = Field(default_factory=dict)

    @field_validator("start", "end")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("needs a time zone, e.g. 2024-01-01T00:00:00Z")
        return value


class ScheduleTrigger(BaseTrigger):
    """Starts the flow on a cron schedule."""

    type: Literal[
        "io.kestra.plugin.core.trigger.Schedule",
        "io.kestra.core.models.triggers.types.Schedule",
        "Schedule",
    ]
    # Before cron: cron's validator reads it.
    with_seconds: bool = Field(False, description="The cron has 6 fields, seconds first")
    cron: str = Field(
        description="Cron expression: 5 fields, 6 with withSeconds, or @hourly, @daily..."
    )
    timezone: str = Field("Etc/UTC", description="Time zone the cron is read in, e.g. Europe/Paris")
    # Any: input values as YAML wrote them, or expressions rendered when the slot fires.
    inputs: dict[str, Any] = Field(
        default_factory=dict, description="Inputs of the executions it starts"
    )
    recover_missed_schedules: Literal["ALL", "LAST", "NONE"] = Field(
        "ALL",
        description="Slots missed while the clock was down: ALL runs each, LAST the latest, NONE none",
    )
    late_maximum_delay: Duration | None = Field(
        None, description="Skip a slot that could not start within this delay"
    )
    backfill: ScheduleBackfill | None = Field(
        None, description="Deprecated by Kestra: run the slots since start once, when first armed"
    )
    conditions: list[Condition] = Field(
        default_factory=list, description="A slot runs only when all of these hold"
    )
    schedule_conditions: list[Condition] = Field(
        default_factory=list, description="Deprecated by Kestra: conditions"
    )
    interval: NotSupportedYet = None

    @field_validator("cron")
    @classmethod
    def _cron_is_valid(cls, value: str, info: ValidationInfo) -> str:
        error = cron_error(value, bool(info.data.get("with_seconds", False)))
        if error:
            raise ValueError(error)
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone_is_known(cls, value: str) -> str:
        if value not in _time_zones():
            raise ValueError(
                f"Unknown time zone '{value}': use an IANA name such as Europe/Paris or Etc/UTC"
            )
        return value

    @field_validator("recover_missed_schedules", mode="before")
    @classmethod
    def _default_policy(cls, value: object) -> object:
        return "ALL" if value is None else value

    @field_validator("conditions", "schedule_conditions")
    @classmethod
    def _no_multiple(cls, value: list[Any]) -> list[Any]:
        if any(isinstance(c, MultipleCondition) for c in value):
            raise ValueError("MultipleCondition belongs to a Flow trigger, not a Schedule")
        return value

    @property
    def all_conditions(self) -> list[Any]:
        return [*self.conditions, *self.schedule_conditions]

    def admits(self, slot: datetime, variables: dict[str, Any]) -> bool:
        """Whether the slot runs: every condition holds for it (``trigger.date`` is the
        slot). A condition that cannot be decided raises ConditionInvalid."""
        if not self.all_conditions:
            return True
        return conditions_hold(self.all_conditions, ConditionContext(variables=variables))

    @property
    def signature(self) -> str:
        """What decides the dates: a change re-arms the schedule."""
        return f"{self.cron.strip()}|{self.with_seconds}|{self.timezone}"

    def slots_after(self, after: datetime) -> Iterable[datetime]:
        return cron_slots(self.cron, self.with_seconds, self.timezone, after)

    def next_slot(self, after: datetime) -> datetime:
        return next(iter(self.slots_after(after)))

    def previous_slot(self, before: datetime) -> datetime:
        return cron_slot_before(self.cron, self.timezone, before)

    def variables(self, slot: datetime) -> dict[str, str]:
        """``trigger.date``, ``trigger.next`` and ``trigger.previous`` of one slot: with
        conditions, as Kestra, the next and previous slots that meet them."""
        following, before = self.next_slot(slot), self.previous_slot(slot)
        if self.all_conditions:
            following = self._first_admitted(self.slots_after(slot)) or following
            before = self._first_admitted(self._slots_before(slot)) or before
        return {
            "date": slot.isoformat(),
            "next": following.isoformat(),
            "previous": before.isoformat(),
        }

    def _slots_before(self, slot: datetime) -> Iterator[datetime]:
        while True:
            slot = self.previous_slot(slot)
            yield slot

    def _first_admitted(self, slots: Iterable[datetime]) -> datetime | None:
        for slot in islice(slots, SLOTS_SEARCHED):
            try:
                if self.admits(slot, {"trigger": {"date": slot.isoformat()}}):
                    return slot
            except ConditionInvalid:
                return None
        return None


@lru_cache(maxsize=1)
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())
