"""The environments the page and the API list, in one order for both."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import F, QuerySet

from .models import PythonEnvironment

State = PythonEnvironment.State
LIVE = (State.READY, State.BUILDING)


def environments_in(states: Iterable[str]) -> QuerySet[PythonEnvironment]:
    """The environments in ``states``, the most recently used first and the never used
    (still building, or failed) last, on PostgreSQL as on SQLite."""
    return PythonEnvironment.objects.filter(state__in=list(states)).order_by(
        F("last_used_at").desc(nulls_last=True), F("created_at").desc()
    )
