"""``{% flow_triggers flow %}``: the flow page's Triggers section, rendered in place."""

from __future__ import annotations

from typing import Any

from django import template

from flows.models import Flow
from triggers.views import triggers_context

register = template.Library()


@register.inclusion_tag("triggers/_triggers.html", takes_context=True)
def flow_triggers(context: template.Context, flow: Flow) -> dict[str, Any]:
    request = context["request"]
    return {**triggers_context(flow, request.user), "csrf_token": context.get("csrf_token")}
