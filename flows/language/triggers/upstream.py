"""The Flow trigger: starts a flow when executions of other flows change state, with its
conditions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from pydantic import Field, model_validator

from flows.expressions import is_truthy
from flowsite.patterns import PatternError, pattern_fullmatch, user_pattern

from ..tasks import LanguageModel
from ..values import NAMESPACE_PATTERN
from .base import TERMINAL_OR_PAUSED, BaseTrigger, KestraState
from .conditions import (
    Condition,
    ConditionContext,
    FlowEvent,
    MultipleCondition,
    TimeWindow,
    conditions_hold,
)


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


class WhereFilter(LanguageModel):
    """One test of a ``where`` entry on the upstream execution's flow id, namespace,
    state, or an expression rendered with its variables."""

    field: Literal["FLOW_ID", "NAMESPACE", "STATE", "EXPRESSION"]
    type: Literal[
        "EQUAL_TO",
        "NOT_EQUAL_TO",
        "IN",
        "NOT_IN",
        "IS_TRUE",
        "IS_FALSE",
        "IS_NULL",
        "IS_NOT_NULL",
        "STARTS_WITH",
        "ENDS_WITH",
        "REGEX",
        "CONTAINS",
    ]
    value: str | None = None
    values: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _pattern_compiles(self) -> WhereFilter:
        if self.type == "REGEX":
            try:
                user_pattern(self.value or "")
            except PatternError as exc:
                raise ValueError(f"Invalid REGEX filter: {exc}") from None
        return self

    def holds(self, context: ConditionContext) -> bool:
        event = context.event
        if event is None:
            return False
        seen: str | None = {
            "FLOW_ID": event.flow_id,
            "NAMESPACE": event.namespace,
            "STATE": event.state,
        }.get(self.field)
        if self.field == "EXPRESSION":
            seen = context.render(self.value or "")
        wanted = self.value or ""
        tests: dict[str, Callable[[str | None], bool]] = {
            "EQUAL_TO": lambda v: v == wanted,
            "NOT_EQUAL_TO": lambda v: v != wanted,
            "IN": lambda v: v in self.values,
            "NOT_IN": lambda v: v not in self.values,
            "IS_TRUE": lambda v: v is not None and is_truthy(v),
            "IS_FALSE": lambda v: v is None or not is_truthy(v),
            "IS_NULL": lambda v: v is None,
            "IS_NOT_NULL": lambda v: v is not None,
            "STARTS_WITH": lambda v: v is not None and v.startswith(wanted),
            "ENDS_WITH": lambda v: v is not None and v.endswith(wanted),
            "REGEX": lambda v: v is not None and pattern_fullmatch(wanted, v),
            "CONTAINS": lambda v: v is not None and wanted in v,
        }
        return tests[self.type](seen)


class WhereEntry(LanguageModel):
    """One entry of ``preconditions.where``: some execution in the window passes its filters."""

    id: str = Field(min_length=1)
    operand: Literal["AND", "OR"] = "AND"
    filters: list[WhereFilter] = Field(min_length=1)

    def holds(self, context: ConditionContext) -> bool:
        results = (f.holds(context) for f in self.filters)
        return any(results) if self.operand == "OR" else all(results)


class Preconditions(LanguageModel):
    """Kestra's newer form: every listed flow must have changed state as asked, within the
    time window (a day by default)."""

    id: str | None = None
    flows: list[UpstreamFlow] = Field(default_factory=list)
    where: list[WhereEntry] = Field(default_factory=list)
    time_window: TimeWindow | None = None
    reset_on_success: bool = True


class FlowTrigger(BaseTrigger):
    """Starts the flow when executions of other flows end (or enter the listed states)."""

    type: Literal[
        "io.kestra.plugin.core.trigger.Flow",
        "io.kestra.core.models.triggers.types.Flow",
        "Flow",
    ]
    # Any: input values as YAML wrote them, or expressions rendered from the upstream run.
    inputs: dict[str, Any] = Field(
        default_factory=dict,
        description="Inputs of the executions it starts, e.g. '{{ trigger.outputs.date }}'",
    )
    states: list[KestraState] = Field(
        default_factory=lambda: list(TERMINAL_OR_PAUSED),
        description="States of the upstream execution that are considered, as it enters them",
    )
    preconditions: Preconditions | None = None
    conditions: list[Condition] = Field(default_factory=list)

    @property
    def simple_conditions(self) -> list[Any]:
        return [c for c in self.conditions if not isinstance(c, MultipleCondition)]

    @property
    def multiple_conditions(self) -> list[MultipleCondition]:
        return [c for c in self.conditions if isinstance(c, MultipleCondition)]

    def matches(self, event: FlowEvent, context: ConditionContext | None = None) -> bool:
        """Whether ``event`` satisfies this trigger's states, its plain conditions and (one
        of) its preconditions' flows. MultipleConditions and preconditions over several
        flows are completed by the caller, who keeps their windows."""
        if event.state not in self.states:
            return False
        context = context or ConditionContext(event=event)
        if not conditions_hold(self.simple_conditions, context):
            return False
        preconditions = self.preconditions
        return (
            preconditions is None
            or not preconditions.flows
            or bool(preconditions.where)  # the window tells which entries it meets
            or any(upstream.matches(event) for upstream in preconditions.flows)
        )
