"""Environments leave in two steps: marked RETIRED here (by Remove, eviction or a newer
build), then their files removed by a worker of their engine or host (sweep.py), which is
the only process sure to reach them. A retired environment serves no new run at once."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Sum

from .models import PythonEnvironment

State = PythonEnvironment.State


def environment_retire(environment: PythonEnvironment) -> bool:
    """Retire one environment; False when it was not live (already retired, or failed)."""
    retired = PythonEnvironment.objects.filter(
        pk=environment.pk, state__in=[State.READY, State.BUILDING]
    ).update(state=State.RETIRED)
    return bool(retired)


def environments_over_cap(place: str, *, keep: int | None = None) -> list[PythonEnvironment]:
    """The least recently used READY environments of ``place`` to retire so that the rest
    fit under FLOWSITE_PYTHON_ENV_CACHE_BYTES (never ``keep``, the one just built)."""
    cap = settings.FLOWSITE_PYTHON_ENV_CACHE_BYTES
    ready = PythonEnvironment.objects.filter(place=place, state=State.READY)
    total = ready.aggregate(total=Sum("size_bytes"))["total"] or 0
    if not cap or total <= cap:
        return []
    candidates = ready if keep is None else ready.exclude(pk=keep)
    chosen = []
    for environment in candidates.order_by("last_used_at", "created_at"):
        if total <= cap:
            break
        chosen.append(environment)
        total -= environment.size_bytes
    return chosen
