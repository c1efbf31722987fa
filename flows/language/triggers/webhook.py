"""The Webhook trigger: a secret URL that starts the flow."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from ..tasks import NotSupportedYet
from .base import BaseTrigger
from .conditions import Condition, MultipleCondition


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
    # Any: input values as YAML wrote them, or expressions rendered from the request.
    inputs: dict[str, Any] = Field(
        default_factory=dict, description="Inputs of the executions it starts"
    )
    conditions: list[Condition] = Field(
        default_factory=list,
        description="The call starts an execution only when all of these hold (else 204)",
    )
    when: NotSupportedYet = None
    wait: NotSupportedYet = None
    return_outputs: NotSupportedYet = None
    response_content_type: NotSupportedYet = None
    response_code: NotSupportedYet = None
    fetch_type: NotSupportedYet = None

    @field_validator("conditions")
    @classmethod
    def _no_multiple(cls, value: list[Any]) -> list[Any]:
        if any(isinstance(c, MultipleCondition) for c in value):
            raise ValueError("MultipleCondition belongs to a Flow trigger, not a Webhook")
        return value
