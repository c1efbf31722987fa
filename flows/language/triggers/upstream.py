"""The Flow trigger: starts a flow when executions of other flows end, with its conditions."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from ..tasks import LanguageModel, NotSupportedYet
from ..values import NAMESPACE_PATTERN
from .base import TERMINAL_OR_PAUSED, BaseTrigger, KestraState


class FlowEvent(LanguageModel):
    """An execution that just ended, as Flow triggers see it."""

    namespace: str
    flow_id: str
    state: str
    labels: dict[str, str] = Field(default_factory=dict)


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


CONDITION_MODELS: tuple[type[LanguageModel], ...] = (
    ExecutionFlowCondition,
    ExecutionStatusCondition,
    ExecutionNamespaceCondition,
)
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


class FlowTrigger(BaseTrigger):
    """Starts the flow when executions of other flows end."""

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
