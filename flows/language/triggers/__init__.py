"""The triggers of Kestra's flow language: Schedule, Webhook and Flow, one typed model each.

As with tasks, each ``type`` Literal lists the Kestra name first, then the older Kestra
name and Flowsite's short alias. The models only describe and validate; the ``triggers``
app keeps their state (next date, enabled) and fires them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated

from pydantic import AfterValidator, Field

from ..tasks import LanguageModel
from ..values import type_names
from .base import TERMINAL_OR_PAUSED, BaseTrigger, KestraState
from .conditions import (
    CONDITION_MODELS,
    Condition,
    ConditionContext,
    ConditionInvalid,
    ExecutionFlowCondition,
    ExecutionNamespaceCondition,
    ExecutionStatusCondition,
    FlowEvent,
    MultipleCondition,
    TimeWindow,
    conditions_hold,
)
from .schedule import (
    CRON_NICKNAMES,
    ScheduleBackfill,
    ScheduleTrigger,
    cron_error,
    cron_slot_before,
    cron_slots,
)
from .upstream import FlowTrigger, Preconditions, UpstreamFlow
from .webhook import WebhookTrigger

__all__ = [
    "CRON_NICKNAMES",
    "TERMINAL_OR_PAUSED",
    "TRIGGER_MODELS",
    "TRIGGER_UNION_TAGS",
    "BaseTrigger",
    "Condition",
    "ConditionContext",
    "ConditionInvalid",
    "ExecutionFlowCondition",
    "ExecutionNamespaceCondition",
    "ExecutionStatusCondition",
    "FlowEvent",
    "FlowTrigger",
    "KestraState",
    "MultipleCondition",
    "Preconditions",
    "ScheduleBackfill",
    "ScheduleTrigger",
    "TimeWindow",
    "Trigger",
    "Triggers",
    "UpstreamFlow",
    "WebhookTrigger",
    "conditions_hold",
    "cron_error",
    "cron_slot_before",
    "cron_slots",
    "union_kind",
]

Trigger = Annotated[
    ScheduleTrigger | WebhookTrigger | FlowTrigger,
    Field(discriminator="type"),
]
TRIGGER_MODELS: tuple[type[BaseTrigger], ...] = (ScheduleTrigger, WebhookTrigger, FlowTrigger)


def _type_names(models: Iterable[type[LanguageModel]]) -> set[str]:
    return {name for model in models for name in type_names(model)}


# pydantic names a discriminated union's branch in an error's location; users never wrote
# those, so flow.py leaves them out of the paths it reports.
TRIGGER_UNION_TAGS = frozenset(_type_names((*TRIGGER_MODELS, *CONDITION_MODELS)))


def union_kind(path: tuple[str | int, ...]) -> str:
    """What an unknown ``type`` at ``path`` was meant to name."""
    if "conditions" in path:
        return "condition"
    if path and path[0] == "triggers":
        return "trigger"
    return "task"


def _ids_are_unique(triggers: list[BaseTrigger]) -> list[BaseTrigger]:
    seen: set[str] = set()
    for trigger in triggers:
        if trigger.id in seen:
            raise ValueError(f"Trigger id '{trigger.id}' is used more than once")
        seen.add(trigger.id)
    return triggers


Triggers = Annotated[list[Trigger], AfterValidator(_ids_are_unique)]
