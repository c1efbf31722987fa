"""The triggers of Kestra's flow language: Schedule, Webhook and Flow, one typed model each.

As with tasks, each ``type`` Literal lists the Kestra name first, then the older Kestra
name and Flowsite's short alias. The models only describe and validate; the ``triggers``
app keeps their state (next date, enabled) and fires them.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache
from typing import Annotated, Any, Literal

from croniter import croniter
from croniter.croniter import CroniterError
from pydantic import AfterValidator, Field, ValidationInfo, field_validator

from .tasks import LanguageModel, NotSupportedYet
from .values import NAMESPACE_PATTERN, TASK_ID_PATTERN, Duration

# Every state name Kestra accepts in a trigger, so flows written for Kestra validate; the
# states Flowsite never reaches simply never match.
KestraState = Literal[
    "CREATED",
    "SUBMITTED",
    "RUNNING",
    "PAUSED",
    "RESTARTED",
    "KILLING",
    "SUCCESS",
    "WARNING",
    "FAILED",
    "KILLED",
    "CANCELLED",
    "QUEUED",
    "RETRYING",
    "RETRIED",
    "SKIPPED",
    "BREAKPOINT",
    "RESUBMITTED",
]
TERMINAL_OR_PAUSED: tuple[KestraState, ...] = (
    "SUCCESS",
    "WARNING",
    "FAILED",
    "KILLED",
    "CANCELLED",
    "RETRIED",
    "SKIPPED",
    "PAUSED",
)
CRON_NICKNAMES = frozenset(
    {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}
)


class BaseTrigger(LanguageModel):
    id: str = Field(pattern=TASK_ID_PATTERN, max_length=100, description="Unique id of the trigger")
    description: str | None = None
    disabled: bool = Field(False, description="Never fire this trigger")
    stop_after: list[KestraState] = Field(
        default_factory=list,
        description="Disable the trigger once an execution it started ends in one of these states",
    )
    allow_concurrent: NotSupportedYet = None
    log_to_file: NotSupportedYet = None
    min_log_level: NotSupportedYet = None
    worker_group: NotSupportedYet = None

    @property
    def canonical_type(self) -> str:
        return type(self).model_fields["type"].annotation.__args__[0]  # type: ignore[union-attr]


# --- Schedule ---------------------------------------------------------------------------


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
    start: datetime = Field(description="First date to run, e.g. 2024-01-01T00:00:00Z")
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
    conditions: NotSupportedYet = None
    schedule_conditions: NotSupportedYet = None
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
    def _default_policy(cls, value: Any) -> Any:
        return "ALL" if value is None else value

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
        """``trigger.date``, ``trigger.next`` and ``trigger.previous`` of one slot."""
        return {
            "date": slot.isoformat(),
            "next": self.next_slot(slot).isoformat(),
            "previous": self.previous_slot(slot).isoformat(),
        }


@lru_cache(maxsize=1)
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


# --- Webhook ----------------------------------------------------------------------------


class WebhookTrigger(BaseTrigger):
    """Starts the flow when its secret URL is called."""

    type: Literal[
        "io.kestra.plugin.core.trigger.Webhook",
        "io.kestra.core.models.triggers.types.Webhook",
        "Webhook",
    ]
    key: str = Field(
        min_length=1,
        max_length=256,
        description="The secret part of the URL /api/v1/executions/webhook/{namespace}/{flowId}/{key}",
    )
    inputs: dict[str, Any] = Field(
        default_factory=dict, description="Inputs of the executions it starts"
    )
    conditions: NotSupportedYet = None
    when: NotSupportedYet = None
    wait: NotSupportedYet = None
    return_outputs: NotSupportedYet = None
    response_content_type: NotSupportedYet = None
    response_code: NotSupportedYet = None
    fetch_type: NotSupportedYet = None


# --- Flow -------------------------------------------------------------------------------


class ExecutionFlowCondition(LanguageModel):
    """The ending execution belongs to this flow."""

    type: Literal[
        "io.kestra.plugin.core.condition.ExecutionFlow",
        "io.kestra.plugin.core.condition.ExecutionFlowCondition",
        "io.kestra.core.models.conditions.types.ExecutionFlowCondition",
    ]
    namespace: str = Field(pattern=NAMESPACE_PATTERN)
    flow_id: str

    def matches(self, event: FlowEvent) -> bool:
        return event.namespace == self.namespace and event.flow_id == self.flow_id


class ExecutionStatusCondition(LanguageModel):
    """The ending execution's state is in ``in`` and not in ``notIn``."""

    type: Literal[
        "io.kestra.plugin.core.condition.ExecutionStatus",
        "io.kestra.plugin.core.condition.ExecutionStatusCondition",
        "io.kestra.core.models.conditions.types.ExecutionStatusCondition",
    ]
    in_: list[KestraState] = Field(default_factory=list, alias="in")
    not_in: list[KestraState] = Field(default_factory=list)

    def matches(self, event: FlowEvent) -> bool:
        return (not self.in_ or event.state in self.in_) and event.state not in self.not_in


class ExecutionNamespaceCondition(LanguageModel):
    """The ending execution's namespace equals, starts or ends with ``namespace``."""

    type: Literal[
        "io.kestra.plugin.core.condition.ExecutionNamespace",
        "io.kestra.plugin.core.condition.ExecutionNamespaceCondition",
        "io.kestra.core.models.conditions.types.ExecutionNamespaceCondition",
    ]
    namespace: str
    comparison: Literal["EQUALS", "PREFIX", "SUFFIX"] | None = None
    prefix: bool = Field(False, description="Older form of comparison: PREFIX")

    def matches(self, event: FlowEvent) -> bool:
        comparison = self.comparison or ("PREFIX" if self.prefix else "EQUALS")
        if comparison == "PREFIX":
            return event.namespace.startswith(self.namespace)
        if comparison == "SUFFIX":
            return event.namespace.endswith(self.namespace)
        return event.namespace == self.namespace


FlowCondition = Annotated[
    ExecutionFlowCondition | ExecutionStatusCondition | ExecutionNamespaceCondition,
    Field(discriminator="type"),
]


class UpstreamFlow(LanguageModel):
    """One entry of ``preconditions.flows``: executions of this flow (or namespace)."""

    namespace: str = Field(pattern=NAMESPACE_PATTERN)
    flow_id: str | None = None
    states: list[KestraState] = Field(default_factory=list)
    labels: dict[str, str] = Field(default_factory=dict)

    def matches(self, event: FlowEvent) -> bool:
        return (
            event.namespace == self.namespace
            and (self.flow_id is None or event.flow_id == self.flow_id)
            and (not self.states or event.state in self.states)
            and all(event.labels.get(k) == str(v) for k, v in self.labels.items())
        )


class Preconditions(LanguageModel):
    """Kestra's newer form: every listed flow must have ended as asked, within a day."""

    id: str | None = None
    flows: list[UpstreamFlow] = Field(min_length=1)
    where: NotSupportedYet = None
    time_window: NotSupportedYet = None
    reset_on_success: NotSupportedYet = None


class FlowEvent(LanguageModel):
    """An execution that just ended, as Flow triggers see it."""

    namespace: str
    flow_id: str
    state: str
    labels: dict[str, str] = Field(default_factory=dict)


class FlowTrigger(BaseTrigger):
    """Starts the flow when executions of other flows end."""

    type: Literal[
        "io.kestra.plugin.core.trigger.Flow",
        "io.kestra.core.models.triggers.types.Flow",
        "Flow",
    ]
    inputs: dict[str, Any] = Field(
        default_factory=dict,
        description="Inputs of the executions it starts, e.g. '{{ trigger.outputs.date }}'",
    )
    states: list[KestraState] = Field(
        default_factory=lambda: list(TERMINAL_OR_PAUSED),
        description="States of the upstream execution that are considered",
    )
    preconditions: Preconditions | None = None
    conditions: list[FlowCondition] = Field(default_factory=list)

    def matches(self, event: FlowEvent) -> bool:
        """Whether ``event`` satisfies this trigger on its own; preconditions over several
        flows are completed by the caller, who can look at past executions."""
        if event.state not in self.states:
            return False
        if not all(condition.matches(event) for condition in self.conditions):
            return False
        return self.preconditions is None or any(
            upstream.matches(event) for upstream in self.preconditions.flows
        )


Trigger = Annotated[
    ScheduleTrigger | WebhookTrigger | FlowTrigger,
    Field(discriminator="type"),
]
TRIGGER_MODELS: tuple[type[BaseTrigger], ...] = (ScheduleTrigger, WebhookTrigger, FlowTrigger)


def _type_names(models: Iterable[type[LanguageModel]]) -> set[str]:
    return {
        name
        for model in models
        for name in model.model_fields["type"].annotation.__args__  # type: ignore[union-attr]
    }


# pydantic names a discriminated union's branch in an error's location; users never wrote
# those, so flow.py leaves them out of the paths it reports.
TRIGGER_UNION_TAGS = frozenset(
    _type_names(
        (
            *TRIGGER_MODELS,
            ExecutionFlowCondition,
            ExecutionStatusCondition,
            ExecutionNamespaceCondition,
        )
    )
)


def union_kind(path: tuple[str | int, ...]) -> str:
    """What an unknown ``type`` at ``path`` was meant to name."""
    if "conditions" in path:
        return "condition"
    if path and path[0] == "triggers":
        return "trigger"
    return "task"


def _ids_are_unique(triggers: list[Any]) -> list[Any]:
    seen: set[str] = set()
    for trigger in triggers:
        if trigger.id in seen:
            raise ValueError(f"Trigger id '{trigger.id}' is used more than once")
        seen.add(trigger.id)
    return triggers


Triggers = Annotated[list[Trigger], AfterValidator(_ids_are_unique)]
