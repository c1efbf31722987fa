"""The Webhook trigger: a secret URL that starts the flow."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from ..tasks import NotSupportedYet
from .base import BaseTrigger


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
    conditions: NotSupportedYet = None
    when: NotSupportedYet = None
    wait: NotSupportedYet = None
    return_outputs: NotSupportedYet = None
    response_content_type: NotSupportedYet = None
    response_code: NotSupportedYet = None
    fetch_type: NotSupportedYet = None
