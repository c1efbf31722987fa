"""The Flow trigger: starts a flow when executions of other flows change state, with its
conditions."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from ..tasks import LanguageModel, NotSupportedYet
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


class Preconditions(LanguageModel):
    """Kestra's newer form: every listed flow must have changed state as asked, within the
    time window (a day by default)."""

    id: str | None = None
    flows: list[UpstreamFlow] = Field(default_factory=list)
    where: NotSupportedYet = None
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
        return (
            self.preconditions is None
            or not self.preconditions.flows
            or any(upstream.matches(event) for upstream in self.preconditions.flows)
        )
