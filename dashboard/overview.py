"""The overview's parameters and context, shared by the dashboard page and the
``{% overview %}`` tag that the namespace and flow pages include."""

from __future__ import annotations

from typing import Any

from django.http import QueryDict

from flowsite.http import RequestUser

from .chart import chart_draw
from .stats import DEFAULT_PERIOD, PERIODS, Period, Scope, overview_build


def period_read(params: QueryDict) -> tuple[Period, list[str]]:
    """The period asked for, or the default with a message saying why."""
    key = params.get("period", "").strip()
    if not key:
        return DEFAULT_PERIOD, []
    if key in PERIODS:
        return PERIODS[key], []
    known = ", ".join(PERIODS)
    return DEFAULT_PERIOD, [
        f"Unknown period '{key[:40]}' (one of {known}): showing the {DEFAULT_PERIOD.label.lower()}."
    ]


def overview_context(*, user: RequestUser, scope: Scope, period: Period) -> dict[str, Any]:
    overview = overview_build(user=user, scope=scope, period=period)
    return {
        "overview": overview,
        "chart": chart_draw(overview.buckets, period),
        "periods": list(PERIODS.values()),
        "scope": scope,
    }
