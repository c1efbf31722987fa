"""``{% may_write_flows user as may %}``: whether the header offers "New flow"."""

from __future__ import annotations

from typing import Any

from django import template

from accounts.permissions import writable_namespaces

register = template.Library()


@register.simple_tag
def may_write_flows(user: Any) -> bool:
    return bool(user.is_superuser or writable_namespaces(user))
