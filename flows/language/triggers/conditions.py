"""Kestra's conditions: what a trigger (or a listener) asks before it starts anything.

Each type is one typed model with ``test(context)``. Date conditions (DayWeek, Weekend,
TimeBetween...) read ``date``, ``{{ trigger.date }}`` unless told otherwise, so they
work on a Schedule's slot and on anything whose variables hold a date. Execution
conditions (ExecutionFlow, ExecutionStatus, ExecutionLabels...) look at the execution
the context is about: the upstream one for a Flow trigger, the flow's own for a
listener. ``Not`` and ``Or`` hold other conditions. MultipleCondition is only a
declaration here: the triggers app keeps its window of results (it needs stored state).
"""

from __future__ import annotations

from datetime import time, timedelta
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator

from flows.expressions import render

from ..tasks import LanguageModel
from ..values import NAMESPACE_PATTERN, TASK_ID_PATTERN, Duration, labels_as_mapping
from .base import KestraState
from .condition_base import ConditionContext as ConditionContext
from .condition_base import ConditionInvalid as ConditionInvalid
from .condition_base import FlowEvent as FlowEvent
from .condition_dates import (
    DateTimeBetweenCondition,
    DayWeekCondition,
    DayWeekInMonthCondition,
    PublicHolidayCondition,
    TimeBetweenCondition,
    WeekendCondition,
)


class ExpressionCondition(LanguageModel):
    """An expression that must not render blank or ``false``."""

    type: Literal[
        "io.kestra.plugin.core.condition.Expression",
        "io.kestra.plugin.core.condition.ExpressionCondition",
        "io.kestra.core.models.conditions.types.VariableCondition",
        "io.kestra.core.models.conditions.types.ExpressionCondition",
    ]
    expression: str = Field(min_length=1)

    def test(self, context: ConditionContext) -> bool:
        rendered = context.render(self.expression).strip()
        return rendered not in ("", "false")


class ExecutionOutputsCondition(LanguageModel):
    """An expression over the upstream execution's outputs (``trigger.outputs``)."""

    type: Literal[
        "io.kestra.plugin.core.condition.ExecutionOutputs",
        "io.kestra.plugin.core.condition.ExecutionOutputsCondition",
        "io.kestra.core.models.conditions.types.ExecutionOutputsCondition",
    ]
    expression: str = Field(min_length=1)

    def test(self, context: ConditionContext) -> bool:
        if context.event is None or not context.event.outputs:
            return False
        trigger = {**dict(context.variables.get("trigger") or {}), "outputs": context.event.outputs}
        rendered = render(self.expression, {**context.variables, "trigger": trigger}).strip()
        return rendered not in ("", "false")


class ExecutionFlowCondition(LanguageModel):
    """The execution belongs to this flow."""

    type: Literal[
        "io.kestra.plugin.core.condition.ExecutionFlow",
        "io.kestra.plugin.core.condition.ExecutionFlowCondition",
        "io.kestra.core.models.conditions.types.ExecutionFlowCondition",
    ]
    namespace: str = Field(pattern=NAMESPACE_PATTERN)
    flow_id: str

    def matches(self, event: FlowEvent) -> bool:
        return event.namespace == self.namespace and event.flow_id == self.flow_id

    def test(self, context: ConditionContext) -> bool:
        return context.event is not None and self.matches(context.event)


class ExecutionStatusCondition(LanguageModel):
    """The execution's state is in ``in`` and not in ``notIn``."""

    type: Literal[
        "io.kestra.plugin.core.condition.ExecutionStatus",
        "io.kestra.plugin.core.condition.ExecutionStatusCondition",
        "io.kestra.core.models.conditions.types.ExecutionStatusCondition",
    ]
    in_: list[KestraState] = Field(default_factory=list, alias="in")
    not_in: list[KestraState] = Field(default_factory=list)

    def matches(self, event: FlowEvent) -> bool:
        return (not self.in_ or event.state in self.in_) and event.state not in self.not_in

    def test(self, context: ConditionContext) -> bool:
        return context.event is not None and self.matches(context.event)


class ExecutionNamespaceCondition(LanguageModel):
    """The execution's namespace equals, starts or ends with ``namespace``."""

    type: Literal[
        "io.kestra.plugin.core.condition.ExecutionNamespace",
        "io.kestra.plugin.core.condition.ExecutionNamespaceCondition",
        "io.kestra.core.models.conditions.types.ExecutionNamespaceCondition",
    ]
    namespace: str
    comparison: Literal["EQUALS", "PREFIX", "SUFFIX"] | None = None
    prefix: bool = Field(False, description="Older form of comparison: PREFIX")

    @property
    def how(self) -> str:
        return self.comparison or ("PREFIX" if self.prefix else "EQUALS")

    def matches(self, event: FlowEvent) -> bool:
        if self.how == "PREFIX":
            return event.namespace.startswith(self.namespace)
        if self.how == "SUFFIX":
            return event.namespace.endswith(self.namespace)
        return event.namespace == self.namespace

    def test(self, context: ConditionContext) -> bool:
        return context.event is not None and self.matches(context.event)


class ExecutionLabelsCondition(LanguageModel):
    """The execution carries every one of these labels."""

    type: Literal[
        "io.kestra.plugin.core.condition.ExecutionLabels",
        "io.kestra.plugin.core.condition.ExecutionLabelsCondition",
        "io.kestra.core.models.conditions.types.ExecutionLabelsCondition",
    ]
    labels: dict[str, str] = Field(min_length=1)

    _as_mapping = field_validator("labels", mode="before")(labels_as_mapping)

    def test(self, context: ConditionContext) -> bool:
        event = context.event
        return event is not None and all(event.labels.get(k) == v for k, v in self.labels.items())


class FlowOwnCondition(LanguageModel):
    """The flow that declares the condition is this one (listeners use it)."""

    type: Literal[
        "io.kestra.plugin.core.condition.FlowCondition",
        "io.kestra.core.models.conditions.types.FlowCondition",
    ]
    namespace: str
    flow_id: str

    def test(self, context: ConditionContext) -> bool:
        return (context.flow_namespace, context.flow_id) == (self.namespace, self.flow_id)


class FlowNamespaceOwnCondition(LanguageModel):
    """The namespace of the flow that declares the condition is this one (or starts so)."""

    type: Literal[
        "io.kestra.plugin.core.condition.FlowNamespaceCondition",
        "io.kestra.core.models.conditions.types.FlowNamespaceCondition",
    ]
    namespace: str
    prefix: bool = False

    def test(self, context: ConditionContext) -> bool:
        if self.prefix:
            return context.flow_namespace.startswith(self.namespace)
        return context.flow_namespace == self.namespace


class NotCondition(LanguageModel):
    """True when none of its conditions is."""

    type: Literal[
        "io.kestra.plugin.core.condition.Not",
        "io.kestra.plugin.core.condition.NotCondition",
        "io.kestra.core.models.conditions.types.NotCondition",
    ]
    conditions: list[Condition] = Field(min_length=1)

    def test(self, context: ConditionContext) -> bool:
        return not any(condition.test(context) for condition in self.conditions)


class OrCondition(LanguageModel):
    """True when any of its conditions is."""

    type: Literal[
        "io.kestra.plugin.core.condition.Or",
        "io.kestra.plugin.core.condition.OrCondition",
        "io.kestra.core.models.conditions.types.OrCondition",
    ]
    conditions: list[Condition] = Field(min_length=1)

    def test(self, context: ConditionContext) -> bool:
        return any(condition.test(context) for condition in self.conditions)


class TimeWindow(LanguageModel):
    """Kestra's ``timeWindow`` of MultipleCondition and preconditions."""

    type: Literal[
        "DURATION_WINDOW", "SLIDING_WINDOW", "DAILY_TIME_DEADLINE", "DAILY_TIME_WINDOW"
    ] = "DURATION_WINDOW"
    window: Duration | None = None
    window_advance: Duration | None = None
    deadline: time | None = None
    start_time: time | None = None
    end_time: time | None = None


class MultipleCondition(LanguageModel):
    """Several conditions, each met by some execution, all within one time window."""

    type: Literal[
        "io.kestra.plugin.core.condition.MultipleCondition",
        "io.kestra.core.models.conditions.types.MultipleCondition",
    ]
    id: str = Field(pattern=TASK_ID_PATTERN, description="Names the stored window")
    conditions: dict[str, Condition] = Field(min_length=1)
    time_window: TimeWindow | None = None
    window: Duration | None = Field(None, description="Older form of timeWindow.window")
    window_advance: Duration | None = Field(None, description="Older timeWindow.windowAdvance")
    reset_on_success: bool = True

    @property
    def effective_window(self) -> TimeWindow:
        declared = self.time_window or TimeWindow()
        return declared.model_copy(
            update={
                "window": declared.window or self.window or timedelta(days=1),
                "window_advance": declared.window_advance or self.window_advance,
            }
        )

    def test(self, context: ConditionContext) -> bool:
        if context.multiple is None:
            raise ConditionInvalid("MultipleCondition is only decided by a Flow trigger")
        return context.multiple(self, context)


SINGLE_CONDITION_MODELS: tuple[type[LanguageModel], ...] = (
    DayWeekCondition,
    DayWeekInMonthCondition,
    WeekendCondition,
    DateTimeBetweenCondition,
    TimeBetweenCondition,
    PublicHolidayCondition,
    ExpressionCondition,
    ExecutionOutputsCondition,
    ExecutionFlowCondition,
    ExecutionStatusCondition,
    ExecutionNamespaceCondition,
    ExecutionLabelsCondition,
    FlowOwnCondition,
    FlowNamespaceOwnCondition,
    NotCondition,
    OrCondition,
)
CONDITION_MODELS: tuple[type[LanguageModel], ...] = (*SINGLE_CONDITION_MODELS, MultipleCondition)

Condition = Annotated[
    DayWeekCondition
    | DayWeekInMonthCondition
    | WeekendCondition
    | DateTimeBetweenCondition
    | TimeBetweenCondition
    | PublicHolidayCondition
    | ExpressionCondition
    | ExecutionOutputsCondition
    | ExecutionFlowCondition
    | ExecutionStatusCondition
    | ExecutionNamespaceCondition
    | ExecutionLabelsCondition
    | FlowOwnCondition
    | FlowNamespaceOwnCondition
    | NotCondition
    | OrCondition
    | MultipleCondition,
    Field(discriminator="type"),
]

for _model in CONDITION_MODELS:
    _model.model_rebuild()


def conditions_hold(conditions: list[Any], context: ConditionContext) -> bool:
    """Every condition holds (Kestra's list is an AND). A condition that cannot be decided
    raises ConditionInvalid, for the caller to report."""
    try:
        return all(condition.test(context) for condition in conditions)
    except ConditionInvalid:
        raise
    except Exception as exc:  # an expression that failed: named as Kestra would
        raise ConditionInvalid(str(exc)) from exc
