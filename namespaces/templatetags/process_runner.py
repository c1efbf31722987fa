"""``{% process_runner_switch namespace %}``: the Process runner's part of the Access page,
kept out of the page's own view (namespaces/process_views.py renders it alone too)."""

from __future__ import annotations

from typing import Any

from django import template

from namespaces.process_views import process_runner_context

register = template.Library()


@register.inclusion_tag("namespaces/_process_runner.html", takes_context=True)
def process_runner_switch(context: template.Context, namespace: str) -> dict[str, Any]:
    request = context["request"]
    return {
        **process_runner_context(request.user, namespace),
        "csrf_token": context.get("csrf_token"),
    }
