"""``{{ run.duration|duration }}`` and ``{{ run.started_at|epoch_ms }}``: durations as
the execution page writes them, and the instants its script counts from while a run
goes on."""

from __future__ import annotations

from datetime import datetime, timedelta

from django import template

from flowsite.values import format_duration

register = template.Library()


@register.filter
def duration(value: timedelta | float | None) -> str:
    if value is None or value == "":
        return ""
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    return format_duration(seconds)


@register.filter
def epoch_ms(value: datetime | None) -> str:
    """Milliseconds since 1970, for ``data-`` attributes: JavaScript's ``Date.now()``."""
    return "" if value is None else str(round(value.timestamp() * 1000))
