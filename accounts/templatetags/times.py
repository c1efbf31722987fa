"""``{{ moment|when }}``: a time as people read it, in the reader's time zone, named.

The active time zone is the reader's (set per request); the rendered ``<time>`` keeps
the exact instant in ``datetime`` so scripts and tests can read it back.
"""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()


@register.filter
def when(moment: datetime | None, precision: str = "seconds") -> SafeString | str:
    """``2026-11-30 09:00:00 CET``; ``precision`` "minutes" drops the seconds."""
    if moment is None:
        return ""
    local = timezone.localtime(moment)
    shown = local.strftime("%Y-%m-%d %H:%M" if precision == "minutes" else "%Y-%m-%d %H:%M:%S")
    return format_html(
        '<time datetime="{}" title="{}">{} <span class="tz">{}</span></time>',
        moment.isoformat(),
        timezone.get_current_timezone_name(),
        shown,
        local.tzname() or timezone.get_current_timezone_name(),
    )
