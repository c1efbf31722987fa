"""What conditions are tested against, and how they fail."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from pydantic import Field

from flows.expressions import render

from ..tasks import LanguageModel

TRIGGER_DATE = "{{ trigger.date }}"


class FlowEvent(LanguageModel):
    """An execution as conditions see it: the upstream one that changed state."""

    namespace: str
    flow_id: str
    state: str
    labels: dict[str, str] = Field(default_factory=dict)
    outputs: dict[str, Any] = Field(default_factory=dict)
    execution_id: str = ""


@dataclass(frozen=True)
class ConditionContext:
    """What a condition is tested against: the variables its expressions see, the
    execution it is about (if any), and the flow that declares it."""

    variables: Mapping[str, Any] = field(default_factory=dict)
    event: FlowEvent | None = None
    flow_namespace: str = ""
    flow_id: str = ""
    # MultipleCondition (conditions.py, which builds on this module): the triggers app
    # answers from its stored window; called with the condition and this context.
    multiple: Callable[[Any, ConditionContext], bool] | None = None

    def render(self, template: str) -> str:
        return render(template, self.variables)


class ConditionInvalid(ValueError):
    """A condition could not be decided (a date that is not one); the message says why."""


def instant(text: str) -> datetime:
    value = text.strip()
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        try:
            moment = datetime.combine(date.fromisoformat(value), time())
        except ValueError:
            raise ConditionInvalid(f"'{text}' is not an ISO-8601 date") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
