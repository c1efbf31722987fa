"""``{% overview namespace=... flow=... %}``: the dashboard's overview of one namespace
(with its children) or one flow, as Kestra's namespace and flow Overview tabs."""

from __future__ import annotations

from typing import Any

from django import template

from dashboard.overview import overview_context, period_read
from dashboard.stats import Scope

register = template.Library()


@register.inclusion_tag("dashboard/_scoped.html", takes_context=True)
def overview(context: template.Context, namespace: str, flow: str = "") -> dict[str, Any]:
    request = context["request"]
    period, problems = period_read(request.GET)
    return {
        **overview_context(user=request.user, scope=Scope(namespace, flow), period=period),
        "problems": problems,
        # Beside the editor it starts folded, its summary in one line; asked for, open.
        "folded": bool(flow) and "period" not in request.GET,
    }
